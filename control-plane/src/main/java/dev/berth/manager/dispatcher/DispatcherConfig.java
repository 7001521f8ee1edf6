package dev.berth.manager.dispatcher;

/**
 * Dispatcher tuning.
 *
 * @param heartbeatPeriodMs how often agents heartbeat (sent to them in SessionAccepted)
 * @param missedHeartbeats heartbeats an agent may miss before its node is marked down
 * @param batchMaxChanges status changes that trigger an immediate batch flush
 * @param batchMaxDelayMs longest a status change waits for its batch
 * @param batchMaxInFlight uncommitted status entries at a time
 * @param proposeTimeoutMs how long housekeeping waits for its own proposals
 */
public record DispatcherConfig(long heartbeatPeriodMs, int missedHeartbeats, int batchMaxChanges,
    long batchMaxDelayMs, int batchMaxInFlight, long proposeTimeoutMs) {
  /** Heartbeats an agent may miss by default before its node is marked down. */
  public static final int DEFAULT_MISSED_HEARTBEATS = 5;

  /**
   * A 20 ms status window (was 10): at 10,000 reports/s it halves the entries per second (~45 of
   * ~215 changes instead of ~85 of ~120), and Raft's cost is per entry; on 3 managers sharing 2
   * cores commit p99 per entry fell from 150-200 ms to 43-84 ms, so even with the longer wait in
   * the batcher a report commits sooner (docs/benchmarks.md, "Control plane").
   */
  public static DispatcherConfig defaults() {
    return new DispatcherConfig(1000, DEFAULT_MISSED_HEARTBEATS, 4000, 20, 8, 10_000);
  }

  public long graceMs() {
    return heartbeatPeriodMs * missedHeartbeats;
  }

  public DispatcherConfig withHeartbeat(long periodMs, int missed) {
    return new DispatcherConfig(periodMs, missed, batchMaxChanges, batchMaxDelayMs, batchMaxInFlight,
        proposeTimeoutMs);
  }
}
