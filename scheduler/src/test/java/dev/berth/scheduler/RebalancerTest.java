package dev.berth.scheduler;

import static dev.berth.scheduler.Fixtures.CORE;
import static dev.berth.scheduler.Fixtures.MB;
import static dev.berth.scheduler.Fixtures.globalService;
import static dev.berth.scheduler.Fixtures.node;
import static dev.berth.scheduler.Fixtures.running;
import static dev.berth.scheduler.Fixtures.serviceBuilder;
import static dev.berth.scheduler.Fixtures.spec;
import static dev.berth.scheduler.Fixtures.task;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.v1.Service;
import dev.berth.api.v1.TaskSpec;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RebalancerTest {

  private final ClusterView view = new ClusterView();
  private final Scheduler scheduler = new Scheduler(3);

  private static Service service(TaskSpec spec, int parallelism) {
    Service.Builder b = serviceBuilder("s", spec);
    b.getSpecBuilder().getUpdateBuilder().setParallelism(parallelism);
    return b.build();
  }

  @Test
  void movesTheFewestTasksToTheNewNodes() {
    Service s = service(spec(0, 0), 0);
    view.upsertService(s);
    view.upsertNode(node("n1"));
    view.upsertNode(node("n2"));
    for (int i = 0; i < 6; i++) {
      view.upsertTask(running("t" + i, s, i % 2 == 0 ? "n1" : "n2"));
    }
    view.upsertNode(node("n3"));
    view.upsertNode(node("n4"));

    RebalancePlan plan = scheduler.rebalance(view, "s");

    // 6 tasks over 4 nodes: 2,2,1,1 -> n1 and n2 keep 2 each, one move each.
    assertThat(plan.movesNeeded()).isEqualTo(2);
    assertThat(plan.taskIds()).containsExactlyInAnyOrder("t4", "t5");
    assertThat(plan.targets()).containsEntry("n1", 2).containsEntry("n2", 2).containsEntry("n3", 1)
        .containsEntry("n4", 1);

    // Applying the plan: the replacements land on the new nodes.
    plan.taskIds().forEach(view::removeTask);
    SchedulingResult r = scheduler.schedule(view, List.of(task("r1", s), task("r2", s)));
    assertThat(r.assignments()).extracting(Assignment::nodeId).containsExactlyInAnyOrder("n3", "n4");
    assertThat(scheduler.rebalance(view, "s").movesNeeded()).isZero();
  }

  @Test
  void parallelismCapsARoundAndTheWorstNodeGoesFirst() {
    Service s = service(spec(0, 0), 2);
    view.upsertService(s);
    view.upsertNode(node("n1"));
    view.upsertNode(node("n2"));
    for (int i = 0; i < 7; i++) {
      view.upsertTask(running("a" + i, s, "n1"));
    }
    for (int i = 0; i < 3; i++) {
      view.upsertTask(running("b" + i, s, "n2"));
    }
    view.upsertNode(node("n3"));
    view.upsertNode(node("n4"));
    // 10 over 4: n1 keeps 3 (extra goes to the fullest), n2 keeps 3, n3/n4 get 2 each -> 4 moves, all from n1.
    RebalancePlan plan = scheduler.rebalance(view, "s");
    assertThat(plan.movesNeeded()).isEqualTo(4);
    assertThat(plan.taskIds()).containsExactly("a6", "a5");
  }

  @Test
  void respectsCapacityOfTheReceivingNodes() {
    Service s = service(spec(CORE, 0), 0);
    view.upsertService(s);
    view.upsertNode(node("big", 8 * CORE, 8192 * MB, Map.of()));
    for (int i = 0; i < 6; i++) {
      view.upsertTask(running("t" + i, s, "big"));
    }
    view.upsertNode(node("small", CORE, 8192 * MB, Map.of()));
    RebalancePlan plan = scheduler.rebalance(view, "s");
    assertThat(plan.targets()).containsEntry("small", 1).containsEntry("big", 5);
    assertThat(plan.taskIds()).hasSize(1);
  }

  @Test
  void balancesLevelByLevelWithPlacementPreferences() {
    Service s = service(spec(0, 0, List.of(), List.of("node.labels.zone"), 0), 0);
    view.upsertService(s);
    view.upsertNode(node("a1", CORE, MB, Map.of("zone", "a")));
    view.upsertNode(node("a2", CORE, MB, Map.of("zone", "a")));
    for (int i = 0; i < 8; i++) {
      view.upsertTask(running("t" + i, s, i % 2 == 0 ? "a1" : "a2"));
    }
    view.upsertNode(node("b1", CORE, MB, Map.of("zone", "b")));
    RebalancePlan plan = scheduler.rebalance(view, "s");
    assertThat(plan.targets()).containsEntry("a1", 2).containsEntry("a2", 2).containsEntry("b1", 4);
    assertThat(plan.movesNeeded()).isEqualTo(4);
  }

  @Test
  void tasksOnIneligibleNodesAreLeftToTheOrchestrator() {
    Service s = service(spec(0, 0, List.of("node.labels.zone==a"), List.of(), 0), 0);
    view.upsertService(s);
    view.upsertNode(node("a1", CORE, MB, Map.of("zone", "a")));
    view.upsertNode(node("b1", CORE, MB, Map.of("zone", "b")));
    for (int i = 0; i < 4; i++) {
      view.upsertTask(running("t" + i, s, "b1"));
    }
    RebalancePlan plan = scheduler.rebalance(view, "s");
    assertThat(plan.movesNeeded()).isZero();
    assertThat(plan.targets()).containsOnlyKeys("a1");
  }

  @Test
  void globalServicesAreRejected() {
    view.upsertService(globalService("g", spec(0, 0)));
    assertThatThrownBy(() -> scheduler.rebalance(view, "g")).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("service svc-g is global: there is nothing to rebalance");
  }
}
