package dev.berth.manager.raft;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How one manager's Raft server runs.
 *
 * @param electionMin lower bound of the randomized election timeout; tests on shared
 *     2-core machines use roomier values (NOTES.md: JIT/GC pauses cause spurious elections)
 * @param requestTimeout the servers' own RPC timeout (append entries, ReadIndex)
 * @param clientAttemptTimeout how long the manager's Raft client waits for one attempt before
 *     retrying on another server: a request sent to a leader that just died waits this long
 *     (its stream is not failed at once), so it bounds failover for writes in flight
 * @param snapshotThreshold entries after which a snapshot is taken automatically (then the
 *     log is purged up to it)
 * @param firstElectionMin lower bound of the election timeout before this server has known
 *     any leader since it started (Ratis' {@code first-election.timeout}); max is twice it
 */
public record RaftSettings(
    String host,
    int port,
    Path storageDir,
    Duration electionMin,
    Duration electionMax,
    Duration requestTimeout,
    Duration clientAttemptTimeout,
    long snapshotThreshold,
    Duration firstElectionMin) {

  /** Production defaults: fail over within about a second. */
  public static RaftSettings defaults(String host, int port, Path storageDir) {
    return new RaftSettings(host, port, storageDir, Duration.ofMillis(200), Duration.ofMillis(400),
        Duration.ofSeconds(3), Duration.ofMillis(1000), 10_000, Duration.ofMillis(200));
  }

  /** Roomier timeouts for tests on loaded machines. */
  public RaftSettings roomy() {
    return new RaftSettings(host, port, storageDir, Duration.ofMillis(1000), Duration.ofMillis(2000),
        Duration.ofSeconds(5), Duration.ofSeconds(3), snapshotThreshold, Duration.ofMillis(1000));
  }

  public RaftSettings withSnapshotThreshold(long threshold) {
    return new RaftSettings(host, port, storageDir, electionMin, electionMax, requestTimeout,
        clientAttemptTimeout, threshold, firstElectionMin);
  }

  /** Sets the election timeout, the first one after start included. */
  public RaftSettings withElection(Duration min, Duration max) {
    return new RaftSettings(host, port, storageDir, min, max, requestTimeout, clientAttemptTimeout,
        snapshotThreshold, min);
  }

  public RaftSettings withFirstElection(Duration min) {
    return new RaftSettings(host, port, storageDir, electionMin, electionMax, requestTimeout,
        clientAttemptTimeout, snapshotThreshold, min);
  }
}
