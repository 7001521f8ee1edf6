package dev.berth.agent.task;

import dev.berth.agent.health.ExecResult;
import dev.berth.agent.health.HealthChecks;
import dev.berth.agent.health.HealthMonitor;
import dev.berth.agent.health.ProbeTarget;
import dev.berth.agent.loop.Scheduler;
import dev.berth.api.v1.ContainerStatus;
import dev.berth.api.v1.HealthCheck;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import dev.berth.api.v1.TaskUsage;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executor;

/**
 * The agent's task state machine: drives each assigned task from ACCEPTED through PREPARING, STARTING and
 * RUNNING to COMPLETE, FAILED, SHUTDOWN or REJECTED, as its desired state asks, through a {@link
 * TaskExecutor}, and reports every transition to a {@link StatusSink}.
 *
 * <p>Idempotent by task id: applying the same task again only updates its spec/desired state, so repeated,
 * duplicated or reordered assignments are harmless. States only move forward. A task the full set no
 * longer lists (or the manager removes) is stopped, its resources removed and it is forgotten. The agent
 * never restarts a task: a restart is a new task from the manager.
 *
 * <p>Thread model: every public method must be called on the scheduler's loop thread; blocking executor
 * calls run on the worker executor and their results are posted back to the loop, so the state here is
 * only touched by the loop. Error contract: executor failures become FAILED / REJECTED reports with the
 * error's message; nothing is thrown to the caller.
 */
public final class TaskManager {
    private static final System.Logger LOG = System.getLogger(TaskManager.class.getName());
    static final Duration DEFAULT_STOP_GRACE = Duration.ofSeconds(10);

    private final TaskExecutor executor;
    private final Scheduler loop;
    private final Executor worker;
    private final StatusSink sink;
    private final Map<String, Entry> tasks = new LinkedHashMap<>();
    private boolean retained;

    /** Per-task bookkeeping. {@code busy}: an executor call for it is in flight on the worker. */
    private static final class Entry {
        Task task;
        TaskStatus reported;
        boolean busy;
        boolean containerUp;
        boolean cleaned;
        boolean forget;
        TaskExecutor.Prepared prepared;
        TaskExecutor.Exit pendingExit;
        TaskState stopAs;
        String stopMessage;
        HealthMonitor health;
        ContainerStatus container = ContainerStatus.getDefaultInstance();

        Entry(Task task) {
            this.task = task;
            this.reported = task.getStatus();
        }

        String id() {
            return task.getMeta().getId();
        }

        TaskState state() {
            return reported.getState();
        }
    }

    public TaskManager(TaskExecutor executor, Scheduler loop, Executor worker, StatusSink sink) {
        this.executor = executor;
        this.loop = loop;
        this.worker = worker;
        this.sink = sink;
        executor.onExit((id, exit) -> loop.execute(() -> exited(id, exit)));
    }

    /**
     * Applies the node's full task set: tasks not in it are stopped, removed and forgotten. The first one
     * also has the executor remove leftover containers of tasks it does not list.
     */
    public void applyFull(Collection<Task> full) {
        Set<String> keep = new HashSet<>();
        full.forEach(t -> keep.add(t.getMeta().getId()));
        for (String id : List.copyOf(tasks.keySet())) {
            if (!keep.contains(id)) {
                forget(id);
            }
        }
        full.forEach(this::apply);
        if (!retained) {
            // the first full set after start says which leftover containers are still this node's
            retained = true;
            Set<String> owned = Set.copyOf(keep);
            worker.execute(() -> {
                try {
                    executor.retain(owned);
                } catch (Exception ex) {
                    LOG.log(System.Logger.Level.WARNING, "removing containers this node no longer owns failed: "
                            + message(ex));
                }
            });
        }
    }

    /** Applies numbered changes: created or changed tasks, and ids no longer assigned to this node. */
    public void applyChanges(Collection<Task> changed, Collection<String> removedIds) {
        removedIds.forEach(this::forget);
        changed.forEach(this::apply);
    }

