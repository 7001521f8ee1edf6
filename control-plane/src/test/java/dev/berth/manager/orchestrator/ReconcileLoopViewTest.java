package dev.berth.manager.orchestrator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.ReplicatedService;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.TaskSpec;
import dev.berth.internal.v1.ApplyResult;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.CreateService;
import dev.berth.internal.v1.LogEntry;
import dev.berth.manager.store.ClusterStore;
import dev.berth.manager.store.Proposer;
import dev.berth.manager.store.Store;
import dev.berth.manager.store.StoreListener;
import dev.berth.manager.store.StoreView;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * What a reconcile round reads: reconcilers plan on copies (no lock held while they scan), one
 * copy shared until a reconciler commits a plan, after which the next one sees that plan applied.
 */
class ReconcileLoopViewTest {
  private final ClusterStore backing = new ClusterStore();
  private final AtomicInteger reads = new AtomicInteger();
  private final Store store = new Store() {
    @Override
    public <T> T read(Function<StoreView, T> reader) {
      reads.incrementAndGet();
      return backing.read(reader);
    }

    @Override
    public Optional<ApplyResult> requestOutcome(String requestId) {
      return backing.requestOutcome(requestId);
    }

    @Override
    public AutoCloseable addListener(StoreListener listener) {
      return backing.addListener(listener);
    }
  };
  private final AtomicInteger index = new AtomicInteger();
  private final Proposer proposer = new Proposer() {
    @Override
    public CompletableFuture<ApplyResult> propose(LogEntry entry) {
      return CompletableFuture.completedFuture(backing.apply(entry, index.incrementAndGet()).result());
    }

    @Override
    public boolean isLeader() {
      return true;
    }
  };

  /** Records the view it was given; proposes a new service when {@code plans}. */
  private static final class Recorder implements Reconciler {
    final boolean plans;
    final List<StoreView> seen = new ArrayList<>();
    boolean lockFreeWhilePlanning;
    private final ClusterStore backing;
    private final AtomicInteger index;

    Recorder(boolean plans, ClusterStore backing, AtomicInteger index) {
      this.plans = plans;
      this.backing = backing;
      this.index = index;
    }

    @Override
    public String name() {
      return "recorder";
    }

    @Override
    public List<Command> reconcile(StoreView view, long nowMs) {
      seen.add(view);
      // apply takes the write lock: it can only get it if no read lock is held during planning
      var t = new Thread(() -> {
        long i = index.incrementAndGet();
        backing.apply(LogEntry.newBuilder().addCommands(create("probe" + i)).build(), i);
      });
      t.start();
      try {
        t.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      lockFreeWhilePlanning = !t.isAlive();
      if (!plans) {
        return List.of();
      }
      return List.of(create("svc" + view.index()));
    }

    static Command create(String id) {
      return Command.newBuilder().setCreateService(CreateService.newBuilder().setId(id)
          .setSpec(ServiceSpec.newBuilder().setName(id).setReplicated(ReplicatedService.newBuilder().setReplicas(1))
              .setTask(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage("busybox"))))).build();
    }
  }

  private static List<String> planned(StoreView v) {
    return v.services().stream().map(s -> s.getMeta().getId()).filter(id -> id.startsWith("svc")).toList();
  }

  @Test
  void oneCopyUntilAPlanIsCommittedThenAFreshOne() {
    Recorder a = new Recorder(false, backing, index);
    Recorder b = new Recorder(true, backing, index);
    Recorder c = new Recorder(false, backing, index);
    Recorder d = new Recorder(false, backing, index);
    ReconcileLoop loop = new ReconcileLoop(store, proposer, Clock.systemUTC(), new ClusterViewFeed(),
        List.of(a, b, c, d), Duration.ofSeconds(60), Duration.ofMillis(5), Duration.ofSeconds(5));
    loop.round();
    assertThat(reads).as("a copy for a (shared with b), a fresh one after b's plan (shared with d)").hasValue(2);
    assertThat(b.seen.get(0)).isSameAs(a.seen.get(0));
    assertThat(c.seen.get(0)).isNotSameAs(b.seen.get(0)).isSameAs(d.seen.get(0));
    assertThat(planned(c.seen.get(0))).as("c sees b's plan applied").hasSize(1);
    assertThat(planned(b.seen.get(0))).as("b's copy is not changed by its own plan").isEmpty();
    assertThat((int) backing.read(v -> v.services().size())).as("every probe applied while planning").isEqualTo(1 + 4);
    assertThat(List.of(a, b, c, d)).allMatch(r -> r.lockFreeWhilePlanning);
    loop.round();
    assertThat(reads).as("every round starts from a fresh copy").hasValue(4);
    assertThat(a.seen.get(1)).isNotSameAs(d.seen.get(0));
  }
}
