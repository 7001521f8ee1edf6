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
import dev.berth.api.v1.Service;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import dev.berth.api.v1.UpdateStatus;
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
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Which reconcilers applied entries and ticks run: every one after a change other than agents'
 * progress reports, only those following an updating service after such reports, only those
 * due to wake on a tick over an unchanged store.
 */
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
  void progressReportsRunOnlyTheReconcilersFollowingThatServiceOtherChangesRunAll() throws Exception {
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

    AtomicInteger rounds = new AtomicInteger();
    AtomicInteger followerRounds = new AtomicInteger();
    Reconciler follower = new Reconciler() {
      @Override
      public String name() {
        return "follows updating services";
      }

      @Override
      public List<Command> reconcile(StoreView view, long nowMs) {
        followerRounds.incrementAndGet();
        return List.of();
      }

      @Override
      public boolean followsProgress(Service service) {
        return service.getUpdateStatus().getState() == UpdateStatus.State.UPDATING;
      }
    };
    // a tick far away: only applied entries start rounds (apart from the first, at start)
    try (ReconcileLoop loop = new ReconcileLoop(store, NO_PROPOSALS, Clock.systemUTC(), new ClusterViewFeed(),
        List.of(counting(rounds, false), follower), Duration.ofHours(1), Duration.ofMillis(5), Duration.ofSeconds(5))) {
      loop.start();
      await().atMost(Duration.ofSeconds(10)).until(() -> rounds.get() == 1 && followerRounds.get() == 1);

      ok(report(TaskState.ACCEPTED, ""));
      ok(report(TaskState.STARTING, ""));
      ok(report(TaskState.RUNNING, "starting"));
      for (int i = 0; i < 4; i++) {
        ok(report(TaskState.RUNNING, i % 2 == 0 ? "healthy" : "unhealthy"));
      }
      Thread.sleep(500); // 100x the debounce a triggered round waits
      assertThat(rounds).as("a task on its way to RUNNING and health flips start no full round").hasValue(1);
      assertThat(followerRounds).as("nor a follower's: its service is not updating").hasValue(1);

      ok(Command.newBuilder().setPlan(Plan.newBuilder().addServiceStatus(Plan.ServiceUpdateStatus.newBuilder()
          .setServiceId("s1").setStatus(UpdateStatus.newBuilder().setState(UpdateStatus.State.UPDATING)))).build());
      await().atMost(Duration.ofSeconds(10)).until(() -> rounds.get() == 2 && followerRounds.get() == 2);
      ok(report(TaskState.RUNNING, "healthy"));
      await().atMost(Duration.ofSeconds(10)).until(() -> followerRounds.get() == 3);
      Thread.sleep(500);
      assertThat(rounds).as("progress of an updating service runs its follower only").hasValue(2);

      ok(report(TaskState.FAILED, "unhealthy"));
      await().atMost(Duration.ofSeconds(10)).until(() -> rounds.get() == 3 && followerRounds.get() == 4);
    }
  }

  @Test
  void aTickOnAnUnchangedStoreRunsOnlyTheReconcilersDueToWake() throws Exception {
    ok(Command.newBuilder().setRegisterNode(RegisterNode.newBuilder().setNode(Node.newBuilder()
        .setMeta(Meta.newBuilder().setId("n1")).setStatus(NodeStatus.newBuilder().setState(NodeState.NODE_READY))))
        .build());
    AtomicInteger storeDriven = new AtomicInteger();
    AtomicInteger timeDriven = new AtomicInteger();
    try (ReconcileLoop loop = new ReconcileLoop(store, NO_PROPOSALS, Clock.systemUTC(), new ClusterViewFeed(),
        List.of(counting(storeDriven, false), counting(timeDriven, true)), Duration.ofMillis(10),
        Duration.ofMillis(5), Duration.ofSeconds(5))) {
      loop.start();
      await().atMost(Duration.ofSeconds(10)).until(() -> timeDriven.get() >= 10);
      assertThat(storeDriven).as("planned once at start; the store has not changed since").hasValue(1);

      ok(Command.newBuilder().setRegisterNode(RegisterNode.newBuilder().setNode(Node.newBuilder()
          .setMeta(Meta.newBuilder().setId("n2")).setStatus(NodeStatus.newBuilder().setState(NodeState.NODE_READY))))
          .build());
      await().atMost(Duration.ofSeconds(10)).until(() -> storeDriven.get() == 2);
      int after = timeDriven.get();
      await().atMost(Duration.ofSeconds(10)).until(() -> timeDriven.get() >= after + 10);
      assertThat(storeDriven).as("one round for the one change").hasValue(2);
    }
  }

  @Test
  void aTickRunsAReconcilerOnceItsWakeUpTimeHasComeNotBefore() throws Exception {
    AtomicLong nowMs = new AtomicLong(1_000);
    Clock clock = new Clock() {
      @Override
      public Instant instant() {
        return Instant.ofEpochMilli(nowMs.get());
      }

      @Override
      public ZoneId getZone() {
        return ZoneOffset.UTC;
      }

      @Override
      public Clock withZone(ZoneId zone) {
        return this;
      }
    };
    AtomicInteger runs = new AtomicInteger();
    Reconciler delayed = new Reconciler() {
      @Override
      public String name() {
        return "waits until 5 s";
      }

      @Override
      public List<Command> reconcile(StoreView view, long now) {
        runs.incrementAndGet();
        return List.of();
      }

      @Override
      public long wakeAtMs() {
        return 5_000;
      }
    };
    try (ReconcileLoop loop = new ReconcileLoop(store, NO_PROPOSALS, clock, new ClusterViewFeed(), List.of(delayed),
        Duration.ofMillis(10), Duration.ofMillis(5), Duration.ofSeconds(5))) {
      loop.start();
      await().atMost(Duration.ofSeconds(10)).until(() -> runs.get() == 1);
      Thread.sleep(300); // ~30 ticks
      assertThat(runs).as("ticks before 5 s run nothing").hasValue(1);
      nowMs.set(5_000);
      await().atMost(Duration.ofSeconds(10)).until(() -> runs.get() >= 3);
    }
  }

  @Test
  void theStandardReconcilersFollowingProgressAreUpdatesAndRebalancesInFlight() {
    List<Reconciler> standard = ReconcileLoop.standard(IdGenerator.random(), new ClusterViewFeed(), 1000);
    for (UpdateStatus.State state : UpdateStatus.State.values()) {
      if (state == UpdateStatus.State.UNRECOGNIZED) {
        continue;
      }
      Service service = Service.newBuilder().setUpdateStatus(UpdateStatus.newBuilder().setState(state)).build();
      List<String> following = standard.stream().filter(r -> r.followsProgress(service)).map(Reconciler::name).toList();
      switch (state) {
        case UPDATING -> assertThat(following).as(state.name()).containsExactly("rolling-update");
        case REBALANCING -> assertThat(following).as(state.name()).containsExactly("rebalance");
        default -> assertThat(following).as(state.name()).isEmpty();
      }
    }
  }

  private static final Proposer NO_PROPOSALS = new Proposer() {
    @Override
    public CompletableFuture<ApplyResult> propose(LogEntry entry) {
      return CompletableFuture.failedFuture(new IllegalStateException("nothing to propose here"));
    }

    @Override
    public boolean isLeader() {
      return true;
    }
  };

  private static Reconciler counting(AtomicInteger rounds, boolean timeDriven) {
    return new Reconciler() {
      @Override
      public String name() {
        return timeDriven ? "time-driven counter" : "counter";
      }

      @Override
      public List<Command> reconcile(StoreView view, long nowMs) {
        rounds.incrementAndGet();
        return List.of();
      }

      @Override
      public long wakeAtMs() {
        return timeDriven ? 0 : Long.MAX_VALUE; // always due, or never
      }
    };
  }
}
