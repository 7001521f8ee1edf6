package dev.berth.manager.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.Assignments;
import dev.berth.api.v1.ManagerMessage;
import dev.berth.api.v1.Meta;
import dev.berth.api.v1.NodeDescription;
import dev.berth.api.v1.ObjectKind;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import dev.berth.api.v1.WatchEvent;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import dev.berth.manager.store.ClusterStore;
import org.junit.jupiter.api.Test;

class AgentSessionTest {
  final List<Assignments> sent = new ArrayList<>();
  final AgentSession session = new AgentSession("n1", "s1", NodeDescription.getDefaultInstance(),
      new StreamObserver<>() {
        @Override public void onNext(ManagerMessage m) { sent.add(m.getAssignments()); }
        @Override public void onError(Throwable t) { }
        @Override public void onCompleted() { }
      });
  final AssignmentFeed feed = new ClusterStore().read(AssignmentFeed::build);

  static Task task(String id, TaskState desired, TaskState state) {
    return Task.newBuilder().setMeta(Meta.newBuilder().setId(id)).setNodeId("n1")
        .setDesiredState(desired).setStatus(TaskStatus.newBuilder().setState(state)).build();
  }

  static List<WatchEvent> event(WatchEvent.Action action, Task task) {
    return List.of(WatchEvent.newBuilder().setAction(action).setKind(ObjectKind.KIND_TASK).setTask(task).build());
  }

  private void deliver(long index, List<WatchEvent> events) {
    session.deliver(feed.apply(index, events), feed);
  }

  @Test
  void aTaskThatEndedAndIsDeletedLaterIsRemovedOnTheAgent() {
    feed.apply(1, event(WatchEvent.Action.CREATE, task("t1", TaskState.RUNNING, TaskState.RUNNING)));
    session.sendFull(feed);
    deliver(2, event(WatchEvent.Action.UPDATE, task("t2", TaskState.RUNNING, TaskState.ASSIGNED)));
    // Both end as the agent reported: nothing to send, and the session stops tracking their desired state.
    deliver(3, event(WatchEvent.Action.UPDATE, task("t1", TaskState.RUNNING, TaskState.FAILED)));
    deliver(4, event(WatchEvent.Action.UPDATE, task("t2", TaskState.RUNNING, TaskState.COMPLETE)));
    assertThat(sent).hasSize(2);

    deliver(5, event(WatchEvent.Action.REMOVE, task("t1", TaskState.RUNNING, TaskState.FAILED)));
    deliver(6, event(WatchEvent.Action.REMOVE, task("t2", TaskState.RUNNING, TaskState.COMPLETE)));

    assertThat(sent).hasSize(4);
    assertThat(sent.get(2).getRemovedTaskIdsList()).containsExactly("t1");
    assertThat(sent.get(3).getRemovedTaskIdsList()).containsExactly("t2");
    // Removed once only: a repeated removal is not sent again.
    deliver(7, event(WatchEvent.Action.REMOVE, task("t1", TaskState.RUNNING, TaskState.FAILED)));
    assertThat(sent).hasSize(4);
  }

  @Test
  void aTaskNeverSentIsNotReportedRemoved() {
    feed.apply(1, List.of());
    session.sendFull(feed);
    deliver(2, event(WatchEvent.Action.REMOVE, task("other", TaskState.RUNNING, TaskState.FAILED)));
    assertThat(sent).hasSize(1);
  }
}
