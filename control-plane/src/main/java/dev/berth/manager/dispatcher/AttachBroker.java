package dev.berth.manager.dispatcher;

import dev.berth.api.v1.ExecAgentOutput;
import dev.berth.api.v1.ExecInput;
import dev.berth.api.v1.ExecOutput;
import dev.berth.api.v1.ExecRequest;
import dev.berth.api.v1.LogChunk;
import dev.berth.api.v1.LogPublish;
import dev.berth.api.v1.LogPublishAck;
import dev.berth.api.v1.LogRequest;
import dev.berth.api.v1.ManagerMessage;
import dev.berth.api.v1.Task;
import dev.berth.manager.api.AgentStreams;
import dev.berth.manager.orchestrator.IdGenerator;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Logs and exec on the leader, in the manner of swarmkit's LogBroker: a request goes to each agent concerned
 * over its Session ({@code LogRequest} / {@code ExecRequest} with a fresh request id); the agent opens
 * {@code PublishLogs} / {@code ExecStream} back, naming the id, and this joins that call to the caller's
 * ({@link LogFanIn}, {@link ExecLink}). A node without a session gets a note at once; one that does not
 * open its call within the attach timeout gets a note (logs) or an UNAVAILABLE naming it (exec), so nothing
 * waits forever on a dead node. Ending either side ends the other.
 *
 * <p>Thread model: thread-safe; gRPC threads of callers and agents plus one timer thread.
 */
final class AttachBroker implements AgentStreams {
  private record PendingLogs(String nodeId, LogFanIn fanIn) {}

  private final Function<String, Optional<AgentSession>> sessions;
  private final BooleanSupplier leading;
  private final IdGenerator ids;
  private final ScheduledExecutorService timer;
  private final Duration attachTimeout;
  private final Map<String, PendingLogs> pendingLogs = new ConcurrentHashMap<>();
  private final Map<String, ExecLink> pendingExecs = new ConcurrentHashMap<>();

  AttachBroker(Function<String, Optional<AgentSession>> sessions, BooleanSupplier leading, IdGenerator ids,
      ScheduledExecutorService timer, Duration attachTimeout) {
    this.sessions = sessions;
    this.leading = leading;
    this.ids = ids;
    this.timer = timer;
    this.attachTimeout = attachTimeout;
  }

  /** Ends an agent's call from the manager's side (the agent then stops); harmless if already ended. */
  static <T> void finish(StreamObserver<T> call) {
    finish(call, null);
  }

  /** {@link #finish} with a last message first (a client-streaming call needs its one response). */
  static <T> void finish(StreamObserver<T> call, T last) {
    try {
      if (last != null) {
        call.onNext(last);
      }
      call.onCompleted();
    } catch (RuntimeException alreadyEnded) {
      // the agent's call ended by itself meanwhile
    }
  }

  @Override
  public boolean serving() {
    return leading.getAsBoolean();
  }

  // ---------------------------------------------------------------- logs

  @Override
  public void logs(List<Task> tasks, boolean follow, OptionalLong tail, ServerCallStreamObserver<LogChunk> out) {
    Map<String, Task> byId = new LinkedHashMap<>();
    tasks.forEach(t -> byId.put(t.getMeta().getId(), t));
    Map<String, List<String>> byNode = tasks.stream().collect(Collectors.groupingBy(Task::getNodeId,
        LinkedHashMap::new, Collectors.mapping(t -> t.getMeta().getId(), Collectors.toList())));
    LogFanIn fanIn = new LogFanIn(out, byId, Set.copyOf(byNode.keySet()), follow);
    out.setOnCancelHandler(fanIn::cancel);
    if (byNode.isEmpty()) {
      fanIn.nodeDone("", null);
      return;
    }
    byNode.forEach((nodeId, taskIds) -> {
      Optional<AgentSession> session = sessions.apply(nodeId);
      if (session.isEmpty()) {
        fanIn.nodeDone(nodeId, "node " + nodeId + " is not connected (down or restarting): no logs from it");
        return;
      }
      String requestId = ids.next();
      pendingLogs.put(requestId, new PendingLogs(nodeId, fanIn));
      LogRequest.Builder req = LogRequest.newBuilder().setRequestId(requestId).addAllTaskIds(taskIds).setFollow(follow);
      tail.ifPresent(req::setTail);
      if (!send(session.get(), ManagerMessage.newBuilder().setLogRequest(req).build())) {
        pendingLogs.remove(requestId);
        fanIn.nodeDone(nodeId, "node " + nodeId + " is not connected (its session just closed): no logs from it");
        return;
      }
      timer.schedule(() -> {
        if (pendingLogs.remove(requestId) != null) {
          fanIn.nodeDone(nodeId, "node " + nodeId + " did not answer within " + attachTimeout.toMillis() + " ms");
        }
      }, attachTimeout.toMillis(), TimeUnit.MILLISECONDS);
    });
  }

