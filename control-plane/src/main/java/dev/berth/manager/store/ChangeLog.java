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
 * <p>Bounded twice: by events, and by their serialized bytes. Each event holds a whole object, so
 * the history is a manager's largest live set after the store itself; the event bound caps it for
 * small objects (tasks), the byte bound for large ones (a service carries a spec of up to
 * {@link SpecValidator#MAX_SPEC_BYTES}). The serialized size is what the Watch stream sends anyway
 * (protobuf memoizes it), so counting it costs nothing extra per delivered event.
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
  private final long maxBytes;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition advanced = lock.newCondition();
  private final ArrayList<WatchEvent> events = new ArrayList<>();
  private long floor;
  private long applied;
  /** Serialized size of the retained events. */
  private long bytes;

  /** At most about {@code capacity} events and {@code maxBytes} serialized bytes. */
  public ChangeLog(int capacity, long maxBytes) {
    if (capacity < 1 || maxBytes < 1) {
      throw new IllegalArgumentException("change log bounds must be positive: " + capacity
          + " events, " + maxBytes + " bytes");
    }
    this.capacity = capacity;
    this.maxBytes = maxBytes;
  }

  void append(long index, List<WatchEvent> batch) {
    long added = 0;
    for (WatchEvent e : batch) {
      added += e.getSerializedSize(); // outside the lock: readers need not wait for it
    }
    lock.lock();
    try {
      events.addAll(batch);
      bytes += added;
      applied = Math.max(applied, index);
      // Trim in steps of a quarter of a bound, not per entry: a trim shifts the whole array.
      if (events.size() > capacity + capacity / 4 || bytes > maxBytes + maxBytes / 4) {
        trim(Math.max(events.size() - capacity, countOver(maxBytes)));
      }
      advanced.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** How many of the oldest events must go to bring the bytes down to {@code target}. */
  private int countOver(long target) {
    long drop = bytes - target;
    int n = 0;
    while (drop > 0 && n < events.size()) {
      drop -= events.get(n++).getSerializedSize();
    }
    return n;
  }

  private void trim(int atLeast) {
    int cut = atLeast;
    long lastDropped = events.get(cut - 1).getIndex();
    while (cut < events.size() && events.get(cut).getIndex() == lastDropped) {
      cut++;
    }
    List<WatchEvent> dropped = events.subList(0, cut);
    for (WatchEvent e : dropped) {
      bytes -= e.getSerializedSize();
    }
    dropped.clear();
    floor = Math.max(floor, lastDropped);
  }

  /** Serialized bytes of the retained events (for tests and metrics). */
  long retainedBytes() {
    lock.lock();
    try {
      return bytes;
    } finally {
      lock.unlock();
    }
  }

  /** Forgets everything: the store was replaced (snapshot install) at {@code index}. */
  void reset(long index) {
    lock.lock();
    try {
      events.clear();
      bytes = 0;
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
