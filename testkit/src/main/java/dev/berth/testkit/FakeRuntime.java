package dev.berth.testkit;

import dev.berth.api.v1.Assignments;
import dev.berth.api.v1.Resources;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import java.time.Clock;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * {@link FakeAgent}'s containers: an in-memory runtime that moves each assigned task ACCEPTED →
 * PREPARING → STARTING → RUNNING (the options' delay per step, their simulated start failures) and
 * to SHUTDOWN when the manager no longer wants it. Idempotent by task id: a full task set replaces
 * what it runs, other assignments add or change tasks, and a task whose state the manager has not
 * recorded yet is reported again.
 *
 * <p>Thread model: not thread-safe by itself; every call is made holding {@code guard} (the agent's
 * monitor), and the step timers it schedules take that monitor too. Each transition goes to the
 * reporter, under the same monitor. Nothing is thrown.
 */
final class FakeRuntime {
  private static final List<TaskState> STEPS =
      List.of(TaskState.ACCEPTED, TaskState.PREPARING, TaskState.STARTING, TaskState.RUNNING);

  private static final class Local {
    Task task;
    TaskState state;
    ScheduledFuture<?> step;

    Local(Task task, TaskState state) {
      this.task = task;
      this.state = state;
    }
  }

  private final Object guard;
  private final FakeAgent.Options options;
  private final ScheduledExecutorService scheduler;
  private final Clock clock;
  private final BiConsumer<String, TaskStatus> reporter;
  private final Map<String, Local> tasks = new HashMap<>();

  FakeRuntime(Object guard, FakeAgent.Options options, ScheduledExecutorService scheduler, Clock clock,
      BiConsumer<String, TaskStatus> reporter) {
    this.guard = guard;
    this.options = options;
    this.scheduler = scheduler;
    this.clock = clock;
    this.reporter = reporter;
  }

  /** Applies the tasks of one assignments message (full set or change). */
  void apply(Assignments assignments) {
    if (assignments.getFull()) {
      Set<String> keep = new HashSet<>();
      assignments.getTasksList().forEach(t -> keep.add(t.getMeta().getId()));
      for (String id : List.copyOf(tasks.keySet())) {
        if (!keep.contains(id)) {
          cancel(tasks.remove(id).step);
        }
      }
    }
    for (String id : assignments.getRemovedTaskIdsList()) {
      Local gone = tasks.remove(id);
      if (gone != null) {
        cancel(gone.step);
      }
    }
    for (Task task : assignments.getTasksList()) {
      String id = task.getMeta().getId();
      TaskState recorded = task.getStatus().getState();
      boolean wanted = task.getDesiredState().getNumber() <= TaskState.RUNNING_VALUE;
      Local local = tasks.get(id);
      if (local == null) {
        if (terminal(recorded)) {
          continue;
        }
        local = new Local(task, recorded.getNumber() < TaskState.ASSIGNED_VALUE ? TaskState.ASSIGNED : recorded);
        tasks.put(id, local);
        if (wanted) {
          step(local);
        } else {
          moveTo(local, TaskState.SHUTDOWN, "not wanted");
        }
        continue;
      }
      local.task = task;
      if (!wanted && !terminal(local.state)) {
        cancel(local.step);
        moveTo(local, TaskState.SHUTDOWN, "stopped on request");
      } else if (local.state.getNumber() > recorded.getNumber() && !terminal(recorded)) {
        report(local, ""); // the manager missed this one (lost batch, new leader)
      }
    }
  }

  /** Advances a task one step (or all steps at once when there is no delay). */
  private void step(Local local) {
    while (!terminal(local.state) && local.state != TaskState.RUNNING) {
      if (tasks.get(local.task.getMeta().getId()) != local) {
        return;
      }
      TaskState next = STEPS.stream().filter(s -> s.getNumber() > local.state.getNumber())
          .findFirst().orElse(TaskState.RUNNING);
      if (next == TaskState.RUNNING && options.failsToStart().test(local.task)) {
        moveTo(local, TaskState.FAILED, "simulated start failure");
        return;
      }
      moveTo(local, next, "");
      if (!options.stepDelay().isZero() && local.state != TaskState.RUNNING) {
        local.step = scheduler.schedule(() -> {
          synchronized (guard) {
            step(local);
          }
        }, options.stepDelay().toMillis(), TimeUnit.MILLISECONDS);
        return;
      }
    }
  }

  private void moveTo(Local local, TaskState state, String err) {
    local.state = state;
    report(local, err);
  }

  private void report(Local local, String err) {
    TaskStatus.Builder status = TaskStatus.newBuilder().setState(local.state)
        .setTimestampMs(clock.millis()).setMessage("fake agent: " + local.state.name().toLowerCase());
    if (!err.isEmpty() && local.state == TaskState.FAILED) {
      status.setErr(err);
    }
    reporter.accept(local.task.getMeta().getId(), status.build());
  }

  /** The reservations of the tasks running now: what the heartbeat reports as the node's usage. */
  Resources usage() {
    long cpu = 0;
    long memory = 0;
    for (Local local : tasks.values()) {
      if (local.state == TaskState.RUNNING) {
        cpu += local.task.getSpec().getResources().getReservations().getNanoCpus();
        memory += local.task.getSpec().getResources().getReservations().getMemoryBytes();
      }
    }
    return Resources.newBuilder().setNanoCpus(cpu).setMemoryBytes(memory).build();
  }

  /** Task id -> the state it has reached. */
  Map<String, TaskState> states() {
    Map<String, TaskState> out = new HashMap<>();
    tasks.forEach((id, local) -> out.put(id, local.state));
    return out;
  }

  /** Stops every pending step (the tasks stay as they are). */
  void close() {
    tasks.values().forEach(l -> cancel(l.step));
  }

  private static boolean terminal(TaskState state) {
    return state.getNumber() >= TaskState.COMPLETE_VALUE;
  }

  static void cancel(ScheduledFuture<?> future) {
    if (future != null) {
      future.cancel(false);
    }
  }
}