    /** Last status this manager reported (or was given) for a task it tracks. */
    public Optional<TaskStatus> status(String taskId) {
        Entry e = tasks.get(taskId);
        return e == null ? Optional.empty() : Optional.of(e.reported);
    }

    /** Ids of the tasks tracked, including finished ones the manager still lists. */
    public Set<String> taskIds() {
        return Set.copyOf(tasks.keySet());
    }

    /** Usage of the running tasks (task id to usage), read from the executor. */
    public Map<String, TaskUsage> usage() {
        Map<String, TaskUsage> out = new HashMap<>();
        tasks.values().forEach(e -> {
            if (e.containerUp) {
                executor.usage(e.id()).ifPresent(u -> out.put(e.id(), u));
            }
        });
        return out;
    }

    private void apply(Task task) {
        String id = task.getMeta().getId();
        if (id.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "ignoring an assigned task without id");
            return;
        }
        Entry e = tasks.get(id);
        if (e == null) {
            e = new Entry(task);
            tasks.put(id, e);
            TaskState given = task.getStatus().getState();
            if (given.getNumber() > TaskState.ASSIGNED_VALUE && !terminal(given)) {
                adopt(e);
                return;
            }
        } else {
            e.task = task;
        }
        if (wantsStop(task) && e.stopAs == null && !terminal(e.state())) {
            e.stopAs = TaskState.SHUTDOWN;
            e.stopMessage = "shut down as requested";
        }
        step(e);
    }

    private void forget(String id) {
        Entry e = tasks.get(id);
        if (e == null) {
            return;
        }
        e.forget = true;
        if (e.stopAs == null && !terminal(e.state())) {
            e.stopAs = TaskState.SHUTDOWN;
            e.stopMessage = "removed from this node";
        }
        step(e);
    }

    /** The single place that advances a task: called after every event touching it. */
    private void step(Entry e) {
        if (e.busy) {
            return;
        }
        if (terminal(e.state())) {
            stopHealth(e);
            boolean removeNow = e.forget || e.task.getDesiredState().getNumber() >= TaskState.REMOVE_VALUE;
            if (removeNow && !e.cleaned) {
                run(e, () -> {
                    executor.remove(e.id());
                    return null;
                }, ok -> e.cleaned = true, err -> {
                    e.cleaned = true; // logged; nothing more the agent can do for it
                    LOG.log(System.Logger.Level.WARNING, "removing task " + e.id() + " failed: " + err.getMessage());
                });
            } else if (e.forget && tasks.get(e.id()) == e) {
                tasks.remove(e.id());
            }
            return;
        }
        if (e.stopAs != null) {
            stopTask(e);
            return;
        }
        switch (e.state()) {
            case NEW, PENDING, ASSIGNED -> accept(e);
            case ACCEPTED -> {
                report(e, TaskState.PREPARING, "preparing: pulling image " + e.task.getSpec().getContainer().getImage(), null);
                step(e);
            }
            case PREPARING -> {
                if (e.prepared == null) {
                    run(e, () -> executor.prepare(e.task), p -> e.prepared = p, err -> {
                        if (err instanceof TaskRejectedException) {
                            report(e, TaskState.REJECTED, "rejected", err.getMessage());
                        } else {
                            report(e, TaskState.FAILED, "preparing failed", message(err));
                        }
                    });
                } else {
                    startTask(e);
                }
            }
            case RUNNING -> {
                if (e.pendingExit != null) {
                    finish(e, e.pendingExit);
                }
            }
            default -> { /* STARTING is always busy; other states are terminal */ }
        }
    }

    private void accept(Entry e) {
        Optional<String> invalid = validate(e.task);
        report(e, TaskState.ACCEPTED, "accepted", null);
        if (invalid.isPresent()) {
            report(e, TaskState.REJECTED, "rejected", invalid.get());
        }
        step(e);
    }

    private Optional<String> validate(Task t) {
        if (t.getSpec().getContainer().getImage().isBlank()) {
            return Optional.of("invalid spec: container.image is empty");
        }
        try {
            HealthChecks.effective(t.getSpec().getContainer().getHealthcheck(), Optional.empty());
        } catch (IllegalArgumentException ex) {
            return Optional.of("invalid spec: " + ex.getMessage());
        }
        return Optional.empty();
    }

    private void startTask(Entry e) {
        Optional<HealthCheck> check;
        try {
            check = HealthChecks.effective(e.task.getSpec().getContainer().getHealthcheck(), e.prepared.imageHealthcheck());
        } catch (IllegalArgumentException ex) {
            report(e, TaskState.REJECTED, "rejected", "invalid health check in image: " + ex.getMessage());
            step(e);
            return;
        }
        report(e, TaskState.STARTING, "starting container", null);
        run(e, () -> executor.start(e.task), c -> {
            e.containerUp = true;
            e.container = c.toBuilder().setHealth(check.isPresent() ? HealthMonitor.STARTING : "").build();
            report(e, TaskState.RUNNING, "running", null);
            check.ifPresent(hc -> startHealth(e, hc));
        }, err -> report(e, TaskState.FAILED, "starting failed", message(err)));
    }

    private void startHealth(Entry e, HealthCheck hc) {
        String id = e.id();
        ProbeTarget target = new ProbeTarget() {
            @Override
            public ExecResult exec(List<String> argv, Duration timeout) throws Exception {
                return executor.exec(id, argv, timeout);
            }

            @Override
            public InetAddress address() {
                return executor.probeAddress(id);
            }
        };
        e.health = new HealthMonitor(hc, HealthChecks.probeFor(hc, target), loop, worker,
                loop.clock().instant(), (status, output) -> healthChanged(e, status, output));
        e.health.start();
    }

    private void healthChanged(Entry e, String status, String output) {
        if (e.state() != TaskState.RUNNING || e.stopAs != null) {
            return;
        }
        e.container = e.container.toBuilder().setHealth(status).build();
        if (status.equals(HealthMonitor.UNHEALTHY)) {
            e.stopAs = TaskState.FAILED;
            e.stopMessage = "unhealthy: " + output;
            step(e);
        } else if (!status.equals(HealthMonitor.STARTING)) {
            sendReport(e, e.reported.toBuilder().setContainer(e.container).setMessage("running, " + status).build());
        }
    }

    private void stopTask(Entry e) {
        stopHealth(e);
        if (!e.containerUp) {
            report(e, e.stopAs, e.stopMessage + (e.state().getNumber() < TaskState.RUNNING_VALUE ? " before it started" : ""), null);
            step(e);
            return;
        }
        Duration grace = e.task.getSpec().getContainer().getStopGracePeriodMs() > 0
                ? Duration.ofMillis(e.task.getSpec().getContainer().getStopGracePeriodMs()) : DEFAULT_STOP_GRACE;
        String signal = !e.task.getSpec().getContainer().getStopSignal().isEmpty()
                ? e.task.getSpec().getContainer().getStopSignal()
                : e.prepared != null ? e.prepared.imageStopSignal().orElse("SIGTERM") : "SIGTERM";
        run(e, () -> executor.stop(e.id(), grace, signal), exit -> {
            e.containerUp = false;
            e.container = e.container.toBuilder().setExitCode(exit.exitCode()).setOomKilled(exit.oomKilled()).build();
            report(e, e.stopAs, e.stopMessage, e.stopAs == TaskState.FAILED ? e.stopMessage : null);
        }, err -> {
            e.containerUp = false;
            report(e, TaskState.FAILED, "stopping failed", message(err));
        });
    }

    private void exited(String id, TaskExecutor.Exit exit) {
        Entry e = tasks.get(id);
        if (e == null || terminal(e.state()) || e.stopAs != null) {
            return; // a stop in flight reports the exit itself
        }
        if (e.busy || e.state() != TaskState.RUNNING) {
            e.pendingExit = exit; // exited while start() was still returning
            return;
        }
        finish(e, exit);
    }

    private void finish(Entry e, TaskExecutor.Exit exit) {
        e.containerUp = false;
        e.container = e.container.toBuilder().setExitCode(exit.exitCode()).setOomKilled(exit.oomKilled()).build();
        String why = exit.oomKilled() ? "OOM killed (exit code " + exit.exitCode() + ")"
                : "exited with code " + exit.exitCode();
        if (!exit.message().isEmpty()) {
            why += ": " + exit.message();
        }
        if (exit.exitCode() == 0 && !exit.oomKilled()) {
            report(e, TaskState.COMPLETE, why, null);
        } else {
            report(e, TaskState.FAILED, why, why);
        }
        step(e);
    }

    private void adopt(Entry e) {
        run(e, () -> executor.adopt(e.task), found -> {
            TaskState given = e.task.getStatus().getState();
            if (found.isPresent()) {
                e.prepared = TaskExecutor.Prepared.NONE;
                e.container = found.get().container();
                e.containerUp = found.get().exit().isEmpty();
                if (given != TaskState.RUNNING) {
                    report(e, TaskState.RUNNING, "running (adopted after agent restart)", null);
                }
                found.get().exit().ifPresent(x -> e.pendingExit = x);
                if (e.containerUp) {
                    // the image's check is not known without preparing again; the spec's still applies
                    HealthChecks.effective(e.task.getSpec().getContainer().getHealthcheck(), Optional.empty())
                            .ifPresent(hc -> startHealth(e, hc));
                }
            } else if (given.getNumber() >= TaskState.STARTING_VALUE) {
                report(e, TaskState.FAILED, "container lost", "the agent restarted and found no container for the task");
            }
            if (wantsStop(e.task) && e.stopAs == null && !terminal(e.state())) {
                e.stopAs = TaskState.SHUTDOWN;
                e.stopMessage = "shut down as requested";
            }
        }, err -> report(e, TaskState.FAILED, "adoption failed", message(err)));
    }

    /** Runs a blocking executor call on the worker, then {@code ok}/{@code failed} and {@link #step} on the loop. */
    private <T> void run(Entry e, Call<T> call, java.util.function.Consumer<T> ok,
                         java.util.function.Consumer<Exception> failed) {
        e.busy = true;
        worker.execute(() -> {
            T value = null;
            Exception error = null;
            try {
                value = call.call();
            } catch (Exception ex) {
                error = ex;
            }
            T v = value;
            Exception err = error;
            loop.execute(() -> {
                e.busy = false;
                if (err == null) {
                    ok.accept(v);
                } else {
                    failed.accept(err);
                }
                step(e);
            });
        });
    }

    @FunctionalInterface
    private interface Call<T> {
        T call() throws Exception;
    }

    private void report(Entry e, TaskState state, String message, String err) {
        if (state.getNumber() <= e.state().getNumber()) {
            return; // forward only
        }
        TaskStatus.Builder s = TaskStatus.newBuilder().setState(state).setMessage(message)
                .setTimestampMs(loop.clock().millis()).setContainer(e.container);
        if (err != null) {
            s.setErr(err);
        }
        sendReport(e, s.build());
    }

    private void sendReport(Entry e, TaskStatus s) {
        e.reported = s;
        if (!e.forget) {
            sink.report(e.id(), s);
        }
    }

    private static void stopHealth(Entry e) {
        if (e.health != null) {
            e.health.stop();
            e.health = null;
        }
    }

    private static boolean wantsStop(Task t) {
        return t.getDesiredState().getNumber() > TaskState.RUNNING_VALUE;
    }

    static boolean terminal(TaskState s) {
        return s.getNumber() >= TaskState.COMPLETE_VALUE;
    }

    private static String message(Exception e) {
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }
}
