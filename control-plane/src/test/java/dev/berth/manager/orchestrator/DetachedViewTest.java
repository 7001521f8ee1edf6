package dev.berth.manager.orchestrator;

import static dev.berth.manager.orchestrator.Fixture.aNode;
import static dev.berth.manager.orchestrator.Fixture.replicated;
import static dev.berth.manager.orchestrator.Fixture.sequentialIds;
import static dev.berth.manager.orchestrator.Fixture.spec;
import static dev.berth.manager.orchestrator.Fixture.task;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.Service;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.manager.store.DetachedView;
import dev.berth.manager.store.StoreView;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The reconcilers' copy of the store: the same answers as the live view, and no later changes. */
class DetachedViewTest {
  private Fixture cluster() {
    Fixture f = new Fixture().add(aNode("n1")).add(aNode("n2"));
    Service web = replicated("web", 4, spec("nginx"));
    Service db = replicated("db", 1, spec("postgres"));
    f.add(web).add(db);
    f.add(task("t1", web, 1, "n1", TaskState.RUNNING)).add(task("t2", web, 2, "n2", TaskState.FAILED))
        .add(task("t3", web, 3, "", TaskState.PENDING)).add(task("t4", db, 1, "n2", TaskState.RUNNING));
    return f;
  }

  @Test
  void answersAsTheLiveViewAtTheIndexItWasCopiedAt() {
    Fixture live = cluster();
    StoreView copy = DetachedView.of(live);
    assertThat(copy.index()).isEqualTo(live.index());
    assertThat(copy.nodes()).containsExactlyElementsOf(live.nodes());
    assertThat(copy.services()).containsExactlyElementsOf(live.services());
    assertThat(copy.tasks()).containsExactlyElementsOf(live.tasks());
    assertThat(copy.serviceByName("svc-db")).isEqualTo(live.serviceByName("svc-db")).isPresent();
    assertThat(copy.serviceByName("nope")).isEmpty();
    assertThat(copy.task("t3")).isEqualTo(live.task("t3")).isPresent();
    assertThat(copy.task("t9")).isEmpty();
    assertThat(copy.tasksOfService("web")).containsExactlyInAnyOrderElementsOf(live.tasksOfService("web"));
    assertThat(copy.tasksOfNode("n2")).containsExactlyInAnyOrderElementsOf(live.tasksOfNode("n2"))
        .extracting(t -> t.getMeta().getId()).containsExactlyInAnyOrder("t2", "t4");
    assertThat(copy.tasksOfNode("")).as("unassigned tasks are on no node").isEmpty();
    assertThat(copy.nodeIdsWithTasks()).isEqualTo(live.nodeIdsWithTasks());
    assertThat(copy.cluster()).isEqualTo(live.cluster());
  }

  @Test
  void laterChangesDoNotShowAndPlansAreTheLiveViewsPlans() {
    Fixture live = cluster();
    StoreView copy = DetachedView.of(live);
    ReplicatedReconciler r = new ReplicatedReconciler(new TaskFactory(sequentialIds()), 100);
    var planned = r.reconcile(copy, 1_000);
    assertThat(planned).isEqualTo(new ReplicatedReconciler(new TaskFactory(sequentialIds()), 100)
        .reconcile(live, 1_000)).isNotEmpty();
    live.apply(planned, 1_000);
    live.setState("t1", TaskState.FAILED, 1_000);
    assertThat(copy.tasks()).hasSize(4);
    assertThat(copy.task("t1")).map(Task::getStatus).map(s -> s.getState()).contains(TaskState.RUNNING);
    assertThat(live.tasks()).hasSizeGreaterThan(4);
    assertThat(List.copyOf(copy.tasksOfService("web"))).hasSize(3);
  }
}
