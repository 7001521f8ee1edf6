package dev.berth.manager.dispatcher;

import dev.berth.api.v1.Assignments;
import dev.berth.api.v1.ManagerMessage;
import dev.berth.api.v1.Endpoint;
import dev.berth.api.v1.NodeDescription;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.WatchEvent;
import dev.berth.manager.orchestrator.TaskStates;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One agent's open Session stream on the leader: sends the node's full set once, then
 * numbered incremental Assignments built from the {@link AssignmentFeed}'s changes.
 *
 * <p>The full set carries the node's unfinished tasks, the networks it serves (those its
 * tasks attach to, plus ingress: every node runs the routing mesh), every endpoint record on
 * those networks, every service published through the mesh and the node's own ingress
 * address. Among the records are the other nodes' own ingress addresses (task id
 * "node-&lt;id&gt;", no service), which the agent needs in its VXLAN tables for the mesh's
 * return traffic. Deltas carry only what changed: a task is (re)sent when it is new to the session
 * or its desired state changed (the agent's own status reports do not echo back); endpoint
 * records added or changed on served networks, and removals keyed "task_id/network_id"; a
 * network the node starts serving brings its Network object and all its records, one it
 * stops serving takes its records away; published services added, changed or removed; the
 * node's ingress attachment when it changes.
 *
 * <p>Thread model: {@link #sendFull} and {@link #deliver} run on the dispatcher's fan-out
 * thread (which owns the feed), {@link #send} and {@link #close} anywhere; all are
 * synchronized because the gRPC observer is not thread-safe.
 */
final class AgentSession {
  final String nodeId;
  final String sessionId;
  final NodeDescription description;
  private final StreamObserver<ManagerMessage> out;
  private final Map<String, TaskState> sentDesired = new HashMap<>();
  /** Every task id this session has sent and not yet told the agent to remove. */
  private final Set<String> sent = new HashSet<>();
  private final Set<String> sentNetworks = new HashSet<>();
  /** Networks whose endpoint records the agent holds. */
  private Set<String> served = Set.of();
  private boolean synced;
  private long seq;
  private boolean closed;

  AgentSession(String nodeId, String sessionId, NodeDescription description,
      StreamObserver<ManagerMessage> out) {
    this.nodeId = nodeId;
    this.sessionId = sessionId;
    this.description = description;
    this.out = out;
  }

  synchronized void send(ManagerMessage message) {
    if (!closed) {
      out.onNext(message);
    }
  }

  /** Sends the full set as the feed has it now; later changes come through {@link #deliver}. */
  synchronized void sendFull(AssignmentFeed feed) {
    if (closed) {
      return;
    }
    Assignments.Builder full = Assignments.newBuilder().setSeq(++seq).setFull(true);
    List<Task> tasks = new ArrayList<>();
    for (Task task : feed.tasksOfNode(nodeId)) {
      if (!TaskStates.isTerminal(task)) {
        tasks.add(task);
      }
    }
    tasks.sort(Comparator.comparing(t -> t.getMeta().getId()));
    for (Task task : tasks) {
      sentDesired.put(task.getMeta().getId(), task.getDesiredState());
      sent.add(task.getMeta().getId());
      full.addTasks(task);
    }
    served = feed.servedBy(nodeId);
    for (String net : served) {
      addNetwork(feed, net, full);
      feed.endpointsOn(net).stream().filter(e -> !isOwn(e)).forEach(full::addEndpoints);
    }
    full.addAllPublished(feed.published());
    feed.ingressAttachment(nodeId).ifPresent(full::setIngressAttachment);
    out.onNext(ManagerMessage.newBuilder().setAssignments(full).build());
    synced = true;
  }

  /** Turns one applied entry's changes into this node's delta (nothing when none concern it). */
  synchronized void deliver(AssignmentFeed.Changes changes, AssignmentFeed feed) {
    if (closed || !synced) {
      return;
    }
    Assignments.Builder delta = Assignments.newBuilder();
    List<WatchEvent> own = changes.taskEvents.getOrDefault(nodeId, List.of());
    addTasks(own, delta);
    Set<String> now = own.isEmpty() && !changes.networksChanged ? served : feed.servedBy(nodeId);
    Map<String, Endpoint> added = new LinkedHashMap<>();
    Set<String> removed = new LinkedHashSet<>();
    for (String net : now) {
      if (!served.contains(net)) {
        addNetwork(feed, net, delta);
        feed.endpointsOn(net).stream().filter(e -> !isOwn(e))
            .forEach(e -> added.put(AssignmentFeed.key(e.getTaskId(), net), e));
        continue;
      }
      Map<String, Boolean> changed = changes.endpoints.getOrDefault(net, Map.of());
      for (Map.Entry<String, Boolean> c : changed.entrySet()) {
        if (c.getKey().equals(AssignmentFeed.nodeKey(nodeId, net))) {
          continue; // the node's own ingress address: it has it as ingress_attachment
        }
        Optional<Endpoint> e = feed.endpoint(net, c.getKey());
        if (e.isPresent()) {
          added.put(c.getKey(), e.get());
        } else if (c.getValue()) {
          removed.add(c.getKey());
        }
      }
    }
    for (String net : served) {
      if (!now.contains(net)) {
        Map<String, Boolean> changed = changes.endpoints.getOrDefault(net, Map.of());
        for (Endpoint e : feed.endpointsOn(net)) {
          if (isOwn(e)) {
            continue;
          }
          String key = AssignmentFeed.key(e.getTaskId(), net);
          if (changed.getOrDefault(key, true)) {
            removed.add(key);
          }
        }
        changed.forEach((key, existed) -> {
          if (existed && !key.equals(AssignmentFeed.nodeKey(nodeId, net)) && feed.endpoint(net, key).isEmpty()) {
            removed.add(key);
          }
        });
      }
    }
    served = now;
    delta.addAllEndpoints(added.values()).addAllRemovedEndpoints(removed);
    changes.published.forEach((id, present) -> {
      if (present) {
        feed.published(id).ifPresent(delta::addPublished);
      } else {
        delta.addRemovedPublished(id);
      }
    });
    if (changes.ingress.contains(nodeId)) {
      feed.ingressAttachment(nodeId).ifPresent(delta::setIngressAttachment);
    }
    if (!delta.build().equals(Assignments.getDefaultInstance())) {
      out.onNext(ManagerMessage.newBuilder()
          .setAssignments(delta.setSeq(++seq).setFull(false)).build());
    }
  }

  /** The record of this node's own ingress address (never sent to the node itself). */
  private boolean isOwn(Endpoint e) {
    return e.getTaskId().equals(AssignmentFeed.NODE_PREFIX + nodeId);
  }

  /** The node's own task changes: new tasks and desired-state changes, and removals. */
  private void addTasks(List<WatchEvent> events, Assignments.Builder delta) {
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
    delta.addAllTasks(changed.values()).addAllRemovedTaskIds(removed);
  }

  private void addNetwork(AssignmentFeed feed, String networkId, Assignments.Builder message) {
    if (sentNetworks.add(networkId)) {
      feed.network(networkId).ifPresent(message::addNetworks);
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
