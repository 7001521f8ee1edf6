package dev.berth.manager.orchestrator;

import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeAvailability;
import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.PortBinding;
import dev.berth.api.v1.Resources;
import dev.berth.api.v1.Task;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Stand-in placer until the scheduler module is wired in: walks the nodes round-robin (the
 * cursor persists across calls so successive rounds keep spreading) and takes the first that
 * is ready and active, meets the constraints and {@code max_replicas_per_node}, has its host
 * ports free and enough CPU and memory left after the reservations already placed, including
 * those placed earlier in the same call. Tasks pinned to a node (global services, see {@link
 * TaskFactory}) are checked against that node only. Unplaceable tasks get a reason counted by filter, e.g. {@code no
 * suitable node (insufficient memory on 7 nodes, constraint node.labels.zone==a unmet on 3 nodes)}.
 *
 * <p>Thread model: not thread-safe (holds the cursor); called from the reconcile thread only.
 */
public final class RoundRobinPlacer implements Placer {
  private int cursor;

  @Override
  public List<Decision> place(List<Node> nodes, List<Task> placedTasks, List<Task> toPlace) {
    Map<String, NodeLoad> loads = new LinkedHashMap<>();
    for (Node node : nodes) {
      loads.put(node.getMeta().getId(), new NodeLoad(node));
    }
    for (Task task : placedTasks) {
      NodeLoad load = loads.get(task.getNodeId());
      if (load != null) {
        load.add(task, hostPorts(task));
      }
    }
    List<NodeLoad> ring = new ArrayList<>(loads.values());
    List<Decision> decisions = new ArrayList<>(toPlace.size());
    for (Task task : toPlace) {
      decisions.add(placeOne(task, ring, loads));
    }
    return decisions;
  }

  private Decision placeOne(Task task, List<NodeLoad> ring, Map<String, NodeLoad> loads) {
    String taskId = task.getMeta().getId();
    List<PortBinding> ports = hostPorts(task);
    Map<String, Integer> rejections = new LinkedHashMap<>();
    String pinned = TaskStates.pinnedNode(task);
    if (!pinned.isEmpty()) {
      NodeLoad load = loads.get(pinned);
      if (load == null) {
        return Decision.unplaced(taskId, "node " + pinned + " does not exist");
      }
      Optional<String> why = load.rejects(task, ports);
      if (why.isPresent()) {
        return Decision.unplaced(taskId, "node " + pinned + " unsuitable (" + why.get() + ")");
      }
      load.add(task, ports);
      return Decision.placed(taskId, pinned, ports);
    }
    if (ring.isEmpty()) {
      return Decision.unplaced(taskId, "no nodes in the cluster");
    }
    for (int i = 0; i < ring.size(); i++) {
      int at = Math.floorMod(cursor + i, ring.size());
      NodeLoad load = ring.get(at);
      Optional<String> why = load.rejects(task, ports);
      if (why.isEmpty()) {
        load.add(task, ports);
        cursor = at + 1;
        return Decision.placed(taskId, load.node.getMeta().getId(), ports);
      }
      rejections.merge(why.get(), 1, Integer::sum);
    }
    List<String> parts = new ArrayList<>();
    rejections.forEach((why, count) -> parts.add(why + " on " + count + (count == 1 ? " node" : " nodes")));
    return Decision.unplaced(taskId, "no suitable node (" + String.join(", ", parts) + ")");
  }

  /** Host ports a task binds: set at assignment, or requested by the allocator before it. */
  private static List<PortBinding> hostPorts(Task task) {
    return task.getHostPortsList();
  }

  private static final class NodeLoad {
    final Node node;
    long cpu;
    long memory;
    final Map<String, Integer> perService = new HashMap<>();
    final Set<PortBinding> ports = new HashSet<>();

    NodeLoad(Node node) {
      this.node = node;
    }

    void add(Task task, List<PortBinding> taskPorts) {
      Resources reserved = task.getSpec().getResources().getReservations();
      cpu += reserved.getNanoCpus();
      memory += reserved.getMemoryBytes();
      perService.merge(task.getServiceId(), 1, Integer::sum);
      ports.addAll(taskPorts);
    }

    Optional<String> rejects(Task task, List<PortBinding> taskPorts) {
      if (node.getStatus().getState() != NodeState.NODE_READY) {
        return Optional.of("node not ready");
      }
      if (node.getSpec().getAvailability() != NodeAvailability.ACTIVE) {
        return Optional.of("node " + node.getSpec().getAvailability().name().toLowerCase());
      }
      Optional<String> unmet =
          Constraints.firstUnmet(node, task.getSpec().getPlacement().getConstraintsList());
      if (unmet.isPresent()) {
        return Optional.of("constraint " + unmet.get() + " unmet");
      }
      int max = task.getSpec().getPlacement().getMaxReplicasPerNode();
      if (max > 0 && perService.getOrDefault(task.getServiceId(), 0) >= max) {
        return Optional.of("max replicas per node reached");
      }
      Resources capacity = node.getDescription().getResources();
      Resources wanted = task.getSpec().getResources().getReservations();
      if (cpu + wanted.getNanoCpus() > capacity.getNanoCpus() && wanted.getNanoCpus() > 0) {
        return Optional.of("insufficient cpu");
      }
      if (memory + wanted.getMemoryBytes() > capacity.getMemoryBytes() && wanted.getMemoryBytes() > 0) {
        return Optional.of("insufficient memory");
      }
      for (PortBinding port : taskPorts) {
        if (ports.contains(port)) {
          return Optional.of("host port " + port.getPort() + "/" + port.getProtocol() + " in use");
        }
      }
      return Optional.empty();
    }
  }
}
