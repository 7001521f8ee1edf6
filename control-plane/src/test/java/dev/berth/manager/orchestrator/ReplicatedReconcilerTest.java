package dev.berth.manager.orchestrator;

import static dev.berth.manager.orchestrator.Fixture.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.Service;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.Plan;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReplicatedReconcilerTest {
  final ReplicatedReconciler reconciler = new ReplicatedReconciler(new TaskFactory(sequentialIds()), 100);

  @Test
  void createsOneNewTaskPerMissingSlotThenNothing() {
    Service web = replicated("s1", 3, spec("web:1"));
    Fixture f = new Fixture().add(aNode("n1")).add(web);
    f.index = 42;

    List<Command> commands = reconciler.reconcile(f, 1000);

    assertThat(commands).hasSize(1);
    Plan plan = commands.get(0).getPlan();
    assertThat(plan.getBaseIndex()).isEqualTo(42);
    assertThat(plan.getCreateTasksList()).extracting(Task::getSlot).containsExactly(1L, 2L, 3L);
    Task first = plan.getCreateTasks(0);
    assertThat(first.getServiceId()).isEqualTo("s1");
    assertThat(first.getServiceName()).isEqualTo("svc-s1");
    assertThat(first.getSpec()).isEqualTo(web.getSpec().getTask());
    assertThat(first.getDesiredState()).isEqualTo(TaskState.RUNNING);
    assertThat(first.getStatus().getState()).isEqualTo(TaskState.NEW);
    assertThat(first.getMeta().getCreatedAtMs()).isEqualTo(1000);
    assertThat(first.getNodeId()).isEmpty();
    assertThat(first.getAttempt()).isZero();

    f.apply(commands, 1000);
    assertThat(reconciler.reconcile(f, 2000)).isEmpty();
  }

  @Test
  void scaleDownShutsDownTheHighestSlots() {
    Service web = replicated("s1", 2, spec("web:1"));
    Fixture f = new Fixture().add(web);
    for (int slot = 1; slot <= 4; slot++) {
      f.add(task("t" + slot, web, slot, "n1", TaskState.RUNNING));
    }

    Plan plan = reconciler.reconcile(f, 0).get(0).getPlan();

    assertThat(plan.getCreateTasksList()).isEmpty();
    assertThat(plan.getDesiredList()).extracting(Plan.Desired::getTaskId).containsExactlyInAnyOrder("t3", "t4");
    assertThat(plan.getDesiredList()).allMatch(d -> d.getDesiredState() == TaskState.SHUTDOWN);
    f.apply(List.of(Command.newBuilder().setPlan(plan).build()), 0);
    assertThat(f.live("s1")).extracting(Task::getSlot).containsExactlyInAnyOrder(1L, 2L);
    assertThat(reconciler.reconcile(f, 0)).isEmpty();
  }

  @Test
  void aSecondLiveTaskOfOneVersionInASlotIsShutDownKeepingTheOneFurthestAlongThenTheOldest() {
    Service web = replicated("s1", 2, spec("web:1"));
    Fixture f = new Fixture().add(web)
        .add(task("a", web, 1, "n1", TaskState.ASSIGNED))
        .add(task("b", web, 1, "n2", TaskState.RUNNING))
        .add(created(task("c", web, 2, "n1", TaskState.RUNNING), 5))
        .add(created(task("d", web, 2, "n2", TaskState.RUNNING), 3));

    Plan plan = reconciler.reconcile(f, 0).get(0).getPlan();

    assertThat(plan.getCreateTasksList()).isEmpty();
    assertThat(plan.getDesiredList()).extracting(Plan.Desired::getTaskId).containsExactlyInAnyOrder("a", "c");
    assertThat(plan.getDesiredList()).allMatch(d -> d.getDesiredState() == TaskState.SHUTDOWN);
    f.apply(List.of(Command.newBuilder().setPlan(plan).build()), 0);
    assertThat(f.live("s1")).extracting(t -> t.getMeta().getId()).containsExactlyInAnyOrder("b", "d");
    assertThat(reconciler.reconcile(f, 0)).isEmpty();
  }

  @Test
  void aStartFirstUpdateInFlightKeepsBothVersionsOfItsSlot() {
    Service web = replicated("s1", 1, spec("web:2"));
    Fixture f = new Fixture().add(web)
        .add(task("old", web, 1, "n1", TaskState.RUNNING).toBuilder().setSpecVersion(1).build())
        .add(task("new", web, 1, "n2", TaskState.STARTING).toBuilder().setSpecVersion(2).build());

    assertThat(reconciler.reconcile(f, 0)).isEmpty();
  }

  private static Task created(Task t, long atMs) {
    return t.toBuilder().setMeta(t.getMeta().toBuilder().setCreatedAtMs(atMs)).build();
  }

  @Test
  void refillsAnEmptiedSlotWithTheNextAttempt() {
    Service web = replicated("s1", 2, spec("web:1"));
    Fixture f = new Fixture().add(web)
        .add(task("a", web, 1, "n1", TaskState.RUNNING))
        .add(task("b", web, 2, "n1", TaskState.ORPHANED).toBuilder()
            .setDesiredState(TaskState.SHUTDOWN).setAttempt(2).build());

    Plan plan = reconciler.reconcile(f, 0).get(0).getPlan();

    assertThat(plan.getCreateTasksList()).singleElement().satisfies(t -> {
      assertThat(t.getSlot()).isEqualTo(2);
      assertThat(t.getAttempt()).isEqualTo(3);
    });
  }

  @Test
  void sparseSlotNumbersScaleDownFromTheTopAndRefillTheGaps() {
    // slots far apart: positions come from the sorted slot numbers, not slot - lowest
    Service web = replicated("s1", 3, spec("web:1"));
    Fixture f = new Fixture().add(web)
        .add(task("low", web, 2, "n1", TaskState.RUNNING))
        .add(task("mid", web, 5_000_000, "n1", TaskState.RUNNING))
        .add(task("top", web, 9_000_000_000L, "n1", TaskState.RUNNING))
        .add(task("top2", web, 9_000_000_000L, "n1", TaskState.RUNNING).toBuilder().setAttempt(1).build())
        .add(task("old", web, 1, "n1", TaskState.FAILED).toBuilder()
            .setDesiredState(TaskState.SHUTDOWN).setAttempt(4).build());
    f.add(web.toBuilder().setSpec(web.getSpec().toBuilder().setReplicated(
        web.getSpec().getReplicated().toBuilder().setReplicas(2))).build());

    Plan down = reconciler.reconcile(f, 0).get(0).getPlan();

    assertThat(down.getDesiredList()).extracting(Plan.Desired::getTaskId).containsExactlyInAnyOrder("top", "top2");
    assertThat(down.getCreateTasksList()).isEmpty();

    f.add(web.toBuilder().setSpec(web.getSpec().toBuilder().setReplicated(
        web.getSpec().getReplicated().toBuilder().setReplicas(4))).build());
    f.apply(List.of(Command.newBuilder().setPlan(down).build()), 0);
    Plan up = reconciler.reconcile(f, 0).get(0).getPlan();

    // slots 1 and 3 are free: slot 1 gets the attempt after its ended task's, slot 3 the first
    assertThat(up.getCreateTasksList()).extracting(Task::getSlot, Task::getAttempt)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(1L, 5), org.assertj.core.groups.Tuple.tuple(3L, 0));
  }

  @Test
  void boundsTheWorkOfOneRound() {
    Fixture f = new Fixture().add(replicated("s1", 250, spec("web:1")));
    ReplicatedReconciler small = new ReplicatedReconciler(new TaskFactory(sequentialIds()), 100);

    int rounds = 0;
    while (true) {
      List<Command> commands = small.reconcile(f, 0);
      if (commands.isEmpty()) {
        break;
      }
      assertThat(commands.get(0).getPlan().getCreateTasksCount()).isLessThanOrEqualTo(100);
      f.apply(commands, 0);
      rounds++;
    }
    assertThat(rounds).isEqualTo(3);
    assertThat(f.live("s1")).extracting(Task::getSlot).doesNotHaveDuplicates().hasSize(250);
  }

  @Test
  void ignoresGlobalServices() {
    Fixture f = new Fixture().add(aNode("n1")).add(global("g", spec("agent:1")));
    assertThat(reconciler.reconcile(f, 0)).isEmpty();
  }
}
