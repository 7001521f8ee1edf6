package dev.berth.agent.session;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.Assignments;
import dev.berth.api.v1.Meta;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import dev.berth.api.v1.TaskStatusReport;
import java.util.List;
import org.junit.jupiter.api.Test;

class StatusReportsTest {
  private static TaskStatus status(TaskState s) {
    return TaskStatus.newBuilder().setState(s).build();
  }

  private static Task task(String id, TaskState s) {
    return Task.newBuilder().setMeta(Meta.newBuilder().setId(id)).setStatus(status(s)).build();
  }

  @Test
  void aStatusIsAcknowledgedByTheSameOrALaterStateOrByTheTaskLeaving() {
    StatusReports r = new StatusReports();
    r.record("a", status(TaskState.RUNNING), false);
    r.record("b", status(TaskState.RUNNING), false);
    r.record("c", status(TaskState.RUNNING), false);
    r.record("d", status(TaskState.RUNNING), false);

    r.acknowledge(Assignments.newBuilder().addTasks(task("a", TaskState.STARTING)).addTasks(task("b", TaskState.COMPLETE))
        .addRemovedTaskIds("c").build());
    assertThat(r.unacknowledgedIds()).containsExactlyInAnyOrder("a", "d");
    assertThat(r.hasQueued()).isFalse();

    // a full set that does not list d acknowledges it too
    r.acknowledge(Assignments.newBuilder().setFull(true).addTasks(task("a", TaskState.STARTING)).build());
    assertThat(r.unacknowledgedIds()).containsExactly("a");
  }

  @Test
  void requeueSendsTheLatestStatusOnlyAndDrainSplitsLargeQueues() {
    StatusReports r = new StatusReports();
    r.record("a", status(TaskState.STARTING), true);
    r.record("a", status(TaskState.RUNNING), true);
    r.requeueUnacknowledged();
    List<TaskStatusReport> one = r.drain();
    assertThat(one).singleElement().satisfies(rep -> assertThat(rep.getUpdatesList()).singleElement()
        .satisfies(u -> assertThat(u.getStatus().getState()).isEqualTo(TaskState.RUNNING)));
    assertThat(r.hasQueued()).isFalse();

    for (int i = 0; i < StatusReports.MAX_UPDATES_PER_REPORT + 1; i++) {
      r.record("t" + i, status(TaskState.RUNNING), true);
    }
    assertThat(r.drain()).extracting(TaskStatusReport::getUpdatesCount)
        .containsExactly(StatusReports.MAX_UPDATES_PER_REPORT, 1);
    assertThat(r.drain()).isEmpty();
  }
}
