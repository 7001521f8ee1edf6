package dev.berth.manager.orchestrator;

import dev.berth.api.v1.Service;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.UpdateStatus;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.Plan;
import dev.berth.manager.store.StoreView;
import dev.berth.scheduler.ClusterView;
import dev.berth.scheduler.RebalancePlan;
import dev.berth.scheduler.Scheduler;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Carries out {@code service update --rebalance} (update status REBALANCING): asks {@link
 * Scheduler#rebalance} for the fewest moves that restore the service's spread and shuts down
 * those tasks, at most {@code UpdateConfig.parallelism} per round; the replicated reconciler
 * refills their slots and the allocator's scheduler puts the replacements on the nodes below
 * target. A round waits until the previous one has settled (every live task RUNNING, every
 * shut-down task ended), so the scheduler plans against real placements. When no move is left
 * the status becomes COMPLETED.
 *
 * <p>Thread model and error contract: see {@link Reconciler}.
 */
public final class RebalanceReconciler implements Reconciler {
  private final ClusterViewFeed feed;
  private final int maxChangesPerRound;

  public RebalanceReconciler(ClusterViewFeed feed, int maxChangesPerRound) {
    this.feed = feed;
    this.maxChangesPerRound = maxChangesPerRound;
  }

  @Override
  public String name() {
    return "rebalance";
  }

  /** A rebalance waits for its moved tasks to run before the next moves ({@link #settled}). */
  @Override
  public boolean followsProgress(Service service) {
    return service.getUpdateStatus().getState() == UpdateStatus.State.REBALANCING;
  }

  @Override
  public List<Command> reconcile(StoreView store, long nowMs) {
    List<Service> services = new ArrayList<>();
    for (Service service : store.services()) {
      if (service.getUpdateStatus().getState() == UpdateStatus.State.REBALANCING
          && service.getSpec().getModeCase() == ServiceSpec.ModeCase.REPLICATED) {
        services.add(service);
      }
    }
    if (services.isEmpty()) {
      return List.of();
    }
    services.sort(Comparator.comparing(s -> s.getMeta().getId()));
    ClusterView view = feed.view(store);
    Plan.Builder plan = Plans.start(store.index());
    for (Service service : services) {
      if (!settled(store.tasksOfService(service.getMeta().getId()))) {
        continue;
      }
      view.upsertService(service); // the listener may lag this read by an entry
      RebalancePlan moves = new Scheduler(0).rebalance(view, service.getMeta().getId());
      if (moves.movesNeeded() == 0) {
        plan.addServiceStatus(Plan.ServiceUpdateStatus.newBuilder()
            .setServiceId(service.getMeta().getId())
            .setStatus(service.getUpdateStatus().toBuilder().setState(UpdateStatus.State.COMPLETED)
                .setMessage("rebalance completed")));
        continue;
      }
      for (String taskId : moves.taskIds()) {
        plan.addDesired(Plans.desired(taskId, TaskState.SHUTDOWN));
      }
      plan.addServiceStatus(Plan.ServiceUpdateStatus.newBuilder()
          .setServiceId(service.getMeta().getId())
          .setStatus(service.getUpdateStatus().toBuilder().setMessage("rebalancing: moving "
              + moves.taskIds().size() + " of " + moves.movesNeeded() + " tasks")));
      if (Plans.full(plan, maxChangesPerRound)) {
        break;
      }
    }
    return Plans.toCommands(plan);
  }

  /** No move in flight: live tasks all RUNNING, shut-down ones all ended. */
  private static boolean settled(List<Task> tasks) {
    for (Task task : tasks) {
      if (TaskStates.isLive(task) ? task.getStatus().getState() != TaskState.RUNNING
          : !TaskStates.isTerminal(task) && !TaskStates.isUnassigned(task)) {
        return false;
      }
    }
    return true;
  }
}
