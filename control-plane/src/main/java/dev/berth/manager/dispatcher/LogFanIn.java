package dev.berth.manager.dispatcher;

import dev.berth.api.v1.LogChunk;
import dev.berth.api.v1.LogPublishAck;
import dev.berth.api.v1.Task;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One caller's {@code ServiceLogs}: merges the lines the agents publish (adding node id and slot), notes for
 * tasks whose logs cannot be had, and ends the caller's stream when every node is done (without follow). When
 * the caller cancels, every agent's {@code PublishLogs} call is ended, which makes the agent stop reading.
 *
 * <p>Thread model: synchronized; called from gRPC threads of the caller and of every agent, and the timeout
 * thread.
 */
final class LogFanIn {
  private final ServerCallStreamObserver<LogChunk> out;
  private final Map<String, Task> tasks;
  private final boolean follow;
  private final Set<String> pendingNodes = new HashSet<>();
  private final List<StreamObserver<LogPublishAck>> agentCalls = new ArrayList<>();
  private boolean ended;

  LogFanIn(ServerCallStreamObserver<LogChunk> out, Map<String, Task> tasks, Set<String> nodes, boolean follow) {
    this.out = out;
    this.tasks = tasks;
    this.follow = follow;
    this.pendingNodes.addAll(nodes);
  }

  /** A line from an agent (task id, stream, time, text), or a note when {@code note} is set. */
  synchronized void emit(LogChunk chunk) {
    if (ended) {
      return;
    }
    LogChunk.Builder b = chunk.toBuilder();
    Task t = tasks.get(chunk.getTaskId());
    if (t != null) {
      b.setNodeId(t.getNodeId()).setSlot(t.getSlot());
    }
    try {
      out.onNext(b.build());
    } catch (RuntimeException cancelled) {
      cancel();
    }
  }

  synchronized void note(String taskId, String note) {
    emit(LogChunk.newBuilder().setTaskId(taskId).setNote(note).build());
  }

  /** Notes {@code note} for every task of the node (when set) and counts the node as finished. */
  synchronized void nodeDone(String nodeId, String note) {
    if (note != null) {
      tasks.values().stream().filter(t -> t.getNodeId().equals(nodeId)).forEach(t -> note(t.getMeta().getId(), note));
    }
    pendingNodes.remove(nodeId);
    if (pendingNodes.isEmpty() && !follow && !ended) {
      ended = true;
      try {
        out.onCompleted();
      } catch (RuntimeException cancelled) {
        // the caller went away meanwhile
      }
    }
  }

  /** An agent's PublishLogs call feeding this request; ended at once if the request has ended. */
  synchronized boolean attach(StreamObserver<LogPublishAck> agentCall) {
    if (ended) {
      return false;
    }
    agentCalls.add(agentCall);
    return true;
  }

  /** The agent finished its call itself: it must not be ended again. */
  synchronized boolean detach(StreamObserver<LogPublishAck> agentCall) {
    return agentCalls.remove(agentCall);
  }

  synchronized boolean ended() {
    return ended;
  }

  /** The caller went away: end every agent call so the agents stop reading. */
  synchronized void cancel() {
    ended = true;
    for (StreamObserver<LogPublishAck> call : agentCalls) {
      AttachBroker.finish(call, LogPublishAck.getDefaultInstance());
    }
    agentCalls.clear();
  }
}
