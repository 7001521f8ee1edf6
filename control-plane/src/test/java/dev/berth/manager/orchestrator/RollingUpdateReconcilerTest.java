package dev.berth.manager.orchestrator;

import static dev.berth.manager.orchestrator.Fixture.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.Service;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.UpdateConfig;
import dev.berth.api.v1.UpdateStatus;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.Plan;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class RollingUpdateReconcilerTest {
  final IdGenerator ids = sequentialIds();
  final RollingUpdateReconciler updater = new RollingUpdateReconciler(new TaskFactory(ids), 1000);
  final ReplicatedReconciler scaler = new ReplicatedReconciler(new TaskFactory(ids), 1000);
  final ClusterViewFeed feed = new ClusterViewFeed();
  final Allocator allocator = new Allocator(feed, 1000);

  /** Three replicas of web:1 running on two nodes, then the spec changes to web:2. */
  Fixture runningThenUpdated(UpdateConfig config) {
    Fixture f = new Fixture(feed).add(aNode("n1")).add(aNode("n2")).add(replicated("s1", 3, spec("web:1")));
    f.apply(scaler.reconcile(f, 0), 0);
    f.apply(allocator.reconcile(f, 0), 0);
    agentsAct(f, 0);
    Service s = f.services.get("s1");
    f.add(s.toBuilder().setSpecVersion(2).setPreviousSpec(s.getSpec())
        .setSpec(s.getSpec().toBuilder().setTask(spec("web:2")).setUpdate(config)).build());
    return f;
  }

  /** What agents would do: start assigned live tasks, stop tasks no longer wanted. */
  static void agentsAct(Fixture f, long now) {
    for (Task t : List.copyOf(f.tasks.values())) {
      TaskState s = t.getStatus().getState();
      if (!TaskStates.isLive(t) && !TaskStates.isTerminal(t) && !TaskStates.isUnassigned(t)) {
        f.setState(t.getMeta().getId(), TaskState.SHUTDOWN, now);
      } else if (TaskStates.isLive(t) && s == TaskState.ASSIGNED) {
        f.setState(t.getMeta().getId(), TaskState.RUNNING, now);
      }
    }
  }

  static long liveWith(Fixture f, String image) {
    return f.live("s1").stream().filter(t -> t.getSpec().getContainer().getImage().equals(image)).count();
  }

  @Test
  void stopFirstReplacesOneSlotAtATime() {
    Fixture f = runningThenUpdated(UpdateConfig.newBuilder().setParallelism(1).build());

    List<Command> first = updater.reconcile(f, 100);
    Plan plan = first.get(0).getPlan();
    assertThat(plan.getServiceStatus(0).getStatus().getState()).isEqualTo(UpdateStatus.State.UPDATING);
    assertThat(plan.getCreateTasksList()).singleElement().satisfies(t -> {
      assertThat(t.getSlot()).isEqualTo(1);
      assertThat(t.getSpec().getContainer().getImage()).isEqualTo("web:2");
      assertThat(t.getSpecVersion()).isEqualTo(2);
    });
    assertThat(plan.getDesiredList()).singleElement()
        .satisfies(d -> assertThat(f.tasks.get(d.getTaskId()).getSlot()).isEqualTo(1));
    f.apply(first, 100);
    assertThat(updater.reconcile(f, 101)).as("slot 1 in flight, parallelism 1").isEmpty();

    int rounds = 1;
    for (long now = 200; liveWith(f, "web:1") > 0 && rounds < 20; now += 100, rounds++) {
      f.apply(allocator.reconcile(f, now), now);
      agentsAct(f, now);
      f.apply(updater.reconcile(f, now), now);
      assertThat(f.live("s1")).hasSize(3);
      assertThat(f.live("s1").stream().filter(t -> t.getStatus().getState() != TaskState.RUNNING)).hasSizeLessThanOrEqualTo(1);
    }
    assertThat(liveWith(f, "web:2")).isEqualTo(3);
    f.apply(allocator.reconcile(f, 5000), 5000);
    agentsAct(f, 5000);
    f.apply(updater.reconcile(f, 5000), 5000);
    assertThat(f.services.get("s1").getUpdateStatus().getState()).isEqualTo(UpdateStatus.State.COMPLETED);
    assertThat(updater.reconcile(f, 6000)).isEmpty();
  }

  @Test
  void startFirstKeepsTheOldTaskUntilTheNewOneRuns() {
    Fixture f = runningThenUpdated(UpdateConfig.newBuilder().setParallelism(2)
        .setOrder(UpdateConfig.Order.START_FIRST).build());

    Plan plan = updater.reconcile(f, 100).get(0).getPlan();
    assertThat(plan.getCreateTasksList()).extracting(Task::getSlot).containsExactly(1L, 2L);
    assertThat(plan.getDesiredList()).isEmpty();
    f.apply(List.of(Command.newBuilder().setPlan(plan).build()), 100);
    assertThat(f.live("s1")).hasSize(5);

    f.apply(allocator.reconcile(f, 200), 200);
    agentsAct(f, 200);
    Plan next = updater.reconcile(f, 300).get(0).getPlan();
    assertThat(next.getDesiredList()).extracting(d -> f.tasks.get(d.getTaskId()).getSpec().getContainer().getImage())
        .containsOnly("web:1").hasSize(2);
    assertThat(next.getCreateTasksList()).extracting(Task::getSlot).containsExactly(3L);
  }

  @Test
  void delayWaitsBetweenBatches() {
    Fixture f = runningThenUpdated(UpdateConfig.newBuilder().setParallelism(1).setDelayMs(10_000).build());
    f.apply(updater.reconcile(f, 100), 100);
    f.apply(allocator.reconcile(f, 200), 200);
    agentsAct(f, 1_000);

    assertThat(updater.reconcile(f, 5_000)).as("within the delay after slot 1 ran").isEmpty();
    assertThat(updater.wakeAtMs()).as("slot 1 ran at 1 s; 10 s of delay").isEqualTo(11_000);
    Plan later = updater.reconcile(f, 11_000).get(0).getPlan();
    assertThat(later.getCreateTasksList()).extracting(Task::getSlot).containsExactly(2L);
  }

  @Test
  void failedNewTaskPausesTheUpdate() {
    Fixture f = runningThenUpdated(UpdateConfig.newBuilder().setParallelism(1).build());
    f.apply(updater.reconcile(f, 100), 100);
    f.apply(allocator.reconcile(f, 200), 200);
    String fresh = f.live("s1").stream().filter(t -> t.getSpec().getContainer().getImage().equals("web:2"))
        .findFirst().orElseThrow().getMeta().getId();
    f.update(fresh, t -> t.setStatus(t.getStatus().toBuilder().setState(TaskState.FAILED).setErr("exit 1")), 300);

    Plan plan = updater.reconcile(f, 400).get(0).getPlan();

    UpdateStatus status = plan.getServiceStatus(0).getStatus();
    assertThat(status.getState()).isEqualTo(UpdateStatus.State.PAUSED);
    assertThat(status.getMessage()).contains(fresh).contains("exit 1");
    assertThat(plan.getCreateTasksList()).isEmpty();
    f.apply(List.of(Command.newBuilder().setPlan(plan).build()), 400);
    assertThat(updater.reconcile(f, 500)).as("paused stays paused").isEmpty();
  }

  @Test
  void failedNewTaskWithRollbackProposesARollback() {
    Fixture f = runningThenUpdated(UpdateConfig.newBuilder().setParallelism(1)
        .setFailureAction(UpdateConfig.FailureAction.ROLLBACK).build());
    f.apply(updater.reconcile(f, 100), 100);
    String fresh = f.live("s1").stream().filter(t -> t.getSpec().getContainer().getImage().equals("web:2"))
        .findFirst().orElseThrow().getMeta().getId();
    f.setState(fresh, TaskState.REJECTED, 300);

    List<Command> commands = updater.reconcile(f, 400);

    List<Command> updates = commands.stream().filter(Command::hasUpdateService).collect(Collectors.toList());
    assertThat(updates).singleElement().satisfies(c -> {
      assertThat(c.getUpdateService().getRollback()).isTrue();
      assertThat(c.getUpdateService().getSpec().getTask().getContainer().getImage()).isEqualTo("web:1");
      assertThat(c.getUpdateService().getIfVersion()).isEqualTo(f.services.get("s1").getMeta().getVersion());
    });
  }

  @Test
  void nothingToDoWhenTasksMatchTheSpec() {
    Fixture f = new Fixture(feed).add(aNode("n1")).add(replicated("s1", 2, spec("web:1")));
    f.apply(scaler.reconcile(f, 0), 0);
    TaskSpec same = f.services.get("s1").getSpec().getTask();
    assertThat(f.live("s1")).allMatch(t -> t.getSpec().equals(same));
    assertThat(updater.reconcile(f, 0)).isEmpty();
  }
}
