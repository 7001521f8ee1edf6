package dev.berth.agent.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.berth.agent.loop.EventLoop;
import dev.berth.agent.task.SimulatedTaskExecutor;
import dev.berth.agent.task.TaskManager;
import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.Meta;
import dev.berth.api.v1.NodeDescription;
import dev.berth.api.v1.Resources;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The session client against real gRPC AgentService servers (in-process) running scripted managers. */
class SessionClientTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    @TempDir
    Path stateDir;

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final ExecutorService workers = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "test-worker");
        t.setDaemon(true);
        return t;
    });
    private SimulatedTaskExecutor executor;

    @AfterEach
    void tearDown() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
        workers.shutdownNow();
    }

    private ScriptedManager manager(String name, String... managers) throws Exception {
        ScriptedManager m = new ScriptedManager(name, List.of(managers));
        closeables.add(m);
        return m;
    }

    private SessionClient agent(String... join) {
        EventLoop loop = new EventLoop("agent-loop", Clock.systemUTC());
        closeables.add(loop);
        executor = new SimulatedTaskExecutor(loop.clock(), image -> !image.equals("nope"));
        SessionConfig cfg = new SessionConfig(List.of(join), "BERTH-1-ca-secret", Map.of("zone", "a"),
                Duration.ofMillis(10), Duration.ofMillis(200), Duration.ofSeconds(1), Duration.ofSeconds(5),
                Duration.ofMillis(5));
        NodeDescription desc = NodeDescription.newBuilder().setHostname("h1")
                .setResources(Resources.newBuilder().setNanoCpus(2_000_000_000L).setMemoryBytes(1L << 30)).build();
        SessionClient client = new SessionClient(cfg, target -> InProcessChannelBuilder.forName(target).build(),
                new NodeIdStore(stateDir), () -> desc, loop, new Random(7));
        closeables.add(client);
        client.start(new TaskManager(executor, loop, workers, client));
        return client;
    }

    static Task task(String id, TaskState desired, TaskState status) {
        return Task.newBuilder().setMeta(Meta.newBuilder().setId(id)).setDesiredState(desired)
                .setSpec(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage("busybox")))
                .setStatus(TaskStatus.newBuilder().setState(status)).build();
    }

    static Task task(String id) {
        return task(id, TaskState.RUNNING, TaskState.ASSIGNED);
    }

    @Test
    void registersOnceAndARestartedAgentRegistersAsTheSameNode() throws Exception {
        ScriptedManager m = manager("m1", "m1");
        SessionClient first = agent("m1");
        await().atMost(WAIT).until(() -> m.sessions.size() == 1);
        RegisterRequest0 r = new RegisterRequest0(m.registrations.get(0));
        assertThat(r.req.getNodeId()).isEmpty();
        assertThat(r.req.getToken()).isEqualTo("BERTH-1-ca-secret");
        assertThat(r.req.getLabelsMap()).containsEntry("zone", "a");
        assertThat(r.req.getDescription().getResources().getNanoCpus()).isEqualTo(2_000_000_000L);
        assertThat(m.session(0).nodeId()).isEqualTo("node-1");
        assertThat(Files.readString(stateDir.resolve("node-id")).strip()).isEqualTo("node-1");
        first.close();

        agent("m1");
        await().atMost(WAIT).until(() -> m.sessions.size() == 2);
        assertThat(m.registrations).hasSize(2);
        assertThat(m.registrations.get(1).getNodeId()).isEqualTo("node-1");
        assertThat(m.session(1).nodeId()).isEqualTo("node-1");
    }

    private record RegisterRequest0(dev.berth.api.v1.RegisterRequest req) {
    }

    @Test
    void appliesTheFullSetThenIncrementsAndReportsEveryTransition() throws Exception {
        ScriptedManager m = manager("m1", "m1");
        agent("m1");
        await().atMost(WAIT).until(() -> m.sessions.size() == 1);
        ScriptedManager.Session s = m.session(0);
        s.full(1, task("t1"));
        await().atMost(WAIT).until(() -> s.transitions("t1").contains("RUNNING"));
        assertThat(s.transitions("t1")).containsExactly("ACCEPTED", "PREPARING", "STARTING", "RUNNING");
        assertThat(s.updates()).allSatisfy(u -> assertThat(u.getStatus().getTimestampMs()).isPositive());

        s.changes(2, List.of(task("t2"), task("bad").toBuilder().setSpec(TaskSpec.newBuilder()
                .setContainer(ContainerSpec.newBuilder().setImage("nope"))).build()), List.of());
        s.changes(2, List.of(task("t2")), List.of()); // a repeat: harmless
        s.changes(3, List.of(task("t1", TaskState.SHUTDOWN, TaskState.RUNNING)), List.of());
        await().atMost(WAIT).until(() -> s.transitions("t1").contains("SHUTDOWN") && s.transitions("t2").contains("RUNNING")
                && s.transitions("bad").contains("REJECTED"));
        assertThat(s.transitions("t2")).containsExactly("ACCEPTED", "PREPARING", "STARTING", "RUNNING");
        assertThat(s.updates()).filteredOn(u -> u.getTaskId().equals("bad") && u.getStatus().getState() == TaskState.REJECTED)
                .singleElement().satisfies(u -> assertThat(u.getStatus().getErr()).isEqualTo("image nope not found"));
        assertThat(executor.running()).containsExactly("t2");

        // heartbeats at the manager's period carry the applied seq and the running tasks' usage
        int before = s.heartbeats().size();
        await().atMost(WAIT).until(() -> s.heartbeats().size() >= before + 2);
        var hb = s.heartbeats().get(s.heartbeats().size() - 1);
        assertThat(hb.getAppliedSeq()).isEqualTo(3);
        assertThat(hb.getTaskUsageMap()).containsOnlyKeys("t2");
        assertThat(hb.getNodeUsage().getMemoryBytes()).isEqualTo(hb.getTaskUsageMap().get("t2").getMemoryBytes());
        assertThat(m.sessions).hasSize(1); // the repeat did not cause a reconnect

        s.changes(4, List.of(), List.of("t2"));
        await().atMost(WAIT).until(() -> executor.running().isEmpty() && executor.wasRemoved("t2"));
    }

    @Test
    void aSeqGapMakesTheAgentReconnectForAFullSet() throws Exception {
        ScriptedManager m = manager("m1", "m1");
        agent("m1");
        await().atMost(WAIT).until(() -> m.sessions.size() == 1);
        m.session(0).full(1, task("t1"));
        await().atMost(WAIT).until(() -> m.session(0).transitions("t1").contains("RUNNING"));
        m.session(0).changes(3, List.of(task("t3")), List.of()); // seq 2 never came
        await().atMost(WAIT).until(() -> m.sessions.size() == 2);
        assertThat(m.session(0).ended).isTrue();
        assertThat(executor.running()).containsExactly("t1"); // the change after the gap was not applied

        m.session(1).full(1, task("t1", TaskState.RUNNING, TaskState.RUNNING), task("t3"));
        await().atMost(WAIT).until(() -> m.session(1).transitions("t3").contains("RUNNING"));
        assertThat(executor.running()).containsExactlyInAnyOrder("t1", "t3");
        assertThat(m.session(1).transitions("t1")).isEmpty(); // acknowledged by the full set, not re-sent
    }

    @Test
    void aRedirectIsFollowedToTheLeader() throws Exception {
        ScriptedManager follower = manager("f1", "f1", "l1");
        ScriptedManager leader = manager("l1", "l1", "f1");
        follower.onOpen = s -> s.redirect("l1", "l1", "f1");
        SessionClient client = agent("f1");
        await().atMost(WAIT).until(() -> leader.sessions.size() == 1);
        leader.session(0).full(1, task("t1"));
        await().atMost(WAIT).until(() -> leader.session(0).transitions("t1").contains("RUNNING"));
        SessionClient.Snapshot snap = client.snapshot().get();
        assertThat(snap.target()).isEqualTo("l1");
        assertThat(snap.accepted()).isTrue();
        assertThat(snap.managers()).contains("l1", "f1");
        assertThat(follower.sessions).hasSize(1);
        assertThat(follower.session(0).ended).isTrue();
    }

    @Test
    void whenTheLeaderDiesTheAgentMovesToTheNextManagerItLearned() throws Exception {
        ScriptedManager m1 = manager("m1", "m1");
        ScriptedManager m2 = manager("m2", "m2", "m1");
        SessionClient client = agent("m1");
        await().atMost(WAIT).until(() -> m1.sessions.size() == 1);
        m1.session(0).managers("m1", "m1", "m2");
        m1.session(0).full(1, task("t1"));
        await().atMost(WAIT).until(() -> m1.session(0).transitions("t1").contains("RUNNING"));
        m1.close();
        await().atMost(WAIT).until(() -> m2.sessions.size() == 1);
        assertThat(m2.session(0).nodeId()).isEqualTo("node-1");
        m2.session(0).full(1, task("t1", TaskState.RUNNING, TaskState.RUNNING));
        await().atMost(WAIT).until(() -> client.snapshot().get().appliedSeq() == 1);
        assertThat(executor.running()).containsExactly("t1");
    }

    @Test
    void statusIsResentAfterReconnectUntilAFullSetShowsIt() throws Exception {
        ScriptedManager m = manager("m1", "m1");
        SessionClient client = agent("m1");
        await().atMost(WAIT).until(() -> m.sessions.size() == 1);
        m.session(0).full(1, task("t1"));
        await().atMost(WAIT).until(() -> m.session(0).transitions("t1").contains("RUNNING"));
        assertThat(client.snapshot().get().unacked()).containsExactly("t1");
        m.session(0).kill(); // the leader died before committing the report

        await().atMost(WAIT).until(() -> m.sessions.size() == 2);
        m.session(1).full(1, task("t1", TaskState.RUNNING, TaskState.ASSIGNED));
        await().atMost(WAIT).until(() -> !m.session(1).transitions("t1").isEmpty());
        assertThat(m.session(1).transitions("t1")).containsExactly("RUNNING");
        m.session(1).kill();

        await().atMost(WAIT).until(() -> m.sessions.size() == 3);
        ScriptedManager.Session third = m.session(2);
        third.full(1, task("t1", TaskState.RUNNING, TaskState.RUNNING));
        third.changes(2, List.of(task("t9")), List.of());
        await().atMost(WAIT).until(() -> third.transitions("t9").contains("RUNNING"));
        assertThat(third.transitions("t1")).isEmpty();
        assertThat(client.snapshot().get().unacked()).containsExactly("t9");
        // an increment echoing the committed status acknowledges it
        third.changes(3, List.of(task("t9", TaskState.RUNNING, TaskState.RUNNING)), List.of());
        await().atMost(WAIT).until(() -> client.snapshot().get().unacked().isEmpty());
    }

    @Test
    void aRefusedTokenStopsTheAgentWithTheManagersReason() throws Exception {
        ScriptedManager m = manager("m1", "m1");
        m.onRegister = r -> {
            throw Status.UNAUTHENTICATED.withDescription("invalid join token").asRuntimeException();
        };
        SessionClient client = agent("m1");
        await().atMost(WAIT).until(() -> client.terminated().isDone());
        assertThat(client.terminated()).failsWithin(Duration.ZERO).withThrowableOfType(ExecutionException.class)
                .withMessageContaining("refused to join this node: UNAUTHENTICATED: invalid join token");
        assertThat(m.sessions).isEmpty();
        assertThat(stateDir.resolve("node-id")).doesNotExist();
    }

    @Test
    void aSessionRefusedForAnUnknownNodeRegistersAgainWithTheSameId() throws Exception {
        ScriptedManager m = manager("m1", "m1");
        m.onOpen = s -> {
            if (m.registrations.size() == 1) {
                s.refuse(Status.NOT_FOUND.withDescription("node_id: node node-1 is not registered"));
            } else {
                s.accept(50);
            }
        };
        agent("m1");
        await().atMost(WAIT).until(() -> m.registrations.size() == 2 && m.sessions.size() == 2);
        assertThat(m.registrations.get(1).getNodeId()).isEqualTo("node-1");
        assertThat(m.session(1).nodeId()).isEqualTo("node-1");
    }

    @Test
    void anUnreachableManagerIsRetriedWithBackoffUntilItAppears() throws Exception {
        SessionClient client = agent("late");
        await().atMost(WAIT).until(() -> client.snapshot().get().target() != null);
        ScriptedManager m = manager("late", "late");
        await().atMost(WAIT).until(() -> m.sessions.size() == 1);
        assertThat(m.registrations).hasSize(1);
    }
}
