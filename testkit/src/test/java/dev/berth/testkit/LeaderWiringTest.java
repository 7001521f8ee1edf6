package dev.berth.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.ReplicatedService;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.TaskState;
import dev.berth.manager.SingleManager;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The dispatcher and reconcile loop installed on a real single-manager ManagerServer (Ratis). */
class LeaderWiringTest {
  @TempDir Path dir;

  @Test
  void aFakeAgentJoinsAManagerServerAndRunsAService() throws Exception {
    SingleManager manager = SingleManager.start(dir);
    FakeAgentFleet fleet = new FakeAgentFleet(2);
    try {
      FakeAgent joined = fleet.start(List.of(manager.addr()), FakeAgent.Options.of(manager.workerToken(), "wired"));
      await().atMost(Duration.ofSeconds(60)).until(() -> !joined.nodeId().isEmpty()
          && manager.nodeState(joined.nodeId()) == NodeState.NODE_READY);

      String id = "svc" + System.nanoTime();
      assertThat(manager.createService(id, ServiceSpec.newBuilder().setName("web")
          .setTask(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage("web:1")))
          .setReplicated(ReplicatedService.newBuilder().setReplicas(3)).build())).isEqualTo("OK");

      await().atMost(Duration.ofSeconds(60)).until(() -> manager.server().store().read(v -> v.tasksOfService(id)
          .stream().filter(t -> t.getStatus().getState() == TaskState.RUNNING).count()) == 3);
      assertThat(joined.taskStates()).hasSize(3);
      assertThat(manager.wiring().dispatcher().connectedAgents()).isEqualTo(1);
    } finally {
      fleet.close();
      manager.close();
    }
  }
}
