package dev.berth.manager.dispatcher;

import dev.berth.api.v1.Assignments;
import dev.berth.api.v1.ManagerMessage;
import dev.berth.api.v1.Network;
import dev.berth.api.v1.NetworkAttachment;
import dev.berth.api.v1.NodeDescription;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.WatchEvent;
import dev.berth.manager.orchestrator.TaskStates;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * One agent's open Session stream on the leader: sends the node's full task set once, then
 * numbered incremental Assignments built from applied store changes.
 *
 * <p>Changes that arrive before the full set has been read are buffered and replayed after
 * it, skipping those already reflected in it (by log index), so the agent sees every change
 * exactly once after the full set. A task is (re)sent only when it is new to the session or its
 * desired state changed — the agent's own status reports do not echo back.
 *
 * <p>Thread model: all methods are synchronized (the gRPC observer is not thread-safe);
 * called from gRPC threads (open), the dispatcher's fan-out thread (changes) and the leader
 * callbacks (close).
 */
final class AgentSession {
  private record Buffered(long index, List<WatchEvent> events) {}

  final String nodeId;
  final String sessionId;
  final NodeDescription description;
  private final StreamObserver<ManagerMessage> out;
  private final Function<String, Optional<Network>> networks;
  private final List<Buffered> buffer = new ArrayList<>();
  private final Map<String, TaskState> sentDesired = new HashMap<>();
  /** Every task id this session has sent and not yet told the agent to remove. */
  private final Set<String> sent = new HashSet<>();
  private final Set<String> sentNetworks = new HashSet<>();
  private boolean synced;
  private long syncedIndex;
  private long seq;
  private boolean closed;

  AgentSession(String nodeId, String sessionId, NodeDescription description,
      StreamObserver<ManagerMessage> out, Function<String, Optional<Network>> networks) {
    this.nodeId = nodeId;
    this.sessionId = sessionId;
    this.description = description;
    this.out = out;
    this.networks = networks;
  }

  synchronized void send(ManagerMessage message) {
    if (!closed) {
      out.onNext(message);
    }
  }

  /** Sends the full set read at {@code index}, then the buffered changes newer than it. */
  synchronized void sendFull(long index, List<Task> tasks) {
    if (closed) {
      return;
    }
    Assignments.Builder full = Assignments.newBuilder().setSeq(++seq).setFull(true);
    for (Task task : tasks) {
      sentDesired.put(task.getMeta().getId(), task.getDesiredState());
      sent.add(task.getMeta().getId());
      full.addTasks(task);
      addNetworks(task, full);
    }
    out.onNext(ManagerMessage.newBuilder().setAssignments(full).build());
    synced = true;
    syncedIndex = index;
    for (Buffered b : buffer) {
      deliver(b.index(), b.events());
    }
    buffer.clear();
  }

  /** Task changes of this node from one applied entry, in log order. */
  synchronized void deliver(long index, List<WatchEvent> events) {
    if (closed) {
      return;
    }
    if (!synced) {
      buffer.add(new Buffered(index, events));
      return;
    }
    if (index <= syncedIndex) {
      return;
    }
    Map<String, Task> changed = new LinkedHashMap<>();
    List<String> removed = new ArrayList<>();
    for (WatchEvent event : events) {
      Task task = event.getTask();
      String id = task.getMeta().getId();
      if (event.getAction() == WatchEvent.Action.REMOVE) {
        sentDesired.remove(id);
        // Also for tasks that ended (and left sentDesired): the agent still holds them.
        if (sent.remove(id)) {
          removed.add(id);
          changed.remove(id);
        }
        continue;
      }
      TaskState previous = sentDesired.get(id);
      if (previous == null || previous != task.getDesiredState()) {
        changed.put(id, task);
        sentDesired.put(id, task.getDesiredState());
        sent.add(id);
      }
      if (TaskStates.isTerminal(task) && previous == task.getDesiredState()) {
        sentDesired.remove(id); // ended as the agent reported; nothing more to tell it
      }
    }
    if (changed.isEmpty() && removed.isEmpty()) {
      return;
    }
    Assignments.Builder delta = Assignments.newBuilder().setSeq(++seq).setFull(false)
        .addAllRemovedTaskIds(removed);
    for (Task task : changed.values()) {
      delta.addTasks(task);
      addNetworks(task, delta);
    }
    out.onNext(ManagerMessage.newBuilder().setAssignments(delta).build());
  }

  private void addNetworks(Task task, Assignments.Builder message) {
    for (NetworkAttachment attachment : task.getNetworksList()) {
      if (sentNetworks.add(attachment.getNetworkId())) {
        networks.apply(attachment.getNetworkId()).ifPresent(message::addNetworks);
      }
    }
  }

  /** Ends the stream: with a final message (e.g. a redirect) then completion, or an error. */
  synchronized void close(ManagerMessage last, Status error) {
    if (closed) {
      return;
    }
    closed = true;
    try {
      if (last != null) {
        out.onNext(last);
      }
      if (error != null) {
        out.onError(error.asRuntimeException());
      } else {
        out.onCompleted();
      }
    } catch (RuntimeException alreadyCancelled) {
      // the call was cancelled by the client meanwhile; nothing left to tell it
    }
  }

  synchronized void markClosed() {
    closed = true;
  }

  synchronized long seq() {
    return seq;
  }
}
