package dev.berth.manager.orchestrator;

import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.Plan;
import dev.berth.manager.store.StoreView;
import dev.berth.scheduler.Assignment;
import dev.berth.scheduler.ClusterView;
import dev.berth.scheduler.GlobalPlacement;
import dev.berth.scheduler.Scheduler;
import dev.berth.scheduler.SchedulingResult;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The allocation step: live tasks still NEW or PENDING are placed by the {@link Scheduler}
 * against the term's {@link ClusterView} (from the {@link ClusterViewFeed}); placed ones become
 * plan assignments with their host ports, the others PENDING with the scheduler's explanation
 * (only when state or reason changed, so an unplaceable task does not produce a log entry every
 * round). Tasks of global services are pinned to their node and checked there with {@link
 * Scheduler#planGlobal}. Placement is retried whenever the loop runs, so it follows nodes
 * joining or freeing capacity. The scheduler's seed comes from the cluster id, so every leader
 * of a cluster breaks ties the same way.
 *
 * <p>Thread model and error contract: see {@link Reconciler}; the view is used only from the
 * reconcile thread.
 */
public final class Allocator implements Reconciler {
  private static final Comparator<Task> ORDER =
      Comparator.comparing((Task t) -> t.getServiceId())
          .thenComparingLong(Task::getSlot)
          .thenComparing(t -> t.getMeta().getId());

  private final ClusterViewFeed feed;
  private final int maxTasksPerRound;

  public Allocator(ClusterViewFeed feed, int maxTasksPerRound) {
    this.feed = feed;
    this.maxTasksPerRound = maxTasksPerRound;
  }

  @Override
  public String name() {
    return "allocator";
  }

  @Override
  public List<Command> reconcile(StoreView store, long nowMs) {
    List<Task> toPlace = new ArrayList<>();
    for (Task task : store.tasks()) {
      if (TaskStates.isLive(task) && TaskStates.isUnassigned(task)) {
        toPlace.add(task);
      }
    }
    if (toPlace.isEmpty()) {
      return List.of();
    }
    toPlace.sort(ORDER);
    if (toPlace.size() > maxTasksPerRound) {
      toPlace = new ArrayList<>(toPlace.subList(0, maxTasksPerRound));
    }
    ClusterView view = feed.view(store);
    // The store's truth for what is placed now: the listener may lag this read by an entry, and
    // a placement recorded by an earlier round whose plan was rejected must not linger.
    List<Task> replicated = new ArrayList<>();
    Map<String, List<Task>> global = new LinkedHashMap<>();
    for (Task task : toPlace) {
      view.upsertTask(task);
      store.service(task.getServiceId()).ifPresent(view::upsertService);
      boolean isGlobal = store.service(task.getServiceId())
          .map(s -> s.getSpec().getModeCase() == ServiceSpec.ModeCase.GLOBAL).orElse(false);
      if (isGlobal) {
        global.computeIfAbsent(task.getServiceId(), k -> new ArrayList<>()).add(task);
      } else {
        replicated.add(task);
      }
    }
    Scheduler scheduler = new Scheduler(seed(store));
    Map<String, String> reasons = new LinkedHashMap<>();
    Plan.Builder plan = Plans.start(store.index());
    SchedulingResult result = scheduler.schedule(view, replicated);
    for (Assignment a : result.assignments()) {
      plan.addAssignments(Plan.Assignment.newBuilder()
          .setTaskId(a.taskId()).setNodeId(a.nodeId()).addAllHostPorts(a.hostPorts()));
    }
    reasons.putAll(result.unschedulable());
    global.forEach((serviceId, tasks) -> placeGlobal(scheduler, view, serviceId, tasks, plan, reasons));
    for (Task task : toPlace) {
      String reason = reasons.get(task.getMeta().getId());
      if (reason != null && (task.getStatus().getState() != TaskState.PENDING
          || !task.getStatus().getMessage().equals(reason))) {
        plan.addPending(Plan.Pending.newBuilder().setTaskId(task.getMeta().getId()).setReason(reason));
      }
    }
    return Plans.toCommands(plan);
  }

  /** Global tasks go to the node they are pinned to when the scheduler says they fit there. */
  private static void placeGlobal(Scheduler scheduler, ClusterView view, String serviceId,
      List<Task> tasks, Plan.Builder plan, Map<String, String> reasons) {
    GlobalPlacement placement = scheduler.planGlobal(view, serviceId);
    Map<String, GlobalPlacement.NodeDecision> byNode = new LinkedHashMap<>();
    for (GlobalPlacement.NodeDecision d : placement.eligible()) {
      byNode.put(d.nodeId(), d);
    }
    for (Task task : tasks) {
      String taskId = task.getMeta().getId();
      String nodeId = TaskStates.pinnedNode(task);
      GlobalPlacement.NodeDecision decision = byNode.remove(nodeId);
      if (decision == null) {
        String why = placement.ineligible().get(nodeId);
        reasons.put(taskId, why != null ? "node " + nodeId + " unsuitable (" + why + ")"
            : "node " + nodeId + " does not exist");
      } else if (!decision.fits()) {
        reasons.put(taskId, "node " + nodeId + " unsuitable (" + decision.reason() + ")");
      } else {
        plan.addAssignments(Plan.Assignment.newBuilder()
            .setTaskId(taskId).setNodeId(nodeId).addAllHostPorts(decision.hostPorts()));
        // Reserve it in the view so later services of this round see the node's capacity used.
        view.upsertTask(task.toBuilder().setNodeId(nodeId).clearHostPorts()
            .addAllHostPorts(decision.hostPorts()).build());
      }
    }
  }

  private static long seed(StoreView store) {
    return store.cluster().map(c -> (long) c.getMeta().getId().hashCode()).orElse(0L);
  }
}
