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

  /** The end of the earliest restart delay the last round waited for (reconcile thread only). */
  private long wakeAtMs = Long.MAX_VALUE;

  @Override
  public long wakeAtMs() {
    return wakeAtMs;
  }

  @Override
  public List<Command> reconcile(StoreView view, long nowMs) {
    Plan.Builder plan = Plans.start(view.index());
    wakeAtMs = Long.MAX_VALUE;
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
      long due = restartAt(view, task, policy, nowMs);
      if (nowMs < due) {
        wakeAtMs = Math.min(wakeAtMs, due); // the loop's tick brings us back then (MAX: never)
        continue;
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

  /**
   * When the ended task may be replaced: after the policy's delay and, with a window, once
   * fewer than {@code max_attempts} restarts of its slot fall inside the window; {@link
   * Long#MAX_VALUE} when never (the condition excludes it, or the attempts without a window are
   * used up).
   */
  static long restartAt(StoreView view, Task task, RestartPolicy policy, long nowMs) {
    switch (policy.getCondition()) {
      case NONE:
        return Long.MAX_VALUE;
      case ON_FAILURE:
        if (task.getStatus().getState() == TaskState.COMPLETE) {
          return Long.MAX_VALUE;
        }
        break;
      default:
        break;
    }
    long afterDelay = task.getMeta().getUpdatedAtMs() + policy.getDelayMs();
    if (policy.getMaxAttempts() == 0) {
      return afterDelay;
    }
    if (policy.getWindowMs() == 0) {
      return task.getAttempt() < policy.getMaxAttempts() ? afterDelay : Long.MAX_VALUE;
    }
    long since = nowMs - policy.getWindowMs();
    String key = TaskStates.slotKey(task);
    long[] inWindow = view.tasksOfService(task.getServiceId()).stream()
        .filter(t -> TaskStates.slotKey(t).equals(key))
        .filter(t -> t.getAttempt() > 0 && t.getMeta().getCreatedAtMs() >= since)
        .mapToLong(t -> t.getMeta().getCreatedAtMs())
        .sorted()
        .toArray();
    int over = inWindow.length - (int) policy.getMaxAttempts();
    if (over < 0) {
      return afterDelay;
    }
    // restarts leave the window oldest first; one more than `over` must have left
    return Math.max(afterDelay, inWindow[over] + policy.getWindowMs() + 1);
  }
}
