package dev.berth.manager.orchestrator;

import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeAvailability;
import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.Plan;
import dev.berth.manager.store.StoreView;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Keeps exactly one live task of each global service on every eligible node (ready, active,
 * constraints met), following nodes as they join, drain or get relabelled. New tasks are
 * pinned to their node (slot 0, see {@link TaskFactory}); the allocator still checks they fit. Tasks on nodes that were
 * removed, drained or no longer meet the constraints are shut down; tasks on nodes that are
 * merely down or paused are left alone (node liveness decides about those).
 *
 * <p>Thread model and error contract: see {@link Reconciler}.
 */
public final class GlobalReconciler implements Reconciler {
  private final TaskFactory factory;
  private final int maxChangesPerRound;

  public GlobalReconciler(TaskFactory factory, int maxChangesPerRound) {
    this.factory = factory;
    this.maxChangesPerRound = maxChangesPerRound;
  }

  @Override
  public String name() {
    return "global";
  }

  @Override
  public List<Command> reconcile(StoreView view, long nowMs) {
    Plan.Builder plan = Plans.start(view.index());
    List<Service> services = new ArrayList<>(view.services());
    services.sort(Comparator.comparing(s -> s.getMeta().getId()));
    List<Node> nodes = new ArrayList<>(view.nodes());
    nodes.sort(Comparator.comparing(n -> n.getMeta().getId()));
    for (Service service : services) {
      if (service.getSpec().getModeCase() != ServiceSpec.ModeCase.GLOBAL) {
        continue;
      }
      reconcileService(view, service, nodes, nowMs, plan);
      if (Plans.full(plan, maxChangesPerRound)) {
        break;
      }
    }
    return Plans.toCommands(plan);
  }

  private void reconcileService(
      StoreView view, Service service, List<Node> nodes, long nowMs, Plan.Builder plan) {
    List<String> constraints = service.getSpec().getTask().getPlacement().getConstraintsList();
    Map<String, List<Task>> liveByNode = new HashMap<>();
    Map<String, Integer> lastAttempt = new HashMap<>();
    for (Task task : view.tasksOfService(service.getMeta().getId())) {
      String node = TaskStates.pinnedNode(task);
      lastAttempt.merge(node, task.getAttempt(), Math::max);
      if (TaskStates.isLive(task)) {
        liveByNode.computeIfAbsent(node, n -> new ArrayList<>()).add(task);
      }
    }
    for (Map.Entry<String, List<Task>> entry : liveByNode.entrySet()) {
      Node node = view.node(entry.getKey()).orElse(null);
      boolean keep =
          node != null
              && node.getSpec().getAvailability() != NodeAvailability.DRAIN
              && Constraints.firstUnmet(node, constraints).isEmpty();
      if (!keep) {
        for (Task task : entry.getValue()) {
          plan.addDesired(Plans.desired(task.getMeta().getId(), TaskState.SHUTDOWN));
        }
      }
    }
    for (Node node : nodes) {
      String nodeId = node.getMeta().getId();
      if (liveByNode.containsKey(nodeId) || !eligible(node, constraints)) {
        continue;
      }
      if (Plans.full(plan, maxChangesPerRound)) {
        return;
      }
      Integer previous = lastAttempt.get(nodeId);
      plan.addCreateTasks(
          factory.newTask(view, service, 0, nodeId, previous == null ? 0 : previous + 1, nowMs));
    }
  }

  static boolean eligible(Node node, List<String> constraints) {
    return node.getStatus().getState() == NodeState.NODE_READY
        && node.getSpec().getAvailability() == NodeAvailability.ACTIVE
        && Constraints.firstUnmet(node, constraints).isEmpty();
  }
}
