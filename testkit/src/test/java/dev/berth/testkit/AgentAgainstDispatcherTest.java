package dev.berth.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.berth.agent.Agent;
import dev.berth.agent.session.HostDescription;
import dev.berth.agent.session.SessionConfig;
import dev.berth.agent.task.SimulatedTaskExecutor;
import dev.berth.api.v1.Cluster;
import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.Meta;
import dev.berth.api.v1.ReplicatedService;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import dev.berth.internal.v1.ApplyResult;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.CreateService;
import dev.berth.internal.v1.InitCluster;
import dev.berth.internal.v1.LogEntry;
import dev.berth.internal.v1.Plan;
import dev.berth.manager.dispatcher.AgentDispatcher;
import dev.berth.manager.dispatcher.DispatcherConfig;
import dev.berth.manager.dispatcher.JoinTokens;
import dev.berth.manager.dispatcher.Membership;
import dev.berth.manager.orchestrator.IdGenerator;
import dev.berth.manager.store.ClusterStore;
import dev.berth.manager.store.Proposer;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real agent session client (with the simulated executor) against the real manager-side
 * AgentDispatcher over gRPC, with an in-memory store standing in for Raft.
 */
class AgentAgainstDispatcherTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    @TempDir
    Path stateDir;

    private final ClusterStore store = new ClusterStore();
    private long index;
    private final Proposer proposer = new Proposer() {
        @Override
        public CompletableFuture<ApplyResult> propose(LogEntry entry) {
            synchronized (store) {
                return CompletableFuture.completedFuture(store.apply(entry, ++index).result());
            }
        }

        @Override
        public boolean isLeader() {
            return true;
        }
    };
    private final Membership membership = Membership.of(() -> "manager-1", () -> Optional.of("manager-1"),
            () -> List.of("manager-1"));
    private final IdGenerator ids = IdGenerator.random();
    private AgentDispatcher dispatcher;
    private Server server;
    private Agent agent;
    private SimulatedTaskExecutor executor;
    private String serviceId;

    private void commit(Command command) {
        ApplyResult r = proposer.propose(LogEntry.newBuilder().setRequestId(ids.next())
                .setTimestampMs(System.currentTimeMillis()).addCommands(command).build()).join();
        assertThat(r.getCode()).as(r.getMessage()).isEqualTo("OK");
    }

    @BeforeEach
    void startManagerAndAgent() throws Exception {
        commit(Command.newBuilder().setInitCluster(InitCluster.newBuilder().setCluster(Cluster.newBuilder()
                .setMeta(Meta.newBuilder().setId(ids.next())).setName("test")
                .setWorkerTokenHash(JoinTokens.sha256("wsecret")).setManagerTokenHash(JoinTokens.sha256("msecret"))
                .setDefaultAddressPool("10.10.0.0/16").setDefaultSubnetSize(24))).build());
        serviceId = ids.next();
        commit(Command.newBuilder().setCreateService(CreateService.newBuilder().setId(serviceId)
                .setSpec(ServiceSpec.newBuilder().setName("web").setTask(TaskSpec.newBuilder()
                        .setContainer(ContainerSpec.newBuilder().setImage("busybox")))
                        .setReplicated(ReplicatedService.newBuilder().setReplicas(1)))).build());
        dispatcher = new AgentDispatcher(store, proposer, membership, Clock.systemUTC(), ids,
                DispatcherConfig.defaults().withHeartbeat(100, 20));
        dispatcher.onLeaderStart();
        server = InProcessServerBuilder.forName("manager-1").addService(dispatcher).build().start();

        executor = new SimulatedTaskExecutor(Clock.systemUTC());
        SessionConfig cfg = new SessionConfig(List.of("manager-1"), "BERTH-1-digest-wsecret", Map.of("zone", "a"),
                Duration.ofMillis(20), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(5),
                Duration.ofMillis(5));
        agent = new Agent(cfg, stateDir, "127.0.0.1", executor, t -> InProcessChannelBuilder.forName(t).build(),
                HostDescription.system(), Clock.systemUTC(), new Random()).start();
        await().atMost(WAIT).until(() -> dispatcher.connectedAgents() == 1);
    }

    @AfterEach
    void stop() {
        if (agent != null) {
            agent.close();
        }
        if (server != null) {
            server.shutdownNow();
        }
        if (dispatcher != null) {
            dispatcher.close();
        }
    }

    private String nodeId() {
        return agent.session().nodeId().orElseThrow();
    }

    private String assignNewTask(long slot) {
        String taskId = ids.next();
        commit(Command.newBuilder().setPlan(Plan.newBuilder()
                .addCreateTasks(Task.newBuilder().setMeta(Meta.newBuilder().setId(taskId)).setServiceId(serviceId)
                        .setSlot(slot).setSpec(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage("busybox")))
                        .setDesiredState(TaskState.RUNNING).setStatus(TaskStatus.newBuilder().setState(TaskState.NEW)))
                .addAssignments(Plan.Assignment.newBuilder().setTaskId(taskId).setNodeId(nodeId()))).build());
        return taskId;
    }

    private TaskState storedState(String taskId) {
        return store.read(v -> v.task(taskId)).orElseThrow().getStatus().getState();
    }

    @Test
    void registeredNodeRunsItsTaskAndTheStoreSeesEveryReport() {
        Optional<dev.berth.api.v1.Node> node = store.read(v -> v.node(nodeId()));
        assertThat(node).hasValueSatisfying(n -> {
            assertThat(n.getSpec().getLabelsMap()).containsEntry("zone", "a");
            assertThat(n.getDescription().getEngineVersion()).contains("simulated");
        });
        String t1 = assignNewTask(1);
        await().atMost(WAIT).until(() -> storedState(t1) == TaskState.RUNNING);
        assertThat(executor.running()).containsExactly(t1);
        assertThat(store.read(v -> v.task(t1)).orElseThrow().getStatus().getContainer().getContainerId())
                .isEqualTo("sim-" + t1);

        commit(Command.newBuilder().setPlan(Plan.newBuilder().addDesired(Plan.Desired.newBuilder()
                .setTaskId(t1).setDesiredState(TaskState.SHUTDOWN))).build());
        await().atMost(WAIT).until(() -> storedState(t1) == TaskState.SHUTDOWN);
        assertThat(executor.running()).isEmpty();

        executor.exit("none", 0, false); // no such container: nothing happens
        String t2 = assignNewTask(1);
        await().atMost(WAIT).until(() -> storedState(t2) == TaskState.RUNNING);
        executor.exit(t2, 3, false);
        await().atMost(WAIT).until(() -> storedState(t2) == TaskState.FAILED);
        assertThat(store.read(v -> v.task(t2)).orElseThrow().getStatus().getContainer().getExitCode()).isEqualTo(3);
    }

    @Test
    void afterALeaderChangeTheAgentReconnectsAndKeepsItsTasks() throws Exception {
        String t1 = assignNewTask(1);
        await().atMost(WAIT).until(() -> storedState(t1) == TaskState.RUNNING);
        int before = agent.session().snapshot().get().sessionsOpened();

        dispatcher.onLeaderStop(); // sessions end with a redirect to the (same) leader
        dispatcher.onLeaderStart();
        await().atMost(WAIT).until(() -> dispatcher.connectedAgents() == 1
                && agent.session().snapshot().get().sessionsOpened() > before
                && agent.session().snapshot().get().appliedSeq() >= 1);
        assertThat(executor.running()).containsExactly(t1); // the full set kept it, it was not restarted

        String t2 = assignNewTask(2);
        await().atMost(WAIT).until(() -> storedState(t2) == TaskState.RUNNING);
        assertThat(executor.running()).containsExactlyInAnyOrder(t1, t2);
    }

    @Test
    void manyAgentsShareOneLoopAndOneWorkerPool() throws Exception {
        int n = 20;
        List<Agent> fleet = new java.util.ArrayList<>();
        List<SimulatedTaskExecutor> executors = new java.util.ArrayList<>();
        java.util.concurrent.ExecutorService workers = java.util.concurrent.Executors.newFixedThreadPool(2);
        dev.berth.agent.loop.EventLoop loop = new dev.berth.agent.loop.EventLoop("fleet-loop", Clock.systemUTC());
        try {
            SessionConfig cfg = new SessionConfig(List.of("manager-1"), "BERTH-1-digest-wsecret", Map.of(),
                    Duration.ofMillis(20), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(5),
                    Duration.ofMillis(5));
            for (int i = 0; i < n; i++) {
                SimulatedTaskExecutor ex = new SimulatedTaskExecutor(loop.clock());
                executors.add(ex);
                fleet.add(new Agent(cfg, stateDir.resolve("agent-" + i), "", ex,
                        t -> InProcessChannelBuilder.forName(t).build(), HostDescription.system(), loop, workers,
                        new Random(i)).start());
            }
            await().atMost(WAIT).until(() -> dispatcher.connectedAgents() == n + 1);
            List<String> taskIds = new java.util.ArrayList<>();
            for (int i = 0; i < n; i++) {
                String nodeId = fleet.get(i).session().nodeId().orElseThrow();
                String taskId = ids.next();
                taskIds.add(taskId);
                commit(Command.newBuilder().setPlan(Plan.newBuilder()
                        .addCreateTasks(Task.newBuilder().setMeta(Meta.newBuilder().setId(taskId)).setServiceId(serviceId)
                                .setSlot(i + 1).setSpec(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage("busybox")))
                                .setDesiredState(TaskState.RUNNING).setStatus(TaskStatus.newBuilder().setState(TaskState.NEW)))
                        .addAssignments(Plan.Assignment.newBuilder().setTaskId(taskId).setNodeId(nodeId))).build());
            }
            await().atMost(WAIT).until(() -> taskIds.stream().allMatch(id -> storedState(id) == TaskState.RUNNING));
            for (int i = 0; i < n; i++) {
                assertThat(executors.get(i).running()).containsExactly(taskIds.get(i));
            }
        } finally {
            fleet.forEach(Agent::close); // before the shared loop they run on
            loop.close();
            workers.shutdownNow();
        }
    }
}
