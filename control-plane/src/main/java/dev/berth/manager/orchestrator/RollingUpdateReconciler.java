package dev.berth.manager.orchestrator;

import dev.berth.api.v1.Service;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.UpdateConfig;
import dev.berth.api.v1.UpdateStatus;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.Plan;
import dev.berth.internal.v1.UpdateService;
import dev.berth.manager.store.StoreView;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Rolls a service's live tasks over to its current task spec, slot by slot (node by node for
 * global services), following {@link UpdateConfig}: at most {@code parallelism} slots in
 * flight (0 = all); with {@code delay_ms > 0} it works in batches and waits the delay after a
 * batch is running; {@code STOP_FIRST} shuts the old task down as the new one is created,
 * {@code START_FIRST} shuts it down once the new one is RUNNING. A new-spec task that FAILs or is
 * REJECTED during the update triggers the failure action: PAUSE (update status PAUSED),
 * CONTINUE, or ROLLBACK (an UpdateService command with rollback=true, guarded by the service's
 * version). Progress is recorded in the service's {@link UpdateStatus}.
 *
 * <p>Thread model and error contract: see {@link Reconciler}.
 */
public final class RollingUpdateReconciler implements Reconciler {
  private final TaskFactory factory;
  private final int maxChangesPerRound;

  public RollingUpdateReconciler(TaskFactory factory, int maxChangesPerRound) {
    this.factory = factory;
    this.maxChangesPerRound = maxChangesPerRound;
  }

  @Override
  public String name() {
    return "rolling-update";
  }

  /** The end of the earliest update delay the last round waited for (reconcile thread only). */
  private long wakeAtMs = Long.MAX_VALUE;

  @Override
  public long wakeAtMs() {
    return wakeAtMs;
  }

  /** An update in flight waits for its new tasks to run (batches, START_FIRST shutdowns). */
  @Override
  public boolean followsProgress(Service service) {
    return service.getUpdateStatus().getState() == UpdateStatus.State.UPDATING;
  }

  @Override
  public List<Command> reconcile(StoreView view, long nowMs) {
    Plan.Builder plan = Plans.start(view.index());
    wakeAtMs = Long.MAX_VALUE;
    List<Command> extra = new ArrayList<>();
    List<Service> services = new ArrayList<>(view.services());
    services.sort(Comparator.comparing(s -> s.getMeta().getId()));
    for (Service service : services) {
      if (Plans.full(plan, maxChangesPerRound)) {
        break;
      }
      reconcileService(view, service, nowMs, plan, extra);
    }
    List<Command> commands = new ArrayList<>(Plans.toCommands(plan));
    commands.addAll(extra);
    return commands;
  }

