package dev.berth.manager.store;

import dev.berth.api.v1.WatchEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Bounded in-memory history of recent changes, by log index, for {@code Watch}.
 *
 * <p>Invariant: every event with index &gt; {@link #floor()} is retained, so a reader
 * positioned at or above the floor sees every later change exactly once. Trimming drops
 * whole entries (all events of one index together) and raises the floor; a reader below
 * the floor gets {@link CompactedException} and must re-list.
 *
 * <p>Thread model: one appender (the apply thread), any number of readers; readers block
 * in {@link #read} until something newer is applied or the wait times out.
 */
public final class ChangeLog {
  /** The requested position was trimmed away. */
  public static final class CompactedException extends Exception {
    public CompactedException(String message) {
      super(message, null, false, false);
    }
  }

  /** Events after a position, whole entries only, plus how far the log has been applied. */
  public record Batch(List<WatchEvent> events, long appliedIndex) {}

  private final int capacity;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition advanced = lock.newCondition();
  private final ArrayList<WatchEvent> events = new ArrayList<>();
  private long floor;
  private long applied;

  public ChangeLog(int capacity) {
    this.capacity = capacity;
  }

  void append(long index, List<WatchEvent> batch) {
    lock.lock();
    try {
      events.addAll(batch);
      applied = Math.max(applied, index);
      if (events.size() > capacity + capacity / 4) {
        trim(events.size() - capacity);
      }
      advanced.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private void trim(int atLeast) {
    int cut = atLeast;
    long lastDropped = events.get(cut - 1).getIndex();
    while (cut < events.size() && events.get(cut).getIndex() == lastDropped) {
      cut++;
    }
    events.subList(0, cut).clear();
    floor = Math.max(floor, lastDropped);
  }

  /** Forgets everything: the store was replaced (snapshot install) at {@code index}. */
  void reset(long index) {
    lock.lock();
    try {
      events.clear();
      floor = index;
      applied = index;
      advanced.signalAll();
    } finally {
      lock.unlock();
    }
  }

  public long floor() {
    lock.lock();
    try {
      return floor;
    } finally {
      lock.unlock();
    }
  }

  public long appliedIndex() {
    lock.lock();
    try {
      return applied;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Returns the events of entries with index &gt; {@code after} (up to about
   * {@code maxEvents}, never splitting an entry), waiting up to {@code waitMs} when there
   * are none yet.
   *
   * @throws CompactedException when {@code after} is below the floor
   */
  public Batch read(long after, int maxEvents, long waitMs)
      throws CompactedException, InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
    lock.lock();
    try {
      while (true) {
        if (after < floor) {
          throw new CompactedException("index " + after + " was compacted away (oldest retained "
              + "change follows index " + floor + "); list again and watch from the list's index");
        }
        int from = firstAfter(after);
        if (from < events.size()) {
          int to = Math.min(events.size(), from + Math.max(1, maxEvents));
          long lastIdx = events.get(to - 1).getIndex();
          while (to < events.size() && events.get(to).getIndex() == lastIdx) {
            to++;
          }
          return new Batch(List.copyOf(events.subList(from, to)), applied);
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return new Batch(List.of(), applied);
        }
        advanced.awaitNanos(left);
      }
    } finally {
      lock.unlock();
    }
  }

  /** Waits until entries up to {@code index} are applied here; false on timeout. */
  public boolean awaitApplied(long index, long waitMs) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
    lock.lock();
    try {
      while (applied < index) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        advanced.awaitNanos(left);
      }
      return true;
    } finally {
      lock.unlock();
    }
  }

  private int firstAfter(long after) {
    int lo = 0;
    int hi = events.size();
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (events.get(mid).getIndex() <= after) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }
}
