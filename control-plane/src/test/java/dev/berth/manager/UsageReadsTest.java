package dev.berth.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.berth.api.v1.AgentMessage;
import dev.berth.api.v1.AgentServiceGrpc;
import dev.berth.api.v1.ClusterServiceGrpc;
import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.CreateServiceRequest;
import dev.berth.api.v1.GetRequest;
import dev.berth.api.v1.Heartbeat;
import dev.berth.api.v1.ListTasksRequest;
import dev.berth.api.v1.ManagerMessage;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeDescription;
import dev.berth.api.v1.Placement;
import dev.berth.api.v1.RegisterRequest;
import dev.berth.api.v1.ReplicatedService;
import dev.berth.api.v1.Resources;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.SessionOpen;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.TaskUsage;
import dev.berth.manager.dispatcher.LeaderWiring;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Heartbeat usage reaches API reads on the leader (Node.usage, Task.usage) and the
 * connected-agents gauge counts sessions, on a real single-manager ManagerServer with a raw
 * agent session over gRPC.
 */
class UsageReadsTest {
  @TempDir Path dir;

  @Test
  void heartbeatUsageFillsNodeAndTaskReadsOnTheLeaderOnly() throws Exception {
    SingleManager manager = SingleManager.start(dir);
    int metricsPort = manager.metricsPort();
    ManagedChannel channel = NettyChannelBuilder.forTarget(manager.addr()).usePlaintext().build();
    StreamObserver<AgentMessage> session = null;
    try {
      LeaderWiring.Installed installed = manager.wiring();
      String token = manager.workerToken();
      assertThat(scrape(metricsPort)).contains("berth_connected_agents 0.0");

      String nodeId = AgentServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
          .register(RegisterRequest.newBuilder().setToken(token).setRequestId("usage-agent-1")
              .putLabels("zone", "usage").setDescription(NodeDescription.newBuilder().setHostname("usage-host")
                  .setResources(Resources.newBuilder().setNanoCpus(4_000_000_000L).setMemoryBytes(8L << 30)))
              .build()).getNodeId();
      session = AgentServiceGrpc.newStub(channel).session(new StreamObserver<ManagerMessage>() {
        @Override
        public void onNext(ManagerMessage value) {}

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {}
      });
      session.onNext(AgentMessage.newBuilder().setOpen(SessionOpen.newBuilder().setNodeId(nodeId)).build());
      await().atMost(Duration.ofSeconds(30)).until(() -> installed.dispatcher().connectedAgents() == 1);
      assertThat(scrape(metricsPort)).contains("berth_connected_agents 1.0");

      ClusterServiceGrpc.ClusterServiceBlockingStub cluster = ClusterServiceGrpc.newBlockingStub(channel);
      cluster.withDeadlineAfter(30, TimeUnit.SECONDS).createService(CreateServiceRequest.newBuilder()
          .setSpec(ServiceSpec.newBuilder().setName("web")
              .setReplicated(ReplicatedService.newBuilder().setReplicas(1))
              .setTask(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage("web:1"))
                  .setPlacement(Placement.newBuilder().addConstraints("node.labels.zone==usage"))))
          .build());
      await().atMost(Duration.ofSeconds(30)).until(() -> tasks(cluster).stream()
          .anyMatch(t -> t.getNodeId().equals(nodeId)));
      String taskId = tasks(cluster).get(0).getMeta().getId();
      assertThat(tasks(cluster).get(0).hasUsage()).as("no reading yet").isFalse();

      session.onNext(AgentMessage.newBuilder().setHeartbeat(Heartbeat.newBuilder()
          .setNodeUsage(Resources.newBuilder().setNanoCpus(1_500_000_000L).setMemoryBytes(3L << 30))
          .putTaskUsage(taskId, TaskUsage.newBuilder().setNanoCpus(250_000_000L)
              .setMemoryBytes(64L << 20).setSampledAtMs(1234).build())).build());
      await().atMost(Duration.ofSeconds(30)).until(() -> node(cluster, nodeId).hasUsage());
      Node node = node(cluster, nodeId);
      assertThat(node.getUsage().getUsed().getNanoCpus()).isEqualTo(1_500_000_000L);
      assertThat(node.getUsage().getUsed().getMemoryBytes()).isEqualTo(3L << 30);
      assertThat(node.getUsage().getSampledAtMs()).isPositive();
      Task task = tasks(cluster).get(0);
      assertThat(task.getUsage().getNanoCpus()).isEqualTo(250_000_000L);
      assertThat(task.getUsage().getMemoryBytes()).isEqualTo(64L << 20);
      assertThat(cluster.getTask(GetRequest.newBuilder().setId(taskId).build()).getTask().getUsage())
          .isEqualTo(task.getUsage());
      boolean stored = manager.server().store().read(v -> v.task(taskId).orElseThrow().hasUsage());
      assertThat(stored).as("usage never goes into the replicated store").isFalse();

      // Not leading any more (as on a follower): reads carry no usage and no agents are connected.
      installed.dispatcher().onLeaderStop();
      assertThat(node(cluster, nodeId).hasUsage()).isFalse();
      assertThat(tasks(cluster).get(0).hasUsage()).isFalse();
      assertThat(scrape(metricsPort)).contains("berth_connected_agents 0.0");
    } finally {
      if (session != null) {
        session.onCompleted();
      }
      channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      manager.close();
    }
  }

  private static List<Task> tasks(ClusterServiceGrpc.ClusterServiceBlockingStub cluster) {
    return cluster.withDeadlineAfter(30, TimeUnit.SECONDS)
        .listTasks(ListTasksRequest.newBuilder().setService("web").build()).getTasksList();
  }

  private static Node node(ClusterServiceGrpc.ClusterServiceBlockingStub cluster, String id) {
    return cluster.withDeadlineAfter(30, TimeUnit.SECONDS).getNode(GetRequest.newBuilder().setId(id).build()).getNode();
  }

  private static String scrape(int port) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + port + "/metrics")).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    return r.body();
  }
}
