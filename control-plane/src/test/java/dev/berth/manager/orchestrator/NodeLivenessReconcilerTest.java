package dev.berth.manager.orchestrator;

import static dev.berth.manager.orchestrator.Fixture.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeAvailability;
import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.NodeStatus;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.internal.v1.Plan;
import dev.berth.internal.v1.TaskStatusChange;
import java.util.List;
import org.junit.jupiter.api.Test;

class NodeLivenessReconcilerTest {
  final NodeLivenessReconciler liveness = new NodeLivenessReconciler(30_000, 1000);
  final ReplicatedReconciler scaler = new ReplicatedReconciler(new TaskFactory(sequentialIds()), 1000);
  final ClusterViewFeed feed = new ClusterViewFeed();
  final Allocator allocator = new Allocator(feed, 1000);

  static Node down(String id, long sinceMs) {
    return aNode(id).toBuilder().setStatus(NodeStatus.newBuilder().setState(NodeState.NODE_DOWN).setChangedAtMs(sinceMs)).build();
  }

  @Test
  void tasksOfANodeThatStaysDownAreOrphanedAndReplacedElsewhere() {
    Service s = replicated("s1", 2, spec("web:1"));
    Fixture f = new Fixture(feed).add(s).add(aNode("n2")).add(down("n1", 100_000))
        .add(task("a", s, 1, "n1", TaskState.RUNNING))
        .add(task("b", s, 2, "n2", TaskState.RUNNING))
        .add(task("done", s, 3, "n1", TaskState.COMPLETE).toBuilder().setDesiredState(TaskState.SHUTDOWN).build());

    assertThat(liveness.reconcile(f, 129_999)).as("still within the orphan delay").isEmpty();
    assertThat(liveness.wakeAtMs()).as("down since 100 s, orphaned after 30 s").isEqualTo(130_000);

    Plan plan = liveness.reconcile(f, 130_000).get(0).getPlan();
    assertThat(plan.getStatusChangesList()).singleElement().satisfies(c -> {
      assertThat(c.getTaskId()).isEqualTo("a");
      assertThat(c.getStatus().getState()).isEqualTo(TaskState.ORPHANED);
      assertThat(c.getStatus().getMessage()).contains("n1");
    });
    assertThat(plan.getDesiredList()).extracting(Plan.Desired::getTaskId).containsExactly("a");

    f.apply(List.of(dev.berth.internal.v1.Command.newBuilder().setPlan(plan).build()), 130_000);
    assertThat(liveness.reconcile(f, 131_000)).isEmpty();
    assertThat(liveness.wakeAtMs()).as("its tasks orphaned: nothing waits").isEqualTo(Long.MAX_VALUE);
    f.apply(scaler.reconcile(f, 131_000), 131_000);
    f.apply(allocator.reconcile(f, 131_000), 131_000);
    assertThat(f.live("s1")).extracting(Task::getSlot, Task::getNodeId)
        .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple(1L, "n2"), org.assertj.core.groups.Tuple.tuple(2L, "n2"));
  }

  @Test
  void tasksOfARemovedNodeAreOrphanedAtOnce() {
    Service s = replicated("s1", 1, spec("web:1"));
    Fixture f = new Fixture(feed).add(s).add(task("a", s, 1, "gone", TaskState.RUNNING));
    Plan plan = liveness.reconcile(f, 0).get(0).getPlan();
    assertThat(plan.getStatusChangesList()).extracting(TaskStatusChange::getTaskId).containsExactly("a");
  }

  @Test
  void drainMovesLiveTasksAway() {
    Service s = replicated("s1", 2, spec("web:1"));
    Node drained = aNode("n1").toBuilder().setSpec(aNode("n1").getSpec().toBuilder().setAvailability(NodeAvailability.DRAIN)).build();
    Fixture f = new Fixture(feed).add(s).add(drained).add(aNode("n2"))
        .add(task("a", s, 1, "n1", TaskState.RUNNING))
        .add(task("b", s, 2, "n1", TaskState.STARTING));

    Plan plan = liveness.reconcile(f, 0).get(0).getPlan();
    assertThat(plan.getStatusChangesList()).as("drained tasks stop normally, they are not orphaned").isEmpty();
    assertThat(plan.getDesiredList()).extracting(Plan.Desired::getTaskId).containsExactlyInAnyOrder("a", "b");
    f.apply(List.of(dev.berth.internal.v1.Command.newBuilder().setPlan(plan).build()), 0);

    f.apply(scaler.reconcile(f, 1), 1);
    f.apply(allocator.reconcile(f, 1), 1);
    assertThat(f.live("s1")).hasSize(2).allMatch(t -> t.getNodeId().equals("n2"));
    assertThat(liveness.reconcile(f, 2)).isEmpty();
  }
}
