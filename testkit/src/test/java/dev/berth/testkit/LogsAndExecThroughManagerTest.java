package dev.berth.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.berth.agent.Agent;
import dev.berth.agent.health.ExecResult;
import dev.berth.agent.session.HostDescription;
import dev.berth.agent.session.SessionConfig;
import dev.berth.agent.task.SimulatedTaskExecutor;
import dev.berth.api.v1.ClusterServiceGrpc;
import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.LogChunk;
import dev.berth.api.v1.LogStream;
import dev.berth.api.v1.ReplicatedService;
import dev.berth.api.v1.ServiceLogsRequest;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.TaskState;
import dev.berth.manager.dispatcher.DispatcherConfig;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ServiceLogs} and {@code Exec} end to end in one JVM: the public API and the dispatcher of an
 * in-process cluster, and two real agents (session client, task manager, attach handler) running the
 * service's tasks on the simulated executor, over in-process gRPC.
 */
class LogsAndExecThroughManagerTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  @TempDir
  Path stateDir;

  private LocalCluster cluster;
  private final List<Agent> agents = new ArrayList<>();
  private final Map<String, SimulatedTaskExecutor> executorByNode = new HashMap<>();
  private final List<ManagedChannel> clients = new ArrayList<>();
  private String serviceId;

  @BeforeEach
  void start() {
    cluster = new LocalCluster(Clock.systemUTC(), DispatcherConfig.defaults().withHeartbeat(100, 20), 600_000, "m1", "m2");
    assertThat(cluster.init().getCode()).isEqualTo("OK");
    cluster.electLeader("m1");
    for (int i = 0; i < 2; i++) {
      SimulatedTaskExecutor executor = new SimulatedTaskExecutor(Clock.systemUTC());
      SessionConfig cfg = new SessionConfig(cluster.addresses(), cluster.workerToken(), Map.of(),
          Duration.ofMillis(20), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofMillis(5));
      Agent agent = new Agent(cfg, stateDir.resolve("agent-" + i), "", executor,
          t -> InProcessChannelBuilder.forName(t.substring(Channels.IN_PROCESS.length())).build(),
          HostDescription.system(), Clock.systemUTC(), new Random(i)).start();
      agents.add(agent);
      await().atMost(WAIT).until(() -> agent.session().nodeId().isPresent());
      executorByNode.put(agent.session().nodeId().orElseThrow(), executor);
    }
    await().atMost(WAIT).until(() -> cluster.manager("m1").dispatcher().connectedAgents() == 2);
    serviceId = cluster.createService(ServiceSpec.newBuilder().setName("web")
        .setTask(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage("busybox")))
        .setReplicated(ReplicatedService.newBuilder().setReplicas(2)).build());
    await().atMost(WAIT).until(() -> tasks().size() == 2
        && tasks().stream().allMatch(t -> t.getStatus().getState() == TaskState.RUNNING));
  }

  @AfterEach
  void stop() {
    clients.forEach(ManagedChannel::shutdownNow);
    agents.forEach(Agent::close);
    cluster.close();
  }

  private List<Task> tasks() {
    return cluster.store().read(v -> v.tasksOfService(serviceId).stream()
        .filter(t -> t.getDesiredState() == TaskState.RUNNING).toList());
  }

  private SimulatedTaskExecutor executorOf(Task t) {
    return executorByNode.get(t.getNodeId());
  }

  private ClusterServiceGrpc.ClusterServiceBlockingStub blocking(String manager) {
    return ClusterServiceGrpc.newBlockingStub(channel(manager));
  }

  private ManagedChannel channel(String manager) {
    ManagedChannel c = InProcessChannelBuilder.forName(manager).build();
    clients.add(c);
    return c;
  }

  private static List<LogChunk> drain(Iterator<LogChunk> it) {
    List<LogChunk> out = new ArrayList<>();
    it.forEachRemaining(out::add);
    return out;
  }

  @Test
  void logsOfEveryTaskWithTailPerTaskNodeAndSlotAndStreams() {
    for (Task t : tasks()) {
      for (int i = 1; i <= 5; i++) {
        executorOf(t).log(t.getMeta().getId(), i == 5 ? "stderr" : "stdout", "line " + i + " of slot " + t.getSlot());
      }
    }
    List<LogChunk> all = drain(blocking("m1").serviceLogs(ServiceLogsRequest.newBuilder().setService("web").build()));
    assertThat(all).hasSize(2 * 6); // the start line the executor records, then five
    List<LogChunk> tail = drain(blocking("m1").serviceLogs(ServiceLogsRequest.newBuilder().setService(serviceId)
        .setTail(2).build()));
    assertThat(tail).hasSize(4);
    for (Task t : tasks()) {
      List<LogChunk> mine = tail.stream().filter(c -> c.getTaskId().equals(t.getMeta().getId())).toList();
      assertThat(mine).extracting(LogChunk::getText)
          .containsExactly("line 4 of slot " + t.getSlot(), "line 5 of slot " + t.getSlot());
      assertThat(mine).extracting(LogChunk::getStream).containsExactly(LogStream.STDOUT, LogStream.STDERR);
      assertThat(mine).allSatisfy(c -> {
        assertThat(c.getNodeId()).isEqualTo(t.getNodeId());
        assertThat(c.getSlot()).isEqualTo(t.getSlot());
        assertThat(c.getTimeUnixNanos()).isPositive();
      });
    }
    assertThatThrownBy(() -> drain(blocking("m1").serviceLogs(ServiceLogsRequest.newBuilder().setService("nope").build())))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
          assertThat(e.getStatus().getDescription()).contains("nope");
        });
  }

  @Test
  void followDeliversLaterLinesAndCancellationReachesTheAgents() {
    List<LogChunk> received = new CopyOnWriteArrayList<>();
    CompletableFuture<ClientCallStreamObserver<ServiceLogsRequest>> call = new CompletableFuture<>();
    ClusterServiceGrpc.newStub(channel("m1")).serviceLogs(ServiceLogsRequest.newBuilder().setService("web")
        .setFollow(true).setTail(0).build(), new ClientResponseObserver<ServiceLogsRequest, LogChunk>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<ServiceLogsRequest> requestStream) {
            call.complete(requestStream);
          }

          @Override
          public void onNext(LogChunk c) {
            received.add(c);
          }

          @Override
          public void onError(Throwable t) {
          }

          @Override
          public void onCompleted() {
          }
        });
    Task first = tasks().get(0);
    await().atMost(WAIT).until(() -> executorByNode.values().stream().mapToInt(SimulatedTaskExecutor::openLogReaders).sum() == 2);
    assertThat(received).isEmpty(); // tail 0: nothing of the past
    executorOf(first).log(first.getMeta().getId(), "stdout", "written later");
    await().atMost(WAIT).until(() -> received.stream().anyMatch(c -> c.getText().equals("written later")
        && c.getTaskId().equals(first.getMeta().getId())));

    call.join().cancel("user pressed Ctrl-C", null);
    await().atMost(WAIT).until(() -> executorByNode.values().stream().mapToInt(SimulatedTaskExecutor::openLogReaders).sum() == 0);
  }

  @Test
  void aDisconnectedNodeGetsANoteInsteadOfAHang() {
    Agent gone = agents.get(1);
    String goneNode = gone.session().nodeId().orElseThrow();
    gone.close();
    await().atMost(WAIT).until(() -> cluster.manager("m1").dispatcher().connectedAgents() == 1);
    List<LogChunk> chunks = drain(blocking("m1").serviceLogs(ServiceLogsRequest.newBuilder().setService("web").build()));
    Task onGoneNode = tasks().stream().filter(t -> t.getNodeId().equals(goneNode)).findFirst().orElseThrow();
    assertThat(chunks).filteredOn(c -> !c.getNote().isEmpty()).singleElement().satisfies(c -> {
      assertThat(c.getTaskId()).isEqualTo(onGoneNode.getMeta().getId());
      assertThat(c.getNote()).contains(goneNode).contains("not connected");
    });
    assertThat(chunks).filteredOn(c -> c.getNote().isEmpty()).isNotEmpty()
        .allSatisfy(c -> assertThat(c.getNodeId()).isNotEqualTo(goneNode));
  }

  @Test
  void aFollowerSendsTheCallerToTheLeader() {
    assertThatThrownBy(() -> drain(blocking("m2").serviceLogs(ServiceLogsRequest.newBuilder().setService("web").build())))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
          assertThat(e.getStatus().getDescription()).contains("leader: inproc:m1");
        });
  }

  private ExecCall exec(String task, String... argv) {
    return ExecCall.start(channel("m1"), task, "", argv);
  }

  @Test
  void execRunsInTheTasksContainerAndReturnsItsExitCode() {
    Task t = tasks().get(0);
    List<String> seen = new CopyOnWriteArrayList<>();
    executorOf(t).onExec((taskId, argv) -> {
      seen.add(taskId + " " + argv);
      return new ExecResult(3, "ran " + String.join(" ", argv) + "\n");
    });
    ExecCall call = exec(t.getMeta().getId().substring(0, 8), "cat", "/etc/hostname");
    assertThat(call.exit.join()).isEqualTo(3);
    assertThat(call.stdout).hasToString("ran cat /etc/hostname\n");
    assertThat(seen).containsExactly(t.getMeta().getId() + " [cat, /etc/hostname]");

    assertThatThrownBy(() -> exec("no-such-task", "true").exit.join()).hasCauseInstanceOf(StatusRuntimeException.class)
        .cause().satisfies(e -> {
          assertThat(((StatusRuntimeException) e).getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
          assertThat(e.getMessage()).contains("no-such-task");
        });
    executorOf(t).exit(t.getMeta().getId(), 0, false);
    await().atMost(WAIT).until(() -> cluster.store().read(v -> v.task(t.getMeta().getId())).orElseThrow()
        .getStatus().getState() == TaskState.COMPLETE);
    assertThatThrownBy(() -> exec(t.getMeta().getId(), "true").exit.join()).cause().satisfies(e -> {
      assertThat(((StatusRuntimeException) e).getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
      assertThat(e.getMessage()).contains(t.getMeta().getId()).contains("not running");
    });
  }
}
