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

  public static DispatcherConfig defaults() {
    return new DispatcherConfig(1000, 5, 4000, 10, 8, 10_000);
  }

  public long graceMs() {
    return heartbeatPeriodMs * missedHeartbeats;
  }

  public DispatcherConfig withHeartbeat(long periodMs, int missed) {
    return new DispatcherConfig(periodMs, missed, batchMaxChanges, batchMaxDelayMs, batchMaxInFlight,
        proposeTimeoutMs);
  }
}
