package dev.berth.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.berth.api.v1.Cluster;
import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.ReplicatedService;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.TaskState;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.CreateService;
import dev.berth.internal.v1.LogEntry;
import dev.berth.manager.ManagerConfig;
import dev.berth.manager.ManagerServer;
import dev.berth.manager.dispatcher.DispatcherConfig;
import dev.berth.manager.dispatcher.LeaderWiring;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The dispatcher and reconcile loop installed on a real single-manager ManagerServer (Ratis). */
class LeaderWiringTest {
  @TempDir Path dir;

  static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  void aFakeAgentJoinsAManagerServerAndRunsAService() throws Exception {
    int api = freePort();
    ManagerServer server = new ManagerServer(ManagerConfig.defaults(dir, "127.0.0.1", api)
        .withPorts(api, freePort(), freePort()).withRoomyRaft(true), Clock.systemUTC());
    ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2);
    Channels channels = new Channels();
    FakeAgent agent = null;
    try {
      server.init();
      LeaderWiring.Installed installed = LeaderWiring.install(server, Clock.systemUTC(),
          DispatcherConfig.defaults(), 30_000);
      server.start();
      await().atMost(Duration.ofSeconds(60)).until(() -> server.proposer() != null
          && server.proposer().isLeader() && server.store().read(v -> v.cluster().isPresent())
          && server.tokens().isPresent());
      Cluster cluster = server.store().read(v -> v.cluster().orElseThrow());
      String token = server.tokens().get().tokens(cluster).getWorker();

      agent = new FakeAgent(List.of("127.0.0.1:" + api), channels::get,
          FakeAgent.Options.of(token, "wired"), scheduler, Clock.systemUTC());
      agent.start();
      FakeAgent joined = agent;
      await().atMost(Duration.ofSeconds(60)).until(() -> !joined.nodeId().isEmpty()
          && server.store().read(v -> v.node(joined.nodeId()).map(n -> n.getStatus().getState())
              .orElse(NodeState.NODE_UNKNOWN)) == NodeState.NODE_READY);

      String id = "svc" + System.nanoTime();
      assertThat(server.proposer().propose(LogEntry.newBuilder().setTimestampMs(System.currentTimeMillis())
          .addCommands(Command.newBuilder().setCreateService(CreateService.newBuilder().setId(id)
              .setSpec(ServiceSpec.newBuilder().setName("web")
                  .setTask(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage("web:1")))
                  .setReplicated(ReplicatedService.newBuilder().setReplicas(3))))).build())
          .get(30, TimeUnit.SECONDS).getCode()).isEqualTo("OK");

      await().atMost(Duration.ofSeconds(60)).until(() -> server.store().read(v -> v.tasksOfService(id).stream()
          .filter(t -> t.getStatus().getState() == TaskState.RUNNING).count()) == 3);
      assertThat(joined.taskStates()).hasSize(3);
      assertThat(installed.dispatcher().connectedAgents()).isEqualTo(1);
    } finally {
      if (agent != null) {
        agent.close();
      }
      channels.close();
      scheduler.shutdownNow();
      server.close();
    }
  }
}
