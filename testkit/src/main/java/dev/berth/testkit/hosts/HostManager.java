package dev.berth.testkit.hosts;

import dev.berth.api.v1.ClusterServiceGrpc;
import dev.berth.api.v1.GetClusterRequest;
import dev.berth.api.v1.GetClusterResponse;
import dev.berth.api.v1.ReadConsistency;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A {@code berth manager} process in its own test host, listening on the host's underlay address
 * (API port, Raft port + 1, no metrics port).
 *
 * <p>Thread model: start/kill from the test thread; {@link #api} stubs are thread-safe. Errors: as
 * {@link HostJvm}.
 */
public final class HostManager {
  private final String namespace;
  private final String ip;
  private final int port;
  private final Path stateDir;
  private final HostJvm jvm;
  private ManagedChannel channel;

  HostManager(String namespace, String ip, int port, Path stateDir) {
    this.namespace = namespace;
    this.ip = ip;
    this.port = port;
    this.stateDir = stateDir;
    this.jvm = new HostJvm(namespace, "dev.berth.manager.ManagerMain", Path.of(stateDir + ".log"));
  }

  /** Starts {@code berth manager <command> ...} and waits for its ready line. */
  public void start(String command, String... extra) throws IOException {
    List<String> args = new ArrayList<>(List.of(command, "--state-dir", stateDir.toString(),
        "--listen-addr", addr(), "--raft-port", String.valueOf(port + 1), "--metrics-port", "-1", "--roomy-raft"));
    args.addAll(List.of(extra));
    jvm.start(args, "BERTH-MANAGER-READY", 120);
  }

  /** Restarts a stopped manager from its state dir ({@code berth manager run}). */
  public void restart() throws IOException {
    start("run");
  }

  public String addr() {
    return ip + ":" + port;
  }

  public String ip() {
    return ip;
  }

  public String namespace() {
    return namespace;
  }

  public boolean alive() {
    return jvm.alive();
  }

  public Path log() {
    return jvm.log();
  }

  /** A client with a 30 s deadline. */
  public synchronized ClusterServiceGrpc.ClusterServiceBlockingStub api() {
    if (channel == null) {
      channel = NettyChannelBuilder.forTarget(addr()).usePlaintext().build();
    }
    return ClusterServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  /** This manager's own (stale) view of the cluster, or empty when it does not answer within 5 s. */
  public Optional<GetClusterResponse> cluster() {
    try {
      return Optional.of(api().withDeadlineAfter(5, TimeUnit.SECONDS)
          .getCluster(GetClusterRequest.newBuilder().setConsistency(ReadConsistency.STALE).build()));
    } catch (StatusRuntimeException e) {
      return Optional.empty();
    }
  }

  /** kill -9. */
  public synchronized void kill() {
    jvm.kill();
    if (channel != null) {
      channel.shutdownNow();
      channel = null;
    }
  }
}
