package dev.berth.manager.api;

import dev.berth.api.v1.ExecInput;
import dev.berth.api.v1.ExecOutput;
import dev.berth.api.v1.ExecStart;
import dev.berth.api.v1.LogChunk;
import dev.berth.api.v1.ServiceLogsRequest;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.manager.store.ClusterStore;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Supplier;

/**
 * {@code ServiceLogs} and {@code Exec} of the public API: checks the request against the store (which
 * service, which task, is it running) and hands it to the {@link AgentStreams} of the leader. A follower (or
 * a manager without agents' sessions) answers UNAVAILABLE naming the leader, which the CLI's failover turns
 * into a retry there.
 *
 * <p>Thread model: gRPC threads. Error contract: INVALID_ARGUMENT for a malformed request, NOT_FOUND naming
 * the service or task, FAILED_PRECONDITION for a task that is not running, UNAVAILABLE when not the leader.
 */
final class AttachApi {
  private final ClusterStore store;
  private final Supplier<Optional<AgentStreams>> streams;
  private final Supplier<String> leaderAddr;

  AttachApi(ClusterStore store, Supplier<Optional<AgentStreams>> streams, Supplier<String> leaderAddr) {
    this.store = store;
    this.streams = streams;
    this.leaderAddr = leaderAddr;
  }

  private AgentStreams leader() {
    return streams.get().filter(AgentStreams::serving).orElseThrow(() -> {
      String leader = leaderAddr.get();
      return Status.UNAVAILABLE.withDescription("logs and exec are served by the leader"
          + (leader.isEmpty() ? " (no leader known)" : " (leader: " + leader + ")")).asRuntimeException();
    });
  }

  void serviceLogs(ServiceLogsRequest req, StreamObserver<LogChunk> obs) {
    try {
      if (req.getService().isEmpty()) {
        throw Errors.invalid("service: required");
      }
      AgentStreams agents = leader();
      List<Task> tasks = store.read(v -> {
        var service = v.service(req.getService()).or(() -> v.serviceByName(req.getService()))
            .orElseThrow(() -> Errors.notFound("service \"" + req.getService() + "\" not found"));
        return v.tasksOfService(service.getMeta().getId()).stream().filter(t -> !t.getNodeId().isEmpty())
            .sorted(Comparator.comparingLong(Task::getSlot).thenComparingLong(t -> t.getMeta().getCreatedAtMs()))
            .toList();
      });
      agents.logs(tasks, req.getFollow(), req.hasTail() ? OptionalLong.of(req.getTail()) : OptionalLong.empty(),
          (ServerCallStreamObserver<LogChunk>) obs);
    } catch (StatusRuntimeException e) {
      obs.onError(e);
    }
  }

  StreamObserver<ExecInput> exec(StreamObserver<ExecOutput> obs) {
    ServerCallStreamObserver<ExecOutput> call = (ServerCallStreamObserver<ExecOutput>) obs;
    return new StreamObserver<>() {
      private StreamObserver<ExecInput> link;
      private boolean failed;

      {
        // gRPC allows this only before the call's observer is returned; the link exists later
        call.setOnCancelHandler(() -> onError(Status.CANCELLED.asRuntimeException()));
      }

      @Override
      public synchronized void onNext(ExecInput in) {
        if (failed) {
          return;
        }
        if (link != null) {
          link.onNext(in);
          return;
        }
        try {
          if (!in.hasStart()) {
            throw Errors.invalid("start: the first message of an exec names the task and command");
          }
          ExecStart start = in.getStart();
          if (start.getArgvCount() == 0) {
            throw Errors.invalid("argv: no command given");
          }
          AgentStreams agents = leader();
          Task task = findTask(start.getTask());
          link = agents.exec(task, start.getArgvList(), call);
        } catch (StatusRuntimeException e) {
          failed = true;
          obs.onError(e);
        }
      }

      @Override
      public synchronized void onError(Throwable t) {
        if (link != null) {
          link.onError(t);
        }
      }

      @Override
      public void onCompleted() {
        if (link != null) {
          link.onCompleted();
        } else if (!failed) {
          obs.onError(Errors.invalid("start: the exec ended before naming a task"));
        }
      }
    };
  }

  /** A task by id, or by a unique id prefix of at least 4 characters (as the CLI prints them shortened). */
  private Task findTask(String ref) {
    if (ref.isEmpty()) {
      throw Errors.invalid("task: required");
    }
    Task task = store.read(v -> v.task(ref).orElseGet(() -> {
      if (ref.length() < 4) {
        return null;
      }
      List<Task> matches = v.tasks().stream().filter(t -> t.getMeta().getId().startsWith(ref)).toList();
      if (matches.size() > 1) {
        throw Errors.invalid("task: \"" + ref + "\" matches " + matches.size() + " tasks; give more of the id");
      }
      return matches.isEmpty() ? null : matches.get(0);
    }));
    if (task == null) {
      throw Errors.notFound("task \"" + ref + "\" not found");
    }
    TaskState state = task.getStatus().getState();
    if (state != TaskState.RUNNING || task.getNodeId().isEmpty()) {
      throw Status.FAILED_PRECONDITION.withDescription("task " + task.getMeta().getId() + " is not running (state "
          + state + ")").asRuntimeException();
    }
    return task;
  }
}
