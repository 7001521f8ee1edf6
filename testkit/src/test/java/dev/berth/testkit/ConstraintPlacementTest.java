package dev.berth.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.berth.api.v1.ClusterServiceGrpc;
import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.ListTasksRequest;
import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.Placement;
import dev.berth.api.v1.ReplicatedService;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.TaskState;
import dev.berth.manager.SingleManager;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scheduler wired into a real single-manager ManagerServer: placement constraints decide
 * where fake agents run tasks, and an impossible constraint's explanation reaches ListTasks.
 */
class ConstraintPlacementTest {
  @TempDir Path dir;

  @Test
  void constrainedServiceRunsOnlyInZoneAAndImpossibleOneExplainsWhy() throws Exception {
    SingleManager manager = SingleManager.start(dir);
    FakeAgentFleet fleet = new FakeAgentFleet(2);
    try {
      String token = manager.workerToken();
      String[][] zones = {{"a1", "a"}, {"a2", "a"}, {"b1", "b"}};
      for (String[] z : zones) {
        fleet.start(List.of(manager.addr()), FakeAgent.Options.of(token, z[0]).withLabels(Map.of("zone", z[1])));
      }
      List<FakeAgent> agents = fleet.agents();
      await().atMost(Duration.ofSeconds(60)).until(() -> agents.stream().allMatch(a -> !a.nodeId().isEmpty()
          && manager.nodeState(a.nodeId()) == NodeState.NODE_READY));
      Set<String> zoneA = Set.of(agents.get(0).nodeId(), agents.get(1).nodeId());

      create(manager, "zoned", "web", 4, "node.labels.zone==a");
      create(manager, "nowhere", "lost", 1, "node.labels.zone==c");

      ClusterServiceGrpc.ClusterServiceBlockingStub client = ClusterServiceGrpc
          .newBlockingStub(fleet.channels().get(manager.addr()));
      await().atMost(Duration.ofSeconds(60)).until(() -> running(client, "web").size() == 4);
      assertThat(running(client, "web")).extracting(Task::getNodeId).allMatch(zoneA::contains);
      assertThat(agents.get(2).taskStates()).as("zone b agent runs nothing").isEmpty();

      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(tasks(client, "lost"))
          .singleElement().satisfies(t -> {
            assertThat(t.getStatus().getState()).isEqualTo(TaskState.PENDING);
            assertThat(t.getNodeId()).isEmpty();
            // The three agents fail the constraint; the manager's own node (no agent) is not ready.
            assertThat(t.getStatus().getMessage()).isEqualTo("no suitable node (node not ready or not active"
                + " on 1 node, constraint node.labels.zone==c unmet on 3 nodes)");
          }));
    } finally {
      fleet.close();
      manager.close();
    }
  }

  private static void create(SingleManager manager, String id, String name, int replicas, String constraint)
      throws Exception {
    assertThat(manager.createService(id, ServiceSpec.newBuilder().setName(name)
        .setTask(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage(name + ":1"))
            .setPlacement(Placement.newBuilder().addConstraints(constraint)))
        .setReplicated(ReplicatedService.newBuilder().setReplicas(replicas)).build())).isEqualTo("OK");
  }

  private static List<Task> tasks(ClusterServiceGrpc.ClusterServiceBlockingStub client, String service) {
    return client.withDeadlineAfter(10, TimeUnit.SECONDS)
        .listTasks(ListTasksRequest.newBuilder().setService(service).build()).getTasksList();
  }

  private static List<Task> running(ClusterServiceGrpc.ClusterServiceBlockingStub client, String service) {
    return tasks(client, service).stream().filter(t -> t.getStatus().getState() == TaskState.RUNNING)
        .collect(Collectors.toList());
  }
}
