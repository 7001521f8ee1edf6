package dev.berth.scheduler;

import dev.berth.api.v1.Node;
import dev.berth.api.v1.PortBinding;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The scheduler's incremental picture of the cluster: nodes, services, and what each counted task reserves on
 * its node. The control plane keeps one view per leader term and feeds it every change it applies
 * ({@code upsert*}/{@code remove*}); the view is never rebuilt from scratch. {@link Scheduler#schedule} records
 * its placements into it, so later tasks of a batch and later batches see them; when the control plane then
 * upserts the real task with the same id, that simply replaces the placement's contribution.
 *
 * <p>A task counts (reserves CPU/memory/host ports on its node and adds to its service's per-node count) when it
 * has a {@code node_id} and its status state is before {@code COMPLETE} or its desired state is {@code RUNNING}.
 * Tasks may arrive before their node; such a node is known only by id and is never a placement candidate until
 * {@link #upsertNode} supplies it.
 *
 * <p><b>Not thread-safe</b>: one thread (the reconciler's) owns a view. Methods throw
 * {@link IllegalArgumentException} for objects without an id and leave the view unchanged in that case.
 */
public final class ClusterView {

  private static final int[] NO_PORTS = new int[0];

  /** Every node id the view has heard of (known nodes and nodes only referenced by counted tasks). */
  private final Map<String, NodeInfo> nodeInfos = new HashMap<>();
  /** Nodes with a Node object, for fast iteration; NodeInfo.index is the position. */
  private final ArrayList<NodeInfo> known = new ArrayList<>();
  private final Map<String, Service> services = new HashMap<>();
  /** Counted tasks only. */
  private final Map<String, Reservation> tasks = new HashMap<>();
  /**
   * Service id -> node -> counter of that service's counted tasks there (the same int[] as the node's own
   * counter), so a group's per-node counts are read from the few nodes that have any instead of asking every
   * node.
   */
  private final Map<String, Map<NodeInfo, int[]>> byService = new HashMap<>();

  /** Adds or replaces a node, keeping the reservations of tasks already counted on it. */
  public void upsertNode(Node node) {
    String id = node.getMeta().getId();
    requireId(id, "node");
    NodeInfo info = nodeInfos.computeIfAbsent(id, NodeInfo::new);
    info.setNode(node);
    if (info.index < 0) {
      info.index = known.size();
      known.add(info);
    }
  }

  /** Removes a node; its counted tasks stay counted (and their reservations return if it comes back). */
  public void removeNode(String nodeId) {
    NodeInfo info = nodeInfos.get(nodeId);
    if (info == null || info.node() == null) {
      return;
    }
    info.setNode(null);
    NodeInfo last = known.remove(known.size() - 1);
    if (last != info) {
      known.set(info.index, last);
      last.index = info.index;
    }
    info.index = -1;
    forgetIfUnused(info);
  }

  public void upsertService(Service service) {
    String id = service.getMeta().getId();
    requireId(id, "service");
    services.put(id, service);
  }

  public void removeService(String serviceId) {
    services.remove(serviceId);
  }

  /**
   * Adds or replaces a task's contribution (see the class comment for which tasks count). A task that does not
   * count removes whatever an earlier version of it contributed.
   */
  public void upsertTask(Task task) {
    String id = task.getMeta().getId();
    requireId(id, "task");
    removeTask(id);
    if (!counts(task)) {
      return;
    }
    int[] ports = NO_PORTS;
    if (task.getHostPortsCount() > 0) {
      ports = new int[task.getHostPortsCount()];
      for (int i = 0; i < ports.length; i++) {
        PortBinding b = task.getHostPorts(i);
        ports[i] = NodeInfo.portKey(b.getProtocol(), b.getPort());
      }
    }
    var reserved = task.getSpec().getResources().getReservations();
    NodeInfo node = nodeInfos.computeIfAbsent(task.getNodeId(), NodeInfo::new);
    add(new Reservation(id, task.getServiceId(), node, reserved.getNanoCpus(), reserved.getMemoryBytes(), ports));
  }

  /** Removes a task's contribution, if it had one. */
  public void removeTask(String taskId) {
    Reservation old = tasks.remove(taskId);
    if (old != null) {
      old.node.add(old, -1);
      if (old.node.tasksOf(old.serviceId) == 0) {
        Map<NodeInfo, int[]> nodes = byService.get(old.serviceId);
        nodes.remove(old.node);
        if (nodes.isEmpty()) {
          byService.remove(old.serviceId);
        }
      }
      forgetIfUnused(old.node);
    }
  }

  /** Whether a task with this content counts toward its node's reservations. */
  public static boolean counts(Task task) {
    return !task.getNodeId().isEmpty()
        && (task.getStatus().getStateValue() < TaskState.COMPLETE_VALUE
            || task.getDesiredState() == TaskState.RUNNING);
  }

  /** Records a placement made by the scheduler; replaces any earlier contribution of the same task id. */
  void place(String taskId, String serviceId, NodeInfo node, long cpu, long memory, int[] ports) {
    removeTask(taskId);
    add(new Reservation(taskId, serviceId, node, cpu, memory, ports));
  }

  private void add(Reservation r) {
    tasks.put(r.taskId, r);
    r.node.add(r, +1);
    byService.computeIfAbsent(r.serviceId, k -> new HashMap<>()).put(r.node, r.node.counter(r.serviceId));
  }

  private void forgetIfUnused(NodeInfo info) {
    if (info.node() == null && info.taskCount() == 0) {
      nodeInfos.remove(info.id());
    }
  }

  private static void requireId(String id, String kind) {
    if (id.isEmpty()) {
      throw new IllegalArgumentException(kind + " has no meta.id");
    }
  }

  /** Nodes with a Node object, in no particular order (callers must not depend on it). Read-only. */
  public List<NodeInfo> nodes() {
    return Collections.unmodifiableList(known);
  }

  /** The node with this id, or null when the view has no Node object for it. */
  public NodeInfo node(String nodeId) {
    NodeInfo info = nodeInfos.get(nodeId);
    return info == null || info.node() == null ? null : info;
  }

  public Service service(String serviceId) {
    return services.get(serviceId);
  }

  /** Number of counted tasks. */
  public int countedTasks() {
    return tasks.size();
  }

  /** The node a task is counted on, or null when the task does not count. */
  public String nodeOf(String taskId) {
    Reservation r = tasks.get(taskId);
    return r == null ? null : r.node.id();
  }

  /** Node -> counter of the service's counted tasks there, for nodes with at least one; do not modify. */
  Map<NodeInfo, int[]> nodesOf(String serviceId) {
    return byService.getOrDefault(serviceId, Map.of());
  }

  void forEachTask(Consumer<Reservation> action) {
    tasks.values().forEach(action);
  }
}
