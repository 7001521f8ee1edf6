package dev.berth.manager.orchestrator;

import java.time.Duration;

/**
 * How long a triggered reconcile round waits: the debounce, or longer after an expensive round,
 * so that the reconcilers' scans take at most about {@code 1 / (1 + idleFactor)} of one core.
 *
 * <p>Why: every applied entry triggers a round, and each reconciler scans its part of the store
 * (once under the store's read lock, now on a copy of it). With 50,000 tasks and a batched status
 * load (25 entries/s) rounds ran back to back and took most of the leader's CPU
 * (docs/benchmarks.md, "Control plane"). Only the time spent planning counts, not the
 * wait for a round's proposals to commit, so a small cluster reacts within the debounce as
 * before.
 *
 * <p>Thread model: confined to the reconcile thread (the loop's scheduling calls come from the
 * apply thread, which only reads the delay: the fields are volatile).
 */
final class RoundPacer {
  private final long debounceNanos;
  private final long idleFactor;
  /** When the next round may start (System.nanoTime scale); 0 before any round. */
  private volatile long notBefore;

  RoundPacer(Duration debounce, int idleFactor) {
    if (idleFactor < 0) {
      throw new IllegalArgumentException("idle factor must be >= 0: " + idleFactor);
    }
    this.debounceNanos = debounce.toNanos();
    this.idleFactor = idleFactor;
  }

  /** A round that spent {@code busyNanos} reading the store ended at {@code endNanos}. */
  void roundEnded(long endNanos, long busyNanos) {
    notBefore = endNanos + idleFactor * busyNanos;
  }

  /** Delay for a round triggered at {@code nowNanos}: never below the debounce. */
  long delayNanos(long nowNanos) {
    return Math.max(debounceNanos, notBefore - nowNanos);
  }
}
