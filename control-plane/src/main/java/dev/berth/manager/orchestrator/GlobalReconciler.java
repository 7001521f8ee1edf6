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
import dev.berth.scheduler.ClusterView;
import dev.berth.scheduler.GlobalPlacement;
import dev.berth.scheduler.Scheduler;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Keeps exactly one live task of each global service on every node {@link Scheduler#planGlobal}
 * finds eligible (ready, active, constraints and platform met), following nodes as they join,
 * drain or get relabelled. New tasks are pinned to their node (slot 0, see {@link TaskFactory});
 * the allocator then checks they fit there and keeps them PENDING with the scheduler's reason
 * when not. Tasks on nodes that were removed or that the scheduler finds ineligible for a lasting
 * reason (drained, constraints no longer met) are shut down; tasks on nodes that are merely down
 * or paused are left alone (node liveness decides about those).
 *
 * <p>Thread model and error contract: see {@link Reconciler}.
 */
public final class GlobalReconciler implements Reconciler {
  private final TaskFactory factory;
  private final ClusterViewFeed feed;
  private final int maxChangesPerRound;

  public GlobalReconciler(TaskFactory factory, ClusterViewFeed feed, int maxChangesPerRound) {
    this.factory = factory;
    this.feed = feed;
    this.maxChangesPerRound = maxChangesPerRound;
  }

  @Override
  public String name() {
    return "global";
  }

  @Override
  public List<Command> reconcile(StoreView store, long nowMs) {
    Plan.Builder plan = Plans.start(store.index());
    List<Service> services = new ArrayList<>();
    for (Service service : store.services()) {
      if (service.getSpec().getModeCase() == ServiceSpec.ModeCase.GLOBAL) {
        services.add(service);
      }
    }
    if (services.isEmpty()) {
      return List.of();
    }
    services.sort(Comparator.comparing(s -> s.getMeta().getId()));
    ClusterView view = feed.view(store);
    Scheduler scheduler = new Scheduler(0);
    for (Service service : services) {
      // The listener may lag this read by an entry; the service must be current to plan it.
      view.upsertService(service);
      reconcileService(store, service, scheduler.planGlobal(view, service.getMeta().getId()), nowMs, plan);
      if (Plans.full(plan, maxChangesPerRound)) {
        break;
      }
    }
    return Plans.toCommands(plan);
  }

  private void reconcileService(StoreView store, Service service, GlobalPlacement placement,
      long nowMs, Plan.Builder plan) {
    Map<String, List<Task>> liveByNode = new HashMap<>();
    Map<String, Integer> lastAttempt = new HashMap<>();
    for (Task task : store.tasksOfService(service.getMeta().getId())) {
      String node = TaskStates.pinnedNode(task);
      lastAttempt.merge(node, task.getAttempt(), Math::max);
      if (TaskStates.isLive(task)) {
        liveByNode.computeIfAbsent(node, n -> new ArrayList<>()).add(task);
      }
    }
    for (Map.Entry<String, List<Task>> entry : liveByNode.entrySet()) {
      String nodeId = entry.getKey();
      Node node = store.node(nodeId).orElse(null);
      boolean keep = node != null
          && node.getSpec().getAvailability() != NodeAvailability.DRAIN
          && (!placement.ineligible().containsKey(nodeId) || !readyAndActive(node));
      if (!keep) {
        for (Task task : entry.getValue()) {
          plan.addDesired(Plans.desired(task.getMeta().getId(), TaskState.SHUTDOWN));
        }
      }
    }
    for (GlobalPlacement.NodeDecision decision : placement.eligible()) {
      String nodeId = decision.nodeId();
      if (liveByNode.containsKey(nodeId) || store.node(nodeId).isEmpty()) {
        continue;
      }
      if (Plans.full(plan, maxChangesPerRound)) {
        return;
      }
      Integer previous = lastAttempt.get(nodeId);
      plan.addCreateTasks(
          factory.newTask(store, service, 0, nodeId, previous == null ? 0 : previous + 1, nowMs));
    }
  }

  /**
   * A ready, active node the scheduler finds ineligible fails a lasting filter (constraints,
   * platform); on a down or paused node the scheduler's node-state filter hides that, and such
   * nodes keep their tasks: liveness, not placement, decides about those.
   */
  private static boolean readyAndActive(Node node) {
    return node.getStatus().getState() == NodeState.NODE_READY
        && node.getSpec().getAvailability() == NodeAvailability.ACTIVE;
  }
}
