package dev.berth.manager.raft;

import dev.berth.manager.DaemonThreads;
import java.io.IOException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides where {@link BerthStateMachine#takeSnapshot} writes a snapshot: automatic snapshots
 * are captured on Ratis' apply thread (under the store's read lock, a few ms) and serialized,
 * written and checksummed on a background thread; an explicit request (fewer than the
 * auto-trigger threshold entries since the last durable snapshot) is written before returning.
 *
 * <p>Why: Ratis calls {@code takeSnapshot} on its state-machine updater thread, which applies
 * nothing meanwhile. Writing a 50,000-task store (5 MB) took 0.6-1.1 s there on the benchmark
 * host, and every entry committed in that time waited for it: the slowest entries of the
 * batched status load (docs/benchmarks.md, "Control plane"). Ratis allows it: {@code
 * takeSnapshot} returns the newest index a durable snapshot covers, and asks again after the
 * next applied entries while the gap stays over the threshold; until the background write is
 * done it gets the previous durable index (log purge waits that much longer), then the new one.
 *
 * <p>Thread model: {@link #take} is called by the one updater thread; the write runs on this
 * writer's own daemon thread. Error contract: a failed background write is logged and the next
 * trigger tries again (the previous snapshot and the log stay as they were); a failed
 * foreground write throws.
 */
final class SnapshotWriter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SnapshotWriter.class);

  /** What the state machine provides: its durable index, a capture, and the write of one. */
  interface Target<C> {
    /** Index of the newest snapshot on disk, -1 if none. */
    long durableIndex();

    /** Captures the state to write (on the caller's thread); null if there is nothing yet. */
    C capture();

    /** Log index the capture covers. */
    long index(C capture);

    /** Serializes and writes a capture, making it the newest durable snapshot. */
    void write(C capture) throws IOException;
  }

  private final ExecutorService writer =
      Executors.newSingleThreadExecutor(DaemonThreads.named("berth-snapshot-writer"));
  private final long threshold;
  private Future<?> writing;
  private long reported = -1;

  /** @param threshold Ratis' auto-trigger threshold (entries since the last snapshot) */
  SnapshotWriter(long threshold) {
    this.threshold = threshold;
  }

  /** Returns the index of the newest durable snapshot, as Ratis' takeSnapshot does. */
  <C> long take(Target<C> target, long appliedIndex) throws IOException {
    long durable = target.durableIndex();
    if (writing != null && !writing.isDone()) {
      return durable;
    }
    if (durable > reported) { // a background write finished since the last call
      reported = durable;
      return durable;
    }
    C capture = target.capture();
    if (capture == null) {
      return durable;
    }
    if (appliedIndex - durable < threshold) { // asked for explicitly: the caller waits for it
      target.write(capture);
      reported = target.index(capture);
      return reported;
    }
    writing = writer.submit(() -> {
      try {
        target.write(capture);
      } catch (IOException | RuntimeException e) {
        LOG.warn("snapshot at index {} failed; the next trigger retries", target.index(capture), e);
      }
    });
    return durable;
  }

  /** Lets a running write finish (its file is renamed into place only once complete). */
  @Override
  public void close() {
    writer.shutdown();
    try {
      writer.awaitTermination(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
