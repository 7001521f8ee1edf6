package dev.berth.manager.store;

import dev.berth.api.v1.WatchEvent;
import dev.berth.internal.v1.LogEntry;
import dev.berth.internal.v1.StoreSnapshot;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The manager's replicated store: objects with indexes, the request de-duplication table
 * and the recent-change log, mutated only by {@link #apply} in log order.
 *
 * <p>Thread model: {@link #apply} and {@link #restore} are called by the single apply
 * thread (the Raft state machine) and hold the write lock; reads may come from any
 * thread. Listeners are called on the apply thread after the lock is released.
 */
public final class ClusterStore implements Store {
  public static final int DEFAULT_DEDUPE_CAPACITY = 20_000;
  /**
   * Watch history bounds (see {@link ChangeLog}). At 200,000 events the history kept ~100 MB of
   * Tasks alive on a manager under a batched status load, and every young GC copied them
   * (docs/benchmarks.md, "Control plane"). 20,000 events is still minutes of history at a few
   * hundred changes/s and ~2 s at 10,000/s; a watcher further behind re-lists (OUT_OF_RANGE).
   */
  public static final int DEFAULT_CHANGE_LOG_CAPACITY = 20_000;
  public static final long DEFAULT_CHANGE_LOG_BYTES = 16L << 20;
  private static final Logger LOG = LoggerFactory.getLogger(ClusterStore.class);

  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final StoreState state;
  private final ChangeLog changes;
  private final List<StoreListener> listeners = new CopyOnWriteArrayList<>();

  public ClusterStore() {
    this(DEFAULT_DEDUPE_CAPACITY, DEFAULT_CHANGE_LOG_CAPACITY);
  }

  public ClusterStore(int dedupeCapacity, int changeLogCapacity) {
    this(dedupeCapacity, changeLogCapacity, DEFAULT_CHANGE_LOG_BYTES);
  }

  public ClusterStore(int dedupeCapacity, int changeLogCapacity, long changeLogBytes) {
    this.state = new StoreState(dedupeCapacity);
    this.changes = new ChangeLog(changeLogCapacity, changeLogBytes);
  }

  @Override
  public <T> T read(Function<StoreView, T> reader) {
    StoreLockEvent event = new StoreLockEvent();
    lock.readLock().lock();
    event.begin();
    try {
      return reader.apply(state);
    } finally {
      lock.readLock().unlock();
      commit(event, "read", -1);
    }
  }

  private static void commit(StoreLockEvent event, String kind, long index) {
    event.end(); // shouldCommit compares the duration with the threshold
    if (event.shouldCommit()) {
      event.kind = kind;
      event.index = index;
      event.commit();
    }
  }

  @Override
  public java.util.Optional<dev.berth.internal.v1.ApplyResult> requestOutcome(String requestId) {
    return read(v -> java.util.Optional.ofNullable(state.dedupe.get(requestId)));
  }

  @Override
  public AutoCloseable addListener(StoreListener listener) {
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  public ChangeLog changes() {
    return changes;
  }

  /** Applies one entry; {@code underLock} runs before the write lock is released. */
  public Applier.Outcome apply(LogEntry entry, long index, Runnable underLock) {
    Applier.Outcome out;
    StoreLockEvent event = new StoreLockEvent();
    lock.writeLock().lock();
    event.begin();
    try {
      out = Applier.apply(state, entry, index);
      changes.append(index, out.events());
      underLock.run();
    } finally {
      lock.writeLock().unlock();
      commit(event, "apply", index);
    }
    notifyListeners(index, out);
    return out;
  }

  public Applier.Outcome apply(LogEntry entry, long index) {
    return apply(entry, index, () -> { });
  }

  private void notifyListeners(long index, Applier.Outcome out) {
    for (StoreListener l : listeners) {
      try {
        l.onApplied(index, out.events(), out.progressOnly());
      } catch (RuntimeException e) {
        LOG.warn("store listener failed at index {}", index, e);
      }
    }
  }

  /**
   * The store at one index plus whatever {@code alongside} returned, read under the same lock;
   * {@link #snapshot()} builds the message from it, on the caller's thread, outside the lock.
   */
  public static final class Snapshot<T> {
    private final StoreState.Capture capture;
    private final T alongside;

    private Snapshot(StoreState.Capture capture, T alongside) {
      this.capture = capture;
      this.alongside = alongside;
    }

    /** Builds the snapshot message (O(store size): call it off the apply thread, once). */
    public StoreSnapshot snapshot() {
      return capture.build();
    }

    public T alongside() {
      return alongside;
    }
  }

  /** Captures the store for a snapshot: the lock is held only to copy references. */
  public <T> Snapshot<T> snapshot(Supplier<T> alongside) {
    StoreLockEvent event = new StoreLockEvent();
    lock.readLock().lock();
    event.begin();
    try {
      return new Snapshot<>(state.capture(), alongside.get());
    } finally {
      lock.readLock().unlock();
      commit(event, "snapshot", -1);
    }
  }

  /** Replaces the whole state (restart or snapshot install); watchers before it must re-list. */
  public void restore(StoreSnapshot snapshot) {
    lock.writeLock().lock();
    try {
      state.load(snapshot);
      changes.reset(snapshot.getIndex());
    } finally {
      lock.writeLock().unlock();
    }
  }

  /** Records that Raft-internal entries up to {@code index} were applied (no store change). */
  public void advanceIndex(long index) {
    changes.append(index, List.of());
  }

  public String digest() {
    return read(v -> state.digest());
  }

  public long index() {
    return read(StoreView::index);
  }
}
