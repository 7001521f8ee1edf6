package dev.berth.manager.dispatcher;

import dev.berth.api.v1.ExecInput;
import dev.berth.api.v1.ExecOutput;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;

/**
 * One caller's {@code Exec}, joined to the agent's {@code ExecStream} once the agent opens it: the caller's
 * input (buffered until then) goes to the agent, the agent's output to the caller, and whichever side ends
 * first ends the other (a caller that goes away kills the command on the agent).
 *
 * <p>Thread model: synchronized; called from the caller's and the agent's gRPC threads and the timeout thread.
 */
final class ExecLink implements StreamObserver<ExecInput> {
  private final String taskId;
  private final String nodeId;
  private final ServerCallStreamObserver<ExecOutput> caller;
  private final List<ExecInput> buffered = new ArrayList<>();
  private StreamObserver<ExecInput> agent;
  private boolean ended;

  ExecLink(String taskId, String nodeId, ServerCallStreamObserver<ExecOutput> caller) {
    this.taskId = taskId;
    this.nodeId = nodeId;
    this.caller = caller;
  }

  // ---------------------------------------------------------------- from the caller

  @Override
  public synchronized void onNext(ExecInput in) {
    if (ended || in.getMsgCase() == ExecInput.MsgCase.START) {
      return;
    }
    if (agent == null) {
      buffered.add(in);
    } else {
      agent.onNext(in);
    }
  }

  /** The caller half-closed: it sends no more input, so the command's stdin ends. */
  @Override
  public synchronized void onCompleted() {
    onNext(ExecInput.newBuilder().setCloseStdin(true).build());
  }

  @Override
  public synchronized void onError(Throwable t) {
    callerGone();
  }

  synchronized void callerGone() {
    if (!ended) {
      ended = true;
      if (agent != null) {
        AttachBroker.finish(agent);
      }
    }
  }

  // ---------------------------------------------------------------- from the agent

  /** The agent opened its ExecStream: send it what the caller typed meanwhile. False if the caller has left. */
  synchronized boolean attach(StreamObserver<ExecInput> agentCall) {
    if (ended) {
      return false;
    }
    agent = agentCall;
    buffered.forEach(agentCall::onNext);
    buffered.clear();
    try {
      caller.onNext(ExecOutput.getDefaultInstance()); // "started": the caller may send stdin now
    } catch (RuntimeException cancelled) {
      callerGone();
      return false;
    }
    return true;
  }

  synchronized void output(ExecOutput out) {
    if (ended) {
      return;
    }
    try {
      caller.onNext(out);
      if (out.getExited()) {
        ended = true;
        caller.onCompleted();
        AttachBroker.finish(agent);
      }
    } catch (RuntimeException cancelled) {
      callerGone();
    }
  }

  /** Ends the caller's call with {@code status} (the agent could not run the command, or went away). */
  synchronized void fail(Status status) {
    if (ended) {
      return;
    }
    ended = true;
    try {
      caller.onError(status.asRuntimeException());
    } catch (RuntimeException cancelled) {
      // the caller went away meanwhile
    }
    if (agent != null) {
      AttachBroker.finish(agent);
    }
  }

  String taskId() {
    return taskId;
  }

  String nodeId() {
    return nodeId;
  }
}
