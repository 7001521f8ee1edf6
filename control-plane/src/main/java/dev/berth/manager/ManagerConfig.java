package dev.berth.manager;

import java.nio.file.Path;
import java.time.Duration;

/**
 * How to run one manager.
 *
 * @param stateDir where the manager keeps its identity, root secret and Raft storage
 * @param listenHost address every listener binds to (never all interfaces unless asked)
 * @param advertiseHost address other managers and clients use to reach this one
 * @param apiPort public gRPC API (ClusterService, ManagerService, extra services); 0 = any free
 * @param raftPort Ratis server port; 0 = any free
 * @param metricsPort Prometheus /metrics HTTP port; 0 = any free, -1 = disabled
 * @param roomyRaft roomier election timeouts for loaded test machines (NOTES.md)
 * @param electionMin election timeout lower bound when not roomy (upper bound is twice it)
 * @param snapshotThreshold log entries between automatic snapshots
 * @param watchProgressMs interval of Watch progress events when nothing changes
 */
public record ManagerConfig(
    Path stateDir,
    String listenHost,
    String advertiseHost,
    int apiPort,
    int raftPort,
    int metricsPort,
    boolean roomyRaft,
    Duration electionMin,
    long snapshotThreshold,
    long watchProgressMs) {

  public static final int DEFAULT_API_PORT = 4700;

  public static ManagerConfig defaults(Path stateDir, String host, int apiPort) {
    return new ManagerConfig(stateDir, host, host, apiPort, apiPort == 0 ? 0 : apiPort + 1,
        apiPort == 0 ? 0 : apiPort + 2, false, Duration.ofMillis(200), 10_000, 2_000);
  }

  public ManagerConfig withPorts(int api, int raft, int metrics) {
    return new ManagerConfig(stateDir, listenHost, advertiseHost, api, raft, metrics, roomyRaft,
        electionMin, snapshotThreshold, watchProgressMs);
  }

  public ManagerConfig withRoomyRaft(boolean roomy) {
    return new ManagerConfig(stateDir, listenHost, advertiseHost, apiPort, raftPort, metricsPort, roomy,
        electionMin, snapshotThreshold, watchProgressMs);
  }

  public ManagerConfig withSnapshotThreshold(long threshold) {
    return new ManagerConfig(stateDir, listenHost, advertiseHost, apiPort, raftPort, metricsPort,
        roomyRaft, electionMin, threshold, watchProgressMs);
  }

  public ManagerConfig withAdvertiseHost(String host) {
    return new ManagerConfig(stateDir, listenHost, host, apiPort, raftPort, metricsPort, roomyRaft,
        electionMin, snapshotThreshold, watchProgressMs);
  }

  public ManagerConfig withElectionMin(Duration min) {
    return new ManagerConfig(stateDir, listenHost, advertiseHost, apiPort, raftPort, metricsPort,
        roomyRaft, min, snapshotThreshold, watchProgressMs);
  }
}