  private void reconcileService(
      StoreView view, Service service, long nowMs, Plan.Builder plan, List<Command> extra) {
    String serviceId = service.getMeta().getId();
    UpdateStatus status = service.getUpdateStatus();
    UpdateConfig config = service.getSpec().getUpdate();
    List<Task> all = view.tasksOfService(serviceId);
    if (!anyStale(all, service)) {
      if (status.getState() == UpdateStatus.State.UPDATING) {
        setStatus(plan, serviceId, status.toBuilder().setState(UpdateStatus.State.COMPLETED)
            .setMessage("update completed").build());
      }
      return;
    }
    // slot key -> live tasks on the old spec / on the current spec
    Map<String, List<Task>> stale = new TreeMap<>();
    Map<String, List<Task>> fresh = new TreeMap<>();
    for (Task task : all) {
      if (TaskStates.isLive(task)) {
        (isCurrent(task, service) ? fresh : stale)
            .computeIfAbsent(TaskStates.slotKey(task), k -> new ArrayList<>())
            .add(task);
      }
    }
    if (stale.isEmpty()) {
      if (status.getState() == UpdateStatus.State.UPDATING) {
        setStatus(plan, serviceId, status.toBuilder().setState(UpdateStatus.State.COMPLETED)
            .setMessage("update completed").build());
      }
      return;
    }
    if (status.getState() == UpdateStatus.State.PAUSED) {
      return;
    }
    long startedAt = status.getStartedAtMs();
    if (status.getState() != UpdateStatus.State.UPDATING) {
      startedAt = nowMs;
      setStatus(plan, serviceId, UpdateStatus.newBuilder().setState(UpdateStatus.State.UPDATING)
          .setStartedAtMs(nowMs).setMessage("update in progress").build());
    } else if (config.getFailureAction() != UpdateConfig.FailureAction.CONTINUE) {
      for (Task task : all) {
        TaskState state = task.getStatus().getState();
        boolean failed = state == TaskState.FAILED || state == TaskState.REJECTED;
        if (failed && isCurrent(task, service) && task.getMeta().getCreatedAtMs() >= startedAt) {
          onFailure(service, task, plan, extra);
          return;
        }
      }
    }
    boolean startFirst = config.getOrder() == UpdateConfig.Order.START_FIRST;
    int inFlight = 0;
    long lastRunningAt = 0;
    for (Map.Entry<String, List<Task>> slot : fresh.entrySet()) {
      boolean running = slot.getValue().stream()
          .anyMatch(t -> t.getStatus().getState() == TaskState.RUNNING);
      for (Task task : slot.getValue()) {
        if (task.getStatus().getState() == TaskState.RUNNING && task.getMeta().getCreatedAtMs() >= startedAt) {
          lastRunningAt = Math.max(lastRunningAt, task.getMeta().getUpdatedAtMs());
        }
      }
      List<Task> old = stale.get(slot.getKey());
      if (!running) {
        if (old != null || createdSince(slot.getValue(), startedAt)) {
          inFlight++;
        }
      } else if (startFirst && old != null) {
        for (Task task : old) {
          plan.addDesired(Plans.desired(task.getMeta().getId(), TaskState.SHUTDOWN));
        }
      }
    }
    long capacity = config.getParallelism() == 0 ? Long.MAX_VALUE : config.getParallelism() - inFlight;
    if (config.getDelayMs() > 0) {
      long delayEnds = lastRunningAt + config.getDelayMs();
      if (inFlight > 0) {
        return; // until the batch runs: its tasks' progress brings us back (followsProgress)
      }
      if (lastRunningAt > 0 && nowMs < delayEnds) {
        wakeAtMs = Math.min(wakeAtMs, delayEnds);
        return;
      }
    }
    for (Map.Entry<String, List<Task>> slot : stale.entrySet()) {
      if (capacity <= 0 || Plans.full(plan, maxChangesPerRound)) {
        return;
      }
      if (fresh.containsKey(slot.getKey())) {
        continue; // replacement already under way
      }
      Task old = slot.getValue().get(0);
      if (!startFirst) {
        for (Task task : slot.getValue()) {
          plan.addDesired(Plans.desired(task.getMeta().getId(), TaskState.SHUTDOWN));
        }
      }
      plan.addCreateTasks(factory.newTask(view, service, old.getSlot(),
          TaskStates.pinnedNode(old), 0, nowMs));
      capacity--;
    }
  }

  /**
   * One pass without allocation before the per-slot maps: this runs for every service on every
   * round and tick, and nearly always finds nothing to do (building the maps for a service of
   * 50,000 tasks each time was most of the leader's reconcile CPU; docs/benchmarks.md).
   */
  private static boolean anyStale(List<Task> tasks, Service service) {
    for (Task task : tasks) {
      if (TaskStates.isLive(task) && !isCurrent(task, service)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether the task runs the service's current spec. Made from the current spec version: yes,
   * without comparing specs; else the specs decide (a rollback makes a new version of an older
   * spec, and the tasks still on it stay).
   */
  private static boolean isCurrent(Task task, Service service) {
    return task.getSpecVersion() == service.getSpecVersion()
        || task.getSpec().equals(TaskFactory.specFor(service, TaskStates.pinnedNode(task)));
  }

  private static boolean createdSince(List<Task> tasks, long since) {
    return tasks.stream().anyMatch(t -> t.getMeta().getCreatedAtMs() >= since);
  }

  private static void onFailure(Service service, Task failed, Plan.Builder plan, List<Command> extra) {
    String why = "task " + failed.getMeta().getId() + " " + failed.getStatus().getState()
        + (failed.getStatus().getErr().isEmpty() ? "" : ": " + failed.getStatus().getErr());
    UpdateStatus.Builder status = service.getUpdateStatus().toBuilder();
    if (service.getSpec().getUpdate().getFailureAction() == UpdateConfig.FailureAction.ROLLBACK
        && service.hasPreviousSpec()) {
      setStatus(plan, service.getMeta().getId(),
          status.setMessage("update failed (" + why + "), rolling back").build());
      extra.add(Command.newBuilder().setUpdateService(UpdateService.newBuilder()
          .setId(service.getMeta().getId())
          .setSpec(service.getPreviousSpec())
          .setIfVersion(service.getMeta().getVersion())
          .setRollback(true)).build());
    } else {
      setStatus(plan, service.getMeta().getId(), status.setState(UpdateStatus.State.PAUSED)
          .setMessage("update paused: " + why).build());
    }
  }

  private static void setStatus(Plan.Builder plan, String serviceId, UpdateStatus status) {
    plan.addServiceStatus(Plan.ServiceUpdateStatus.newBuilder().setServiceId(serviceId).setStatus(status));
  }
}
