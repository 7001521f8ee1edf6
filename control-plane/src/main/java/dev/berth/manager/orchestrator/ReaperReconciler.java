package dev.berth.manager.orchestrator;

import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import dev.berth.internal.v1.TaskStatusChange;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.Plan;
import dev.berth.manager.store.StoreView;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Deletes task history: per slot (per node for global services) only the newest
 * {@code task_history_limit} finished tasks are kept (service setting, else the cluster's,
 * else 5). Tasks of removed services are shut down (desired SHUTDOWN, unless the store already
 * set REMOVE) and deleted once they have ended or never reached a node; those stuck on a node
 * that is gone or down are marked ORPHANED first.
 *
 * <p>Thread model and error contract: see {@link Reconciler}.
 */
public final class ReaperReconciler implements Reconciler {
  public static final int DEFAULT_HISTORY_LIMIT = 5;

  private static final Comparator<Task> NEWEST_FIRST =
      Comparator.comparingLong((Task t) -> t.getMeta().getCreatedAtMs())
          .thenComparingLong(t -> t.getMeta().getVersion())
          .thenComparing(t -> t.getMeta().getId())
          .reversed();

  private final int maxChangesPerRound;

  public ReaperReconciler(int maxChangesPerRound) {
    this.maxChangesPerRound = maxChangesPerRound;
  }

  @Override
  public String name() {
    return "reaper";
  }

  @Override
  public List<Command> reconcile(StoreView view, long nowMs) {
    Plan.Builder plan = Plans.start(view.index());
    int clusterLimit = view.cluster().map(c -> c.getTaskHistoryLimit()).orElse(0);
    // service id -> slot key -> finished tasks
    Map<String, Map<String, List<Task>>> finished = new HashMap<>();
    List<Task> orphans = new ArrayList<>();
    // a handful of services for thousands of tasks: look each one up once per round
    Map<String, Boolean> serviceExists = new HashMap<>();
    java.util.function.Function<String, Boolean> lookUp = id -> view.service(id).isPresent(); // one per round
    for (Task task : view.tasks()) {
      if (!serviceExists.computeIfAbsent(task.getServiceId(), lookUp)) {
        orphans.add(task);
      } else if (TaskStates.isFinished(task)) {
        finished
            .computeIfAbsent(task.getServiceId(), s -> new HashMap<>())
            .computeIfAbsent(TaskStates.slotKey(task), k -> new ArrayList<>())
            .add(task);
      }
    }
    orphans.sort(Comparator.comparing(t -> t.getMeta().getId()));
    for (Task task : orphans) {
      if (Plans.full(plan, maxChangesPerRound)) {
        return Plans.toCommands(plan);
      }
      if (TaskStates.isTerminal(task) || task.getNodeId().isEmpty()) {
        plan.addDeleteTasks(task.getMeta().getId());
      } else if (nodeLost(view, task)) {
        // The store deletes only ended tasks: a task nobody can report any more ends ORPHANED
        // first, and is deleted on a later round.
        plan.addStatusChanges(TaskStatusChange.newBuilder().setTaskId(task.getMeta().getId())
            .setStatus(TaskStatus.newBuilder().setState(TaskState.ORPHANED).setTimestampMs(nowMs)
                .setMessage("service removed while node " + task.getNodeId() + " is down")));
      } else if (TaskStates.isLive(task)) {
        plan.addDesired(Plans.desired(task.getMeta().getId(), TaskState.SHUTDOWN));
      }
    }
    List<String> serviceIds = new ArrayList<>(finished.keySet());
    serviceIds.sort(null);
    for (String serviceId : serviceIds) {
      Optional<Service> service = view.service(serviceId);
      int limit = limit(service.get().getSpec().getTaskHistoryLimit(), clusterLimit);
      for (List<Task> slot : finished.get(serviceId).values()) {
        if (slot.size() <= limit) {
          continue;
        }
        slot.sort(NEWEST_FIRST);
        for (Task old : slot.subList(limit, slot.size())) {
          if (Plans.full(plan, maxChangesPerRound)) {
            return Plans.toCommands(plan);
          }
          plan.addDeleteTasks(old.getMeta().getId());
        }
      }
    }
    return Plans.toCommands(plan);
  }

  static int limit(int serviceLimit, int clusterLimit) {
    if (serviceLimit > 0) {
      return serviceLimit;
    }
    return clusterLimit > 0 ? clusterLimit : DEFAULT_HISTORY_LIMIT;
  }

  private static boolean nodeLost(StoreView view, Task task) {
    Optional<Node> node = view.node(task.getNodeId());
    return node.isEmpty() || node.get().getStatus().getState() == NodeState.NODE_DOWN;
  }
}
