package dev.berth.manager.orchestrator;

import static dev.berth.manager.orchestrator.Fixture.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.Cluster;
import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.internal.v1.Plan;
import org.junit.jupiter.api.Test;

class ReaperReconcilerTest {
  final ReaperReconciler reaper = new ReaperReconciler(1000);

  static Task finished(String id, Service s, long slot, long createdAt) {
    Task t = task(id, s, slot, "n1", TaskState.FAILED);
    return t.toBuilder().setDesiredState(TaskState.SHUTDOWN)
        .setMeta(t.getMeta().toBuilder().setCreatedAtMs(createdAt)).build();
  }

  @Test
  void keepsTheNewestFivePerSlotByDefault() {
    Service s = replicated("s1", 2, spec("web:1"));
    Fixture f = new Fixture().add(s);
    for (int i = 1; i <= 8; i++) {
      f.add(finished("a" + i, s, 1, i * 10));
    }
    for (int i = 1; i <= 3; i++) {
      f.add(finished("b" + i, s, 2, i * 10));
    }
    f.add(task("live", s, 1, "n1", TaskState.FAILED)); // desired RUNNING: the slot's current task

    Plan plan = reaper.reconcile(f, 0).get(0).getPlan();

    assertThat(plan.getDeleteTasksList()).containsExactlyInAnyOrder("a1", "a2", "a3");
    f.apply(java.util.List.of(dev.berth.internal.v1.Command.newBuilder().setPlan(plan).build()), 0);
    assertThat(reaper.reconcile(f, 0)).isEmpty();
  }

  @Test
  void serviceLimitOverridesClusterLimitWhichOverridesTheDefault() {
    Service s = replicated("s1", 1, spec("web:1"));
    Fixture f = new Fixture().add(s);
    for (int i = 1; i <= 4; i++) {
      f.add(finished("a" + i, s, 1, i));
    }
    f.cluster = Cluster.newBuilder().setTaskHistoryLimit(2).build();
    assertThat(reaper.reconcile(f, 0).get(0).getPlan().getDeleteTasksList()).containsExactlyInAnyOrder("a1", "a2");

    f.add(s.toBuilder().setSpec(s.getSpec().toBuilder().setTaskHistoryLimit(1)).build());
    assertThat(reaper.reconcile(f, 0).get(0).getPlan().getDeleteTasksList()).containsExactlyInAnyOrder("a1", "a2", "a3");
  }

  @Test
  void tasksOfRemovedServicesAreShutDownThenDeleted() {
    Service gone = replicated("gone", 3, spec("web:1"));
    Fixture f = new Fixture().add(aNode("n1")).add(aNode("n2"))
        .add(task("running", gone, 1, "n1", TaskState.RUNNING))
        .add(task("pending", gone, 2, "", TaskState.PENDING))
        .add(task("ended", gone, 3, "n1", TaskState.COMPLETE))
        .add(task("onDown", gone, 4, "n2", TaskState.RUNNING));
    f.add(f.nodes.get("n2").toBuilder().setStatus(f.nodes.get("n2").getStatus().toBuilder().setState(NodeState.NODE_DOWN)).build());

    Plan plan = reaper.reconcile(f, 0).get(0).getPlan();

    assertThat(plan.getDeleteTasksList()).containsExactlyInAnyOrder("pending", "ended");
    assertThat(plan.getStatusChangesList()).singleElement().satisfies(c -> {
      assertThat(c.getTaskId()).isEqualTo("onDown");
      assertThat(c.getStatus().getState()).isEqualTo(TaskState.ORPHANED);
    });
    assertThat(plan.getDesiredList()).singleElement().satisfies(d -> {
      assertThat(d.getTaskId()).isEqualTo("running");
      assertThat(d.getDesiredState()).isEqualTo(TaskState.SHUTDOWN);
    });
    f.apply(java.util.List.of(dev.berth.internal.v1.Command.newBuilder().setPlan(plan).build()), 0);
    assertThat(reaper.reconcile(f, 0).get(0).getPlan().getDeleteTasksList())
        .as("the orphaned task goes, the running one must stop first").containsExactly("onDown");
    f.apply(reaper.reconcile(f, 0), 0);
    assertThat(reaper.reconcile(f, 0)).isEmpty();
    f.setState("running", TaskState.SHUTDOWN, 1);
    assertThat(reaper.reconcile(f, 1).get(0).getPlan().getDeleteTasksList()).containsExactly("running");
  }
}
