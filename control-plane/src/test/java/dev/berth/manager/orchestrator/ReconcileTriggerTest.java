package dev.berth.manager.orchestrator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.ContainerStatus;
import dev.berth.api.v1.Meta;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.NodeStatus;
import dev.berth.api.v1.ReplicatedService;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import dev.berth.internal.v1.ApplyResult;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.CreateService;
import dev.berth.internal.v1.LogEntry;
import dev.berth.internal.v1.Plan;
import dev.berth.internal.v1.RegisterNode;
import dev.berth.internal.v1.ReportTaskStatus;
import dev.berth.internal.v1.TaskStatusChange;
import dev.berth.manager.store.ClusterStore;
import dev.berth.manager.store.Proposer;
import dev.berth.manager.store.StoreView;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Which applied entries start a reconcile round: every change but agents' health-only reports. */
class ReconcileTriggerTest {
  private final ClusterStore store = new ClusterStore();
  private long index;

  private void ok(Command... commands) {
    ApplyResult r = store.apply(LogEntry.newBuilder().setTimestampMs(1).addAllCommands(List.of(commands)).build(), ++index)
        .result();
    assertThat(r.getCode()).as(r.getMessage()).isEqualTo("OK");
  }

  private static Command report(TaskState state, String health) {
    return Command.newBuilder().setReportTaskStatus(ReportTaskStatus.newBuilder().setNodeId("n1").addChanges(
        TaskStatusChange.newBuilder().setTaskId("t1").setStatus(TaskStatus.newBuilder().setState(state)
            .setContainer(ContainerStatus.newBuilder().setHealth(health))))).build();
  }

  @Test
  void healthOnlyReportsStartNoRoundStateChangesDo() throws Exception {
    TaskSpec spec = TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage("busybox")).build();
    ok(Command.newBuilder().setCreateService(CreateService.newBuilder().setId("s1").setSpec(ServiceSpec.newBuilder()
        .setName("web").setReplicated(ReplicatedService.newBuilder().setReplicas(1)).setTask(spec))).build(),
        Command.newBuilder().setRegisterNode(RegisterNode.newBuilder().setNode(Node.newBuilder()
            .setMeta(Meta.newBuilder().setId("n1"))
            .setStatus(NodeStatus.newBuilder().setState(NodeState.NODE_READY)))).build());
    ok(Command.newBuilder().setPlan(Plan.newBuilder()
        .addCreateTasks(Task.newBuilder().setMeta(Meta.newBuilder().setId("t1")).setServiceId("s1").setSlot(1)
            .setDesiredState(TaskState.RUNNING).setSpec(spec).setStatus(TaskStatus.newBuilder().setState(TaskState.NEW)))
        .addAssignments(Plan.Assignment.newBuilder().setTaskId("t1").setNodeId("n1"))).build());
    ok(report(TaskState.RUNNING, "starting"));

    AtomicInteger rounds = new AtomicInteger();
    Reconciler counter = new Reconciler() {
      @Override
      public String name() {
        return "counter";
      }

      @Override
      public List<Command> reconcile(StoreView view, long nowMs) {
        rounds.incrementAndGet();
        return List.of();
      }
    };
    Proposer proposer = new Proposer() {
      @Override
      public CompletableFuture<ApplyResult> propose(LogEntry entry) {
        return CompletableFuture.failedFuture(new IllegalStateException("nothing to propose here"));
      }

      @Override
      public boolean isLeader() {
        return true;
      }
    };
    // a tick far away: only applied entries start rounds (apart from the first, at start)
    try (ReconcileLoop loop = new ReconcileLoop(store, proposer, Clock.systemUTC(), new ClusterViewFeed(),
        List.of(counter), Duration.ofHours(1), Duration.ofMillis(5), Duration.ofSeconds(5))) {
      loop.start();
      await().atMost(Duration.ofSeconds(10)).until(() -> rounds.get() == 1);

      for (int i = 0; i < 5; i++) {
        ok(report(TaskState.RUNNING, i % 2 == 0 ? "healthy" : "unhealthy"));
      }
      Thread.sleep(500); // 100x the debounce a triggered round waits
      assertThat(rounds).as("health flips of a running task start no round").hasValue(1);

      ok(report(TaskState.FAILED, "unhealthy"));
      await().atMost(Duration.ofSeconds(10)).until(() -> rounds.get() == 2);
    }
  }
}
