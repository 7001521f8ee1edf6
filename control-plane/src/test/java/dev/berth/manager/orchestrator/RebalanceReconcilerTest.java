package dev.berth.manager.orchestrator;

import static dev.berth.manager.orchestrator.Fixture.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.Service;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.UpdateConfig;
import dev.berth.api.v1.UpdateStatus;
import dev.berth.internal.v1.Command;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class RebalanceReconcilerTest {
  final IdGenerator ids = sequentialIds();
  final ClusterViewFeed feed = new ClusterViewFeed();
  final ReplicatedReconciler scaler = new ReplicatedReconciler(new TaskFactory(ids), 1000);
  final Allocator allocator = new Allocator(feed, 1000);
  final RebalanceReconciler rebalancer = new RebalanceReconciler(feed, 1000);

  static Map<String, Long> perNode(Fixture f) {
    return f.live("s1").stream().collect(Collectors.groupingBy(Task::getNodeId, Collectors.counting()));
  }

  /** Six replicas spread over two nodes, then two nodes join: nothing moves until asked. */
  Fixture sixOnTwoThenFourNodes(int parallelism) {
    Fixture f = new Fixture(feed).add(aNode("n1")).add(aNode("n2")).add(replicated("s1", 6, spec("web:1")));
    Service s = f.services.get("s1");
    f.add(s.toBuilder().setSpec(s.getSpec().toBuilder()
        .setUpdate(UpdateConfig.newBuilder().setParallelism(parallelism))).build());
    f.apply(scaler.reconcile(f, 0), 0);
    f.apply(allocator.reconcile(f, 0), 0);
    RollingUpdateReconcilerTest.agentsAct(f, 0);
    f.add(aNode("n3")).add(aNode("n4"));
    assertThat(allocator.reconcile(f, 1)).isEmpty();
    assertThat(rebalancer.reconcile(f, 1)).as("no rebalance unless requested").isEmpty();
    assertThat(perNode(f)).containsOnly(Map.entry("n1", 3L), Map.entry("n2", 3L));
    return f;
  }

  @Test
  void restoresSpreadMovingTheFewestTasksAtMostParallelismPerRound() {
    Fixture f = sixOnTwoThenFourNodes(1);
    Service s = f.services.get("s1");
    f.add(s.toBuilder().setUpdateStatus(UpdateStatus.newBuilder().setState(UpdateStatus.State.REBALANCING)).build());

    int moves = 0;
    for (int round = 0; round < 10; round++) {
      List<Command> commands = rebalancer.reconcile(f, 10 + round);
      if (commands.isEmpty()) {
        break;
      }
      int shutdowns = commands.get(0).getPlan().getDesiredCount();
      assertThat(shutdowns).as("parallelism 1").isLessThanOrEqualTo(1);
      moves += shutdowns;
      f.apply(commands, 10 + round);
      // Nothing new while the move is in flight.
      assertThat(rebalancer.reconcile(f, 10 + round)).isEmpty();
      RollingUpdateReconcilerTest.agentsAct(f, 10 + round);
      f.apply(scaler.reconcile(f, 10 + round), 10 + round);
      f.apply(allocator.reconcile(f, 10 + round), 10 + round);
      RollingUpdateReconcilerTest.agentsAct(f, 10 + round);
    }

    assertThat(f.services.get("s1").getUpdateStatus().getState()).isEqualTo(UpdateStatus.State.COMPLETED);
    Map<String, Long> spread = perNode(f);
    assertThat(spread.values()).containsExactlyInAnyOrder(2L, 2L, 1L, 1L);
    assertThat(moves).as("fewest moves: one off each full node").isEqualTo(2);
  }

  @Test
  void unboundedParallelismMovesEverythingInOneRound() {
    Fixture f = sixOnTwoThenFourNodes(0);
    Service s = f.services.get("s1");
    f.add(s.toBuilder().setUpdateStatus(UpdateStatus.newBuilder().setState(UpdateStatus.State.REBALANCING)).build());

    assertThat(rebalancer.reconcile(f, 10).get(0).getPlan().getDesiredCount()).isEqualTo(2);
  }
}
