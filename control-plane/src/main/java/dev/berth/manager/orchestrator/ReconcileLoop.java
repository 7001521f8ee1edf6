package dev.berth.manager.orchestrator;

import dev.berth.api.v1.WatchEvent;
import dev.berth.internal.v1.ApplyResult;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.LogEntry;
import dev.berth.manager.DaemonThreads;
import dev.berth.manager.store.DetachedView;
import dev.berth.manager.store.Proposer;
import dev.berth.manager.store.Store;
import dev.berth.manager.store.StoreListener;
import dev.berth.manager.store.StoreView;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs the reconcilers on the leader: plan against a snapshot (a {@link DetachedView}, copied
 * under the store's read lock and scanned outside it), then commit through the log.
 * A round runs each reconciler in order on a fresh view and waits for its plan to apply before
 * the next one looks, so no two reconcilers act on the same stale picture. Rounds are
 * triggered by applied entries (coalesced: at most one round pending, started after a short
 * debounce, or later after a round that read the store for long: {@link RoundPacer}) and by a
 * periodic tick that covers time-based decisions (restart delays, down nodes, update delays).
 * Which reconcilers a round runs depends on what changed since the previous one:
 * <ul>
 *   <li>any change other than agents' progress reports: all of them;
 *   <li>only progress reports (tasks ACCEPTED up to RUNNING, container health): those that
 *       {@linkplain Reconciler#followsProgress follow the progress} of a service whose tasks
 *       moved (an update or rebalance in flight), usually none, and then the store is not read;
 *   <li>the tick: those whose {@linkplain Reconciler#wakeAtMs() wake-up time} has come (a
 *       restart or update delay, an orphan grace ending), usually none (on 50,000 tasks, every
 *       reconciler scanning the store on every tick was most of the leader's reconcile CPU).
 * </ul>
 *
 * <p>Thread model: {@link #start()} (from the manager's leader-start callback) and {@link
 * #stop()} (leader-stop) may be called from any thread; all rounds run on one private thread.
 * Error contract: a failed or rejected proposal is logged and retried on a later round; the
 * loop never dies from a reconciler error.
 */
public final class ReconcileLoop implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(ReconcileLoop.class.getName());
  /** Rounds leave the store alone at least 3x as long as they spent reading it (RoundPacer). */
  static final int IDLE_FACTOR = 3;

  private final Store store;
  private final Proposer proposer;
  private final Clock clock;
  private final List<Reconciler> reconcilers;
  private final ClusterViewFeed feed;
  private final Duration tick;
  private final Duration proposeTimeout;
  private final AtomicBoolean pending = new AtomicBoolean();
  /** The store changed (or a plan failed) since the last round began: the next runs every reconciler. */
  private final AtomicBoolean storeChanged = new AtomicBoolean(true);
  /** Services whose tasks only progressed since the last round began ({@link Reconciler#followsProgress}). */
  private final Set<String> progressed = ConcurrentHashMap.newKeySet();
  /** The tick fired since the last round began: the next runs the reconcilers due to wake. */
  private final AtomicBoolean ticked = new AtomicBoolean(true);
  private final RoundPacer pacer;
  /**
   * The copy the previous reconciler of this round planned on, if it proposed nothing: the next
   * one plans on it too (a consistent, slightly older index; copying 50,000 tasks is what holds
   * the lock). After a plan the next reconciler copies afresh, to see that plan applied.
   * Confined to the reconcile thread.
   */
  private StoreView shared;
  private ScheduledExecutorService executor;
  private AutoCloseable listener;

  /**
   * @param feed the scheduler view the reconcilers share; the loop feeds it the store's events
   *     while it runs and starts it afresh on every {@link #start()} (one view per term)
   */
  public ReconcileLoop(Store store, Proposer proposer, Clock clock, ClusterViewFeed feed,
      List<Reconciler> reconcilers, Duration tick, Duration debounce, Duration proposeTimeout) {
    this.store = store;
    this.feed = feed;
    this.proposer = proposer;
    this.clock = clock;
    this.reconcilers = List.copyOf(reconcilers);
    this.tick = tick;
    this.proposeTimeout = proposeTimeout;
    this.pacer = new RoundPacer(debounce, IDLE_FACTOR);
  }

  /** The standard reconcilers in the order a round runs them. */
  public static List<Reconciler> standard(IdGenerator ids, ClusterViewFeed feed, long orphanAfterMs) {
    TaskFactory factory = new TaskFactory(ids);
    int max = 1000;
    return List.of(
        new NodeLivenessReconciler(orphanAfterMs, max),
        new ReaperReconciler(max),
        new ReplicatedReconciler(factory, max),
        new GlobalReconciler(factory, feed, max),
        new RestartReconciler(factory, max),
        new RollingUpdateReconciler(factory, max),
        new RebalanceReconciler(feed, max),
        new Allocator(feed, max));
  }

  public synchronized void start() {
    if (executor != null) {
      return;
    }
    executor = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("berth-reconcile"));
    ScheduledExecutorService mine = executor;
    feed.reset();
    storeChanged.set(true);
    listener = store.addListener(new StoreListener() {
      @Override
      public void onApplied(long index, List<WatchEvent> events) {
        onApplied(index, events, false);
      }

      @Override
      public void onApplied(long index, List<WatchEvent> events, boolean progressOnly) {
        if (events.isEmpty()) {
          return;
        }
        feed.onApplied(index, events, progressOnly);
        if (progressOnly) {
          for (WatchEvent e : events) {
            progressed.add(e.getTask().getServiceId());
          }
        } else {
          storeChanged.set(true);
        }
        trigger(mine);
      }
    });
    mine.scheduleWithFixedDelay(() -> {
      ticked.set(true);
      trigger(mine);
    }, 0, tick.toMillis(), TimeUnit.MILLISECONDS);
  }

  public synchronized void stop() {
    if (executor == null) {
      return;
    }
    try {
      listener.close();
    } catch (Exception e) {
      LOG.log(Level.WARNING, "closing store listener", e);
    }
    executor.shutdownNow();
    executor = null;
    pending.set(false);
  }

  @Override
  public void close() {
    stop();
  }

  private void trigger(ScheduledExecutorService on) {
    if (pending.compareAndSet(false, true)) {
      try {
        on.schedule(() -> round(storeChanged.getAndSet(false), ticked.getAndSet(false)),
            pacer.delayNanos(System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (java.util.concurrent.RejectedExecutionException stopped) {
        pending.set(false);
      }
    }
  }

  /** One pass of every reconciler; package-visible so tests can drive rounds directly. */
  void round() {
    storeChanged.set(false);
    ticked.set(false);
    round(true, true);
  }

  /**
   * One pass of every reconciler, or with {@code all} false of those that follow the progress
   * recorded since the last round and, if {@code tick}, those due to wake.
   */
  private void round(boolean all, boolean tick) {
    pending.set(false);
    shared = null;
    feed.catchUp();
    long busy = 0;
    try {
      Set<Reconciler> following = following(all);
      for (Reconciler reconciler : reconcilers) {
        if (!proposer.isLeader() || Thread.currentThread().isInterrupted()) {
          storeChanged.set(true);
          return;
        }
        boolean due = tick && clock.millis() >= reconciler.wakeAtMs();
        if (!all && !due && !following.contains(reconciler)) {
          continue;
        }
        busy += runOne(reconciler);
      }
    } finally {
      pacer.roundEnded(System.nanoTime(), busy);
    }
  }

  /**
   * Takes the services recorded by progress reports and returns the reconcilers following one
   * of them; a look-up of those services under the read lock, nothing when none was recorded.
   */
  private Set<Reconciler> following(boolean all) {
    Set<String> services = new HashSet<>();
    for (Iterator<String> it = progressed.iterator(); it.hasNext(); ) {
      services.add(it.next());
      it.remove();
    }
    if (all || services.isEmpty()) {
      return Set.of(); // a full round runs every reconciler anyway
    }
    return store.read(view -> {
      Set<Reconciler> out = new HashSet<>();
      for (String id : services) {
        view.service(id).ifPresent(service -> {
          for (Reconciler r : reconcilers) {
            if (r.followsProgress(service)) {
              out.add(r);
            }
          }
        });
      }
      return out;
    });
  }

  /** Plans with one reconciler and commits its plan; returns the time spent planning. */
  private long runOne(Reconciler reconciler) {
    long start = System.nanoTime();
    long read = -1;
    try {
      long now = clock.millis();
      // Planned on a copy: the scan no longer holds the store's lock, which apply waits for.
      StoreView view = shared != null ? shared : store.read(DetachedView::of);
      shared = null;
      List<Command> commands = reconciler.reconcile(view, now);
      read = System.nanoTime() - start;
      if (commands.isEmpty()) {
        shared = view;
        return read;
      }
      LogEntry entry = LogEntry.newBuilder().setTimestampMs(now).addAllCommands(commands).build();
      ApplyResult result =
          proposer.propose(entry).get(proposeTimeout.toMillis(), TimeUnit.MILLISECONDS);
      if (!"OK".equals(result.getCode())) {
        storeChanged.set(true); // nothing applied: every reconciler plans again next time
        LOG.log(Level.WARNING, "{0} plan rejected: {1} {2}", reconciler.name(),
            result.getCode(), result.getMessage());
      }
    } catch (InterruptedException e) {
      storeChanged.set(true);
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      storeChanged.set(true);
      LOG.log(Level.WARNING, reconciler.name() + " round failed; retrying later", e);
    }
    return read >= 0 ? read : System.nanoTime() - start;
  }
}
