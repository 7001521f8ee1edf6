package dev.berth.manager.orchestrator;

import dev.berth.api.v1.RestartPolicy;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.Plan;
import dev.berth.manager.store.StoreView;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Replaces tasks that ended while still wanted (desired RUNNING, observed COMPLETE / FAILED /
 * REJECTED / SHUTDOWN) according to the service's {@link RestartPolicy}: the ended task is
 * marked desired SHUTDOWN and a new task with {@code attempt + 1} takes the same slot (same node
 * for global services), once {@code delay_ms} has passed since the manager recorded the end
 * ({@code meta.updated_at_ms}, leader clock). A task that must not restart (condition, or
 * {@code max_attempts} used up) keeps its slot as it is, so the scaler does not refill it.
 *
 * <p>Attempts: with {@code window_ms == 0} the ended task's {@code attempt} counts restarts so
 * far; with a window, the restarts counted are the slot's tasks still in history (see the
 * reaper) with {@code attempt > 0} created within the window.
 *
 * <p>Thread model and error contract: see {@link Reconciler}.
 */
public final class RestartReconciler implements Reconciler {
  private final TaskFactory factory;
  private final int maxChangesPerRound;

  public RestartReconciler(TaskFactory factory, int maxChangesPerRound) {
    this.factory = factory;
    this.maxChangesPerRound = maxChangesPerRound;
  }

  @Override
  public String name() {
    return "restart";
  }

  @Override
  public boolean timeDriven() {
    return true;
  }

  @Override
  public List<Command> reconcile(StoreView view, long nowMs) {
    Plan.Builder plan = Plans.start(view.index());
    List<Task> ended = new ArrayList<>();
    for (Task task : view.tasks()) {
      if (TaskStates.isLive(task) && TaskStates.isTerminal(task)) {
        ended.add(task);
      }
    }
    ended.sort(Comparator.comparing(t -> t.getMeta().getId()));
    for (Task task : ended) {
      if (Plans.full(plan, maxChangesPerRound)) {
        break;
      }
      Optional<Service> service = view.service(task.getServiceId());
      if (service.isEmpty()) {
        continue; // the reaper handles tasks of removed services
      }
      RestartPolicy policy = service.get().getSpec().getTask().getRestartPolicy();
      if (!shouldRestart(view, task, policy, nowMs)) {
        continue;
      }
      if (nowMs < task.getMeta().getUpdatedAtMs() + policy.getDelayMs()) {
        continue; // the loop's periodic tick brings us back after the delay
      }
      plan.addDesired(Plans.desired(task.getMeta().getId(), TaskState.SHUTDOWN));
      plan.addCreateTasks(
          factory.newTask(
              view,
              service.get(),
              task.getSlot(),
              TaskStates.pinnedNode(task),
              task.getAttempt() + 1,
              nowMs));
    }
    return Plans.toCommands(plan);
  }

  static boolean shouldRestart(StoreView view, Task task, RestartPolicy policy, long nowMs) {
    switch (policy.getCondition()) {
      case NONE:
        return false;
      case ON_FAILURE:
        if (task.getStatus().getState() == TaskState.COMPLETE) {
          return false;
        }
        break;
      default:
        break;
    }
    if (policy.getMaxAttempts() == 0) {
      return true;
    }
    long restarts;
    if (policy.getWindowMs() == 0) {
      restarts = task.getAttempt();
    } else {
      long since = nowMs - policy.getWindowMs();
      String key = TaskStates.slotKey(task);
      restarts =
          view.tasksOfService(task.getServiceId()).stream()
              .filter(t -> TaskStates.slotKey(t).equals(key))
              .filter(t -> t.getAttempt() > 0 && t.getMeta().getCreatedAtMs() >= since)
              .count();
    }
    return restarts < policy.getMaxAttempts();
  }
}
