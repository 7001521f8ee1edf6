package dev.berth.scheduler;

import static dev.berth.scheduler.Fixtures.CORE;
import static dev.berth.scheduler.Fixtures.MB;
import static dev.berth.scheduler.Fixtures.node;
import static dev.berth.scheduler.Fixtures.running;
import static dev.berth.scheduler.Fixtures.service;
import static dev.berth.scheduler.Fixtures.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.v1.PortBinding;
import dev.berth.api.v1.Protocol;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import org.junit.jupiter.api.Test;

class ClusterViewTest {

  private final ClusterView view = new ClusterView();
  private final Service web = service("web", spec(CORE, 256 * MB));

  @Test
  void countedTaskReservesResourcesPortsAndServiceCount() {
    view.upsertNode(node("n1"));
    Task t = running("t1", web, "n1").toBuilder()
        .addHostPorts(PortBinding.newBuilder().setProtocol(Protocol.TCP).setPort(8080)).build();
    view.upsertTask(t);

    NodeInfo n1 = view.node("n1");
    assertThat(n1.reservedCpu()).isEqualTo(CORE);
    assertThat(n1.reservedMemory()).isEqualTo(256 * MB);
    assertThat(n1.tasksOf("web")).isEqualTo(1);
    assertThat(n1.taskCount()).isEqualTo(1);
    assertThat(n1.hostPortInUse(Protocol.TCP, 8080)).isTrue();
    assertThat(n1.hostPortInUse(Protocol.UDP, 8080)).isFalse();
  }

  @Test
  void upsertingTheSameTaskReplacesItsContribution() {
    view.upsertNode(node("n1"));
    view.upsertNode(node("n2"));
    view.upsertTask(running("t1", web, "n1"));
    view.upsertTask(running("t1", web, "n2"));

    assertThat(view.node("n1").reservedCpu()).isZero();
    assertThat(view.node("n1").tasksOf("web")).isZero();
    assertThat(view.node("n2").reservedCpu()).isEqualTo(CORE);
    assertThat(view.countedTasks()).isEqualTo(1);
  }

  @Test
  void terminalTasksContributeNothingUnlessDesiredRunning() {
    view.upsertNode(node("n1"));
    view.upsertTask(running("t1", web, "n1"));
    Task finished = running("t1", web, "n1").toBuilder()
        .setDesiredState(TaskState.SHUTDOWN)
        .setStatus(TaskStatus.newBuilder().setState(TaskState.COMPLETE)).build();
    view.upsertTask(finished);
    assertThat(view.node("n1").reservedCpu()).isZero();
    assertThat(view.countedTasks()).isZero();

    // Failed but still desired running (about to be restarted): counted, per the contract.
    Task failedDesiredRunning = running("t2", web, "n1").toBuilder()
        .setStatus(TaskStatus.newBuilder().setState(TaskState.FAILED)).build();
    view.upsertTask(failedDesiredRunning);
    assertThat(view.node("n1").tasksOf("web")).isEqualTo(1);

    // Stopping (desired SHUTDOWN, still RUNNING): still holds its resources.
    Task stopping = running("t3", web, "n1").toBuilder().setDesiredState(TaskState.SHUTDOWN).build();
    view.upsertTask(stopping);
    assertThat(view.node("n1").tasksOf("web")).isEqualTo(2);
  }

  @Test
  void unassignedTaskContributesNothing() {
    view.upsertNode(node("n1"));
    view.upsertTask(Fixtures.task("t1", web));
    assertThat(view.countedTasks()).isZero();
    assertThat(view.nodeOf("t1")).isNull();
  }

  @Test
  void removeTaskUndoesExactly() {
    view.upsertNode(node("n1"));
    view.upsertTask(running("t1", web, "n1"));
    view.upsertTask(running("t2", web, "n1"));
    view.removeTask("t1");
    view.removeTask("unknown");
    assertThat(view.node("n1").reservedCpu()).isEqualTo(CORE);
    assertThat(view.node("n1").tasksOf("web")).isEqualTo(1);
  }

  @Test
  void tasksMayArriveBeforeTheirNodeAndSurviveItsRemoval() {
    view.upsertTask(running("t1", web, "n1"));
    assertThat(view.node("n1")).isNull();
    assertThat(view.nodes()).isEmpty();

    view.upsertNode(node("n1"));
    assertThat(view.node("n1").reservedCpu()).isEqualTo(CORE);

    view.removeNode("n1");
    assertThat(view.nodes()).isEmpty();
    view.upsertNode(node("n1"));
    assertThat(view.node("n1").reservedCpu()).as("reservations kept across remove/re-add").isEqualTo(CORE);
  }

  @Test
  void removingNodesKeepsTheNodeListConsistent() {
    for (int i = 0; i < 5; i++) {
      view.upsertNode(node("n" + i));
    }
    view.removeNode("n1");
    view.removeNode("n4");
    view.removeNode("n1");
    view.upsertNode(node("n0"));
    assertThat(view.nodes()).extracting(NodeInfo::id).containsExactlyInAnyOrder("n0", "n2", "n3");
    assertThat(view.node("n1")).isNull();
  }

  @Test
  void objectsWithoutIdAreRejectedAndLeaveTheViewUnchanged() {
    assertThatThrownBy(() -> view.upsertNode(dev.berth.api.v1.Node.getDefaultInstance()))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("node has no meta.id");
    assertThatThrownBy(() -> view.upsertTask(Task.getDefaultInstance()))
        .hasMessage("task has no meta.id");
    assertThat(view.nodes()).isEmpty();
    assertThat(view.countedTasks()).isZero();
  }
}
