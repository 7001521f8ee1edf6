package dev.berth.manager.orchestrator;

import static dev.berth.manager.orchestrator.Fixture.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.RestartPolicy;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.internal.v1.Plan;
import org.junit.jupiter.api.Test;

class RestartReconcilerTest {
  final RestartReconciler reconciler = new RestartReconciler(new TaskFactory(sequentialIds()), 100);

  static Service withPolicy(RestartPolicy policy) {
    return replicated("s1", 1, spec("web:1").toBuilder().setRestartPolicy(policy).build());
  }

  static Task ended(String id, Service s, TaskState state, long endedAtMs, int attempt) {
    Task t = task(id, s, 1, "n1", state);
    return t.toBuilder().setAttempt(attempt)
        .setMeta(t.getMeta().toBuilder().setCreatedAtMs(endedAtMs - 100).setUpdatedAtMs(endedAtMs)).build();
  }

  @Test
  void restartsInTheSameSlotAfterTheDelay() {
    Service s = withPolicy(RestartPolicy.newBuilder().setCondition(RestartPolicy.Condition.ANY).setDelayMs(5000).build());
    Fixture f = new Fixture().add(s).add(ended("old", s, TaskState.FAILED, 10_000, 0));

    assertThat(reconciler.reconcile(f, 14_999)).as("before the delay").isEmpty();
    assertThat(reconciler.wakeAtMs()).as("the loop's tick comes back when the delay ends").isEqualTo(15_000);

    Plan plan = reconciler.reconcile(f, 15_000).get(0).getPlan();
    assertThat(plan.getDesiredList()).singleElement().satisfies(d -> {
      assertThat(d.getTaskId()).isEqualTo("old");
      assertThat(d.getDesiredState()).isEqualTo(TaskState.SHUTDOWN);
    });
    assertThat(plan.getCreateTasksList()).singleElement().satisfies(t -> {
      assertThat(t.getSlot()).isEqualTo(1);
      assertThat(t.getAttempt()).isEqualTo(1);
      assertThat(t.getNodeId()).as("replicated restarts are placed afresh").isEmpty();
      assertThat(t.getMeta().getCreatedAtMs()).isEqualTo(15_000);
    });
    f.apply(java.util.List.of(dev.berth.internal.v1.Command.newBuilder().setPlan(plan).build()), 15_000);
    assertThat(reconciler.reconcile(f, 16_000)).isEmpty();
    assertThat(reconciler.wakeAtMs()).as("nothing waits for the clock").isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void onFailureRestartsFailuresButNotCompletions() {
    Service s = withPolicy(RestartPolicy.newBuilder().setCondition(RestartPolicy.Condition.ON_FAILURE).build());
    assertThat(reconciler.reconcile(new Fixture().add(s).add(ended("ok", s, TaskState.COMPLETE, 1, 0)), 10)).isEmpty();
    assertThat(reconciler.reconcile(new Fixture().add(s).add(ended("bad", s, TaskState.FAILED, 1, 0)), 10)).hasSize(1);
    assertThat(reconciler.reconcile(new Fixture().add(s).add(ended("rej", s, TaskState.REJECTED, 1, 0)), 10)).hasSize(1);
  }

  @Test
  void conditionNoneNeverRestartsAndAnyRestartsCompletions() {
    Service none = withPolicy(RestartPolicy.newBuilder().setCondition(RestartPolicy.Condition.NONE).build());
    assertThat(reconciler.reconcile(new Fixture().add(none).add(ended("x", none, TaskState.FAILED, 1, 0)), 10)).isEmpty();
    Service any = withPolicy(RestartPolicy.getDefaultInstance());
    assertThat(reconciler.reconcile(new Fixture().add(any).add(ended("y", any, TaskState.COMPLETE, 1, 0)), 10)).hasSize(1);
  }

  @Test
  void stopsAfterMaxAttempts() {
    Service s = withPolicy(RestartPolicy.newBuilder().setMaxAttempts(3).build());
    assertThat(reconciler.reconcile(new Fixture().add(s).add(ended("a2", s, TaskState.FAILED, 1, 2)), 10))
        .as("attempt 2 of 3 restarts").hasSize(1);
    assertThat(reconciler.reconcile(new Fixture().add(s).add(ended("a3", s, TaskState.FAILED, 1, 3)), 10))
        .as("attempt 3 has used them up").isEmpty();
    assertThat(reconciler.wakeAtMs()).as("and time will not bring them back").isEqualTo(Long.MAX_VALUE);
  }

  @Test
  void maxAttemptsCountOnlyWithinTheWindow() {
    Service s = withPolicy(RestartPolicy.newBuilder().setMaxAttempts(2).setWindowMs(60_000).build());
    Fixture f = new Fixture().add(s);
    // Two earlier restarts in slot 1, at 10 s and 50 s, both finished.
    f.add(ended("r1", s, TaskState.FAILED, 10_100, 1).toBuilder().setDesiredState(TaskState.SHUTDOWN).build());
    f.add(ended("r2", s, TaskState.FAILED, 50_100, 2).toBuilder().setDesiredState(TaskState.SHUTDOWN).build());
    f.add(ended("r3", s, TaskState.FAILED, 65_000, 3).toBuilder().setMeta(
        f.tasks.get("r2").getMeta().toBuilder().setId("r3").setCreatedAtMs(64_000).setUpdatedAtMs(65_000)).build());

    // At 66 s the window [6 s, 66 s] holds r1, r2, r3: 3 restarts >= 2.
    assertThat(reconciler.reconcile(f, 66_000)).isEmpty();
    // Fewer than 2 remain once r2 (created 50 s) has left too: 1 ms after 50 s + 60 s.
    assertThat(reconciler.wakeAtMs()).isEqualTo(110_001);
    assertThat(reconciler.reconcile(f, 110_000)).isEmpty();
    assertThat(reconciler.reconcile(f, 110_001)).hasSize(1);
    // At 120 s only r3 (created 64 s) remains in the window [60 s, 120 s].
    assertThat(reconciler.reconcile(f, 120_000)).hasSize(1);
  }

  @Test
  void globalRestartsStayOnTheirNodeAndRemovedServicesAreLeftToTheReaper() {
    Service g = global("g", spec("agent:1"));
    Fixture f = new Fixture().add(g).add(task("gt", g, 0, "n7", TaskState.FAILED));
    Plan plan = reconciler.reconcile(f, 10).get(0).getPlan();
    assertThat(TaskStates.pinnedNode(plan.getCreateTasks(0))).isEqualTo("n7");

    Fixture orphan = new Fixture().add(task("lost", g, 0, "n7", TaskState.FAILED));
    assertThat(reconciler.reconcile(orphan, 10)).isEmpty();
  }
}
