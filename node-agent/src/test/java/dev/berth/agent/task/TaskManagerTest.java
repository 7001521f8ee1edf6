package dev.berth.agent.task;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.agent.health.ExecResult;
import dev.berth.agent.loop.ManualExecutor;
import dev.berth.agent.loop.ManualScheduler;
import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.HealthCheck;
import dev.berth.api.v1.Meta;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TaskManagerTest {
    private final ManualScheduler loop = new ManualScheduler();
    private final ManualExecutor workers = new ManualExecutor();
    private final SimulatedTaskExecutor executor = new SimulatedTaskExecutor(loop.clock(), img -> !img.startsWith("missing"));
    private final List<String> reports = new ArrayList<>();
    private final List<TaskStatus> statuses = new ArrayList<>();
    private final TaskManager manager = new TaskManager(executor, loop, workers, (id, s) -> {
        reports.add(id + ":" + s.getState());
        statuses.add(s);
    });

    static Task task(String id, String image, TaskState desired) {
        return Task.newBuilder().setMeta(Meta.newBuilder().setId(id))
                .setSpec(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage(image)))
                .setDesiredState(desired).setStatus(TaskStatus.newBuilder().setState(TaskState.ASSIGNED)).build();
    }

    static Task task(String id) {
        return task(id, "busybox", TaskState.RUNNING);
    }

    private void settle() {
        do {
            loop.runPending();
            workers.runAll();
            loop.runPending();
        } while (workers.pending() > 0);
    }

    private TaskState state(String id) {
        return manager.status(id).orElseThrow().getState();
    }

    private TaskStatus last(String id) {
        for (int i = reports.size() - 1; i >= 0; i--) {
            if (reports.get(i).startsWith(id + ":")) {
                return statuses.get(i);
            }
        }
        throw new AssertionError("no report for " + id);
    }

    @Test
    void runsThroughEveryStateWithTimestampsThenCompletes() {
        manager.applyFull(List.of(task("t1")));
        settle();
        assertThat(reports).containsExactly("t1:ACCEPTED", "t1:PREPARING", "t1:STARTING", "t1:RUNNING");
        assertThat(statuses).allSatisfy(s -> assertThat(s.getTimestampMs()).isEqualTo(loop.now().toEpochMilli()));
        assertThat(executor.isRunning("t1")).isTrue();
        assertThat(last("t1").getContainer().getContainerId()).isEqualTo("sim-t1");

        loop.advance(Duration.ofSeconds(5));
        executor.exit("t1", 0, false);
        settle();
        assertThat(state("t1")).isEqualTo(TaskState.COMPLETE);
        assertThat(last("t1").getContainer().getExitCode()).isZero();
        assertThat(last("t1").getTimestampMs()).isEqualTo(loop.now().toEpochMilli());
        assertThat(last("t1").getMessage()).isEqualTo("exited with code 0");
    }

    @Test
    void nonZeroExitAndOomAreFailedAndNeverRestarted() {
        manager.applyFull(List.of(task("a"), task("b")));
        settle();
        executor.exit("a", 3, false);
        executor.exit("b", 137, true);
        settle();
        assertThat(last("a").getState()).isEqualTo(TaskState.FAILED);
        assertThat(last("a").getErr()).isEqualTo("exited with code 3");
        assertThat(last("a").getContainer().getExitCode()).isEqualTo(3);
        assertThat(last("b").getState()).isEqualTo(TaskState.FAILED);
        assertThat(last("b").getContainer().getOomKilled()).isTrue();
        assertThat(last("b").getMessage()).contains("OOM killed");
        // the same assignment again does not restart a finished task
        manager.applyFull(List.of(task("a"), task("b")));
        settle();
        assertThat(executor.running()).isEmpty();
        assertThat(reports).filteredOn(r -> r.equals("a:RUNNING")).hasSize(1);
    }

    @Test
    void desiredShutdownStopsTheContainerWithTheSpecSignal() {
        manager.applyFull(List.of(task("t1")));
        settle();
        Task stop = task("t1", "busybox", TaskState.SHUTDOWN).toBuilder()
                .setSpec(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage("busybox").setStopSignal("SIGKILL")))
                .build();
        manager.applyChanges(List.of(stop), List.of());
        settle();
        assertThat(state("t1")).isEqualTo(TaskState.SHUTDOWN);
        assertThat(last("t1").getContainer().getExitCode()).isEqualTo(137);
        assertThat(executor.isRunning("t1")).isFalse();
        assertThat(executor.wasRemoved("t1")).isFalse(); // kept until the manager removes it
        manager.applyChanges(List.of(task("t1", "busybox", TaskState.REMOVE)), List.of());
        settle();
        assertThat(executor.wasRemoved("t1")).isTrue();
    }

    @Test
    void repeatedDuplicatedAndReorderedAssignmentsAreHarmless() {
        Task t = task("t1");
        manager.applyFull(List.of(t));
        manager.applyChanges(List.of(t, t), List.of());
        manager.applyFull(List.of(t));
        settle();
        manager.applyChanges(List.of(t), List.of());
        settle();
        assertThat(reports).containsExactly("t1:ACCEPTED", "t1:PREPARING", "t1:STARTING", "t1:RUNNING");
        int pid = last("t1").getContainer().getPid();

        // a newer change (stop) then a stale one (running) arriving late: the task stays stopped
        manager.applyChanges(List.of(task("t1", "busybox", TaskState.SHUTDOWN)), List.of());
        manager.applyChanges(List.of(t), List.of());
        settle();
        assertThat(state("t1")).isEqualTo(TaskState.SHUTDOWN);
        assertThat(executor.isRunning("t1")).isFalse();
        assertThat(reports).filteredOn(r -> r.startsWith("t1:")).hasSize(5);
        assertThat(statuses.get(3).getContainer().getPid()).isEqualTo(pid);
    }

    @Test
    void aTaskTheFullSetNoLongerListsIsStoppedRemovedAndForgotten() {
        manager.applyFull(List.of(task("a"), task("b")));
        settle();
        int reportsBefore = reports.size();
        manager.applyFull(List.of(task("b")));
        settle();
        assertThat(executor.isRunning("a")).isFalse();
        assertThat(executor.wasRemoved("a")).isTrue();
        assertThat(manager.taskIds()).containsExactly("b");
        assertThat(executor.isRunning("b")).isTrue();
        assertThat(reports).hasSize(reportsBefore); // nobody left to tell about a deleted task

        manager.applyChanges(List.of(), List.of("b"));
        settle();
        assertThat(executor.running()).isEmpty();
        assertThat(manager.taskIds()).isEmpty();
    }

    @Test
    void unknownImageAndImpossibleSpecAreRejectedWithAClearMessage() {
        Task badHealth = task("h").toBuilder().setSpec(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder()
                .setImage("busybox").setHealthcheck(HealthCheck.newBuilder().addTest("RUN").addTest("x")))).build();
        manager.applyFull(List.of(task("m", "missing/img:1", TaskState.RUNNING), task("e", " ", TaskState.RUNNING), badHealth));
        settle();
        assertThat(last("m").getState()).isEqualTo(TaskState.REJECTED);
        assertThat(last("m").getErr()).isEqualTo("image missing/img:1 not found");
        assertThat(last("e").getState()).isEqualTo(TaskState.REJECTED);
        assertThat(last("e").getErr()).contains("container.image is empty");
        assertThat(last("h").getState()).isEqualTo(TaskState.REJECTED);
        assertThat(last("h").getErr()).contains("unknown type 'RUN'");
        assertThat(executor.running()).isEmpty();
    }

    @Test
    void theFirstFullSetRemovesLeftoverContainersItDoesNotList() {
        executor.start(task("left-over"));
        manager.applyFull(List.of(task("t1")));
        settle();
        assertThat(executor.isRunning("t1")).isTrue();
        assertThat(executor.isRunning("left-over")).isFalse();
        executor.start(task("later"));
        manager.applyFull(List.of(task("t1")));
        settle();
        assertThat(executor.running()).containsExactlyInAnyOrder("t1", "later");
    }

    @Test
    void aFailingPullFailsTheTask() {
        executor.failPrepares("registry 127.0.0.1:5000 unreachable");
        manager.applyFull(List.of(task("t1")));
        settle();
        assertThat(reports).containsExactly("t1:ACCEPTED", "t1:PREPARING", "t1:FAILED");
        assertThat(last("t1").getErr()).isEqualTo("registry 127.0.0.1:5000 unreachable");
    }

    @Test
    void shutdownWhilePreparingNeverStartsTheContainer() {
        manager.applyFull(List.of(task("t1")));
        loop.runPending();
        assertThat(state("t1")).isEqualTo(TaskState.PREPARING);
        assertThat(workers.pending()).isEqualTo(2); // the pull and the first full set's cleanup of leftovers
        manager.applyChanges(List.of(task("t1", "busybox", TaskState.SHUTDOWN)), List.of());
        settle();
        assertThat(reports).containsExactly("t1:ACCEPTED", "t1:PREPARING", "t1:SHUTDOWN");
        assertThat(last("t1").getMessage()).contains("before it started");
        assertThat(executor.running()).isEmpty();
    }

    @Test
    void finishedTasksFromTheManagerAreLeftAlone() {
        Task done = task("t1").toBuilder().setStatus(TaskStatus.newBuilder().setState(TaskState.COMPLETE)).build();
        manager.applyFull(List.of(done));
        settle();
        assertThat(reports).isEmpty();
        assertThat(executor.running()).isEmpty();
        assertThat(state("t1")).isEqualTo(TaskState.COMPLETE);
    }

    @Test
    void afterAnAgentRestartARunningContainerIsAdoptedAndALostOneFails() {
        Task running = task("kept").toBuilder().setStatus(TaskStatus.newBuilder().setState(TaskState.RUNNING)).build();
        Task lost = task("lost").toBuilder().setStatus(TaskStatus.newBuilder().setState(TaskState.RUNNING)).build();
        executor.start(running); // the container survived the agent
        manager.applyFull(List.of(running, lost));
        settle();
        assertThat(reports).containsExactly("lost:FAILED");
        assertThat(last("lost").getErr()).contains("found no container");
        assertThat(state("kept")).isEqualTo(TaskState.RUNNING);
        executor.exit("kept", 2, false);
        settle();
        assertThat(last("kept").getState()).isEqualTo(TaskState.FAILED);
        assertThat(manager.usage()).isEmpty();
    }

    @Test
    void anUnhealthyTaskFailsWithTheLastProbeOutput() {
        HealthCheck hc = HealthCheck.newBuilder().addTest("CMD-SHELL").addTest("check.sh").setIntervalMs(1000)
                .setTimeoutMs(500).setRetries(2).build();
        executor.setImageHealthcheck("web", hc);
        List<List<String>> probes = new ArrayList<>();
        boolean[] ok = {true};
        executor.onExec((id, argv) -> {
            probes.add(argv);
            return ok[0] ? new ExecResult(0, "fine") : new ExecResult(1, "db down");
        });
        manager.applyFull(List.of(task("t1", "web", TaskState.RUNNING)));
        settle();
        assertThat(last("t1").getContainer().getHealth()).isEqualTo("starting");
        loop.advance(Duration.ofMillis(1000));
        settle();
        assertThat(last("t1").getState()).isEqualTo(TaskState.RUNNING);
        assertThat(last("t1").getContainer().getHealth()).isEqualTo("healthy");
        assertThat(probes.get(0)).containsExactly("/bin/sh", "-c", "check.sh");

        ok[0] = false;
        loop.advance(Duration.ofMillis(1000));
        settle();
        assertThat(state("t1")).isEqualTo(TaskState.RUNNING); // one failure of two allowed
        loop.advance(Duration.ofMillis(1000));
        settle();
        TaskStatus s = last("t1");
        assertThat(s.getState()).isEqualTo(TaskState.FAILED);
        assertThat(s.getMessage()).isEqualTo("unhealthy: db down");
        assertThat(s.getContainer().getHealth()).isEqualTo("unhealthy");
        assertThat(executor.isRunning("t1")).isFalse();
        int probesAtFailure = probes.size();
        loop.advance(Duration.ofSeconds(10));
        settle();
        assertThat(probes).hasSize(probesAtFailure); // no probing of a stopped task
        assertThat(manager.taskIds()).isEqualTo(Set.of("t1"));
    }

    @Test
    void aContainerThatDiesWhileStartReturnsIsReportedRunningThenFailed() {
        ManualScheduler loop2 = new ManualScheduler();
        ManualExecutor workers2 = new ManualExecutor();
        SimulatedTaskExecutor sim = new SimulatedTaskExecutor(loop2.clock());
        TaskExecutor dying = new TaskExecutor() {
            @Override public String name() { return "dying"; }
            @Override public void onExit(ExitListener l) { sim.onExit(l); }
            @Override public Prepared prepare(Task t) throws Exception { return sim.prepare(t); }
            @Override public dev.berth.api.v1.ContainerStatus start(Task t) {
                dev.berth.api.v1.ContainerStatus c = sim.start(t);
                sim.exit(t.getMeta().getId(), 127, false); // exits before start() has returned
                return c;
            }
            @Override public Exit stop(String id, Duration g, String s) { return sim.stop(id, g, s); }
            @Override public void remove(String id) { sim.remove(id); }
            @Override public java.util.Optional<dev.berth.api.v1.TaskUsage> usage(String id) { return sim.usage(id); }
            @Override public ExecResult exec(String id, List<String> a, Duration t) throws Exception { return sim.exec(id, a, t); }
            @Override public java.net.InetAddress probeAddress(String id) { return sim.probeAddress(id); }
            @Override public java.util.Optional<Adoption> adopt(Task t) { return sim.adopt(t); }
            @Override public void retain(Set<String> owned) throws Exception { sim.retain(owned); }
        };
        List<String> seen = new ArrayList<>();
        TaskManager tm = new TaskManager(dying, loop2, workers2, (id, st) -> seen.add(st.getState() + ":" + st.getContainer().getExitCode()));
        tm.applyFull(List.of(task("t1")));
        do {
            loop2.runPending();
            workers2.runAll();
            loop2.runPending();
        } while (workers2.pending() > 0);
        assertThat(seen).containsExactly("ACCEPTED:0", "PREPARING:0", "STARTING:0", "RUNNING:0", "FAILED:127");
    }
}