  private static boolean send(AgentSession session, ManagerMessage m) {
    try {
      session.send(m);
      return true;
    } catch (RuntimeException closed) {
      return false;
    }
  }

  /** The agent's side of a logs request: {@code PublishLogs}. */
  StreamObserver<LogPublish> publishLogs(StreamObserver<LogPublishAck> ack) {
    return new StreamObserver<>() {
      private PendingLogs request;

      @Override
      public void onNext(LogPublish m) {
        if (request == null) {
          request = pendingLogs.remove(m.getRequestId());
          if (request == null) {
            ack.onError(Status.NOT_FOUND.withDescription("no log request " + m.getRequestId()
                + " (its caller went away or it timed out)").asRuntimeException());
            return;
          }
          if (!request.fanIn().attach(ack)) {
            finish(ack, LogPublishAck.getDefaultInstance());
            return;
          }
        }
        m.getChunksList().forEach(request.fanIn()::emit);
      }

      @Override
      public void onError(Throwable t) {
        if (request != null) {
          request.fanIn().detach(ack);
          if (!request.fanIn().ended()) {
            request.fanIn().nodeDone(request.nodeId(), "node " + request.nodeId() + ": log stream ended: "
                + Status.fromThrowable(t).getCode());
          }
        }
      }

      @Override
      public void onCompleted() {
        if (request != null && request.fanIn().detach(ack)) {
          request.fanIn().nodeDone(request.nodeId(), null);
          finish(ack, LogPublishAck.getDefaultInstance());
        }
      }
    };
  }

  // ---------------------------------------------------------------- exec

  @Override
  public StreamObserver<ExecInput> exec(Task task, List<String> argv, ServerCallStreamObserver<ExecOutput> out) {
    String taskId = task.getMeta().getId();
    ExecLink link = new ExecLink(taskId, task.getNodeId(), out);
    Optional<AgentSession> session = sessions.apply(task.getNodeId());
    if (session.isEmpty()) {
      link.fail(Status.UNAVAILABLE.withDescription("task " + taskId + ": its node " + task.getNodeId()
          + " is not connected (down or restarting)"));
      return link;
    }
    String requestId = ids.next();
    pendingExecs.put(requestId, link);
    if (!send(session.get(), ManagerMessage.newBuilder().setExecRequest(ExecRequest.newBuilder()
        .setRequestId(requestId).setTaskId(taskId).addAllArgv(argv)).build())) {
      pendingExecs.remove(requestId);
      link.fail(Status.UNAVAILABLE.withDescription("task " + taskId + ": the session of node " + task.getNodeId()
          + " just closed"));
      return link;
    }
    timer.schedule(() -> {
      if (pendingExecs.remove(requestId) != null) {
        link.fail(Status.UNAVAILABLE.withDescription("task " + taskId + ": node " + task.getNodeId()
            + " did not start the command within " + attachTimeout.toMillis() + " ms"));
      }
    }, attachTimeout.toMillis(), TimeUnit.MILLISECONDS);
    return link;
  }

  /** The agent's side of an exec: {@code ExecStream}. */
  StreamObserver<ExecAgentOutput> execStream(StreamObserver<ExecInput> toAgent) {
    return new StreamObserver<>() {
      private ExecLink link;

      @Override
      public void onNext(ExecAgentOutput m) {
        if (link == null) {
          link = pendingExecs.remove(m.getRequestId());
          if (link == null) {
            toAgent.onError(Status.NOT_FOUND.withDescription("no exec request " + m.getRequestId()
                + " (its caller went away or it timed out)").asRuntimeException());
            return;
          }
          if (!m.getError().isEmpty()) {
            link.fail(Status.FAILED_PRECONDITION.withDescription(m.getError()));
            finish(toAgent);
            return;
          }
          if (!link.attach(toAgent)) {
            finish(toAgent);
            return;
          }
        }
        if (m.hasOutput()) {
          link.output(m.getOutput());
        }
      }

      @Override
      public void onError(Throwable t) {
        if (link != null) {
          link.fail(Status.UNAVAILABLE.withDescription("task " + link.taskId() + ": the exec stream from node "
              + link.nodeId() + " broke: " + Status.fromThrowable(t).getCode()));
        }
      }

      @Override
      public void onCompleted() {
        if (link != null) {
          link.fail(Status.UNAVAILABLE.withDescription("task " + link.taskId() + ": node " + link.nodeId()
              + " ended the exec without an exit code"));
        }
      }
    };
  }
}
