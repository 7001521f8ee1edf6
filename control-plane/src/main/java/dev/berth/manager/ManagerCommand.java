package dev.berth.manager;

import dev.berth.api.v1.ClusterServiceGrpc;
import dev.berth.api.v1.GetClusterRequest;
import dev.berth.api.v1.GetClusterResponse;
import dev.berth.api.v1.GetJoinTokensRequest;
import dev.berth.api.v1.JoinManagerRequest;
import dev.berth.api.v1.JoinManagerResponse;
import dev.berth.api.v1.JoinTokens;
import dev.berth.api.v1.LeaveManagerRequest;
import dev.berth.api.v1.ManagerServiceGrpc;
import dev.berth.api.v1.ReadConsistency;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import dev.berth.manager.image.ImagePinner;
import dev.berth.manager.dispatcher.DispatcherConfig;
import dev.berth.manager.dispatcher.LeaderWiring;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code berth manager}: run a manager process. Subcommands {@code init}, {@code join},
 * {@code run} block until the process is stopped (SIGTERM / Ctrl-C); {@code leave} returns.
 * Each manager uses one API port (default 4700), a Raft port (API port + 1) and a metrics
 * port (API port + 2) unless told otherwise.
 *
 * <p>Exit codes: 0 ok, 1 bad usage or refused, 2 cluster unavailable.
 */
@Command(name = "manager", mixinStandardHelpOptions = true,
    description = "Run or manage a Berth manager (Raft-replicated control plane).",
    subcommands = {ManagerCommand.Init.class, ManagerCommand.Join.class, ManagerCommand.Run.class,
        ManagerCommand.Leave.class})
public final class ManagerCommand {

  /** Options shared by the commands that start a manager. */
  static class ServeOptions {
    @Option(names = "--state-dir", defaultValue = "/var/lib/berth/manager",
        description = "State directory (identity, root secret, Raft log and snapshots). Default: ${DEFAULT-VALUE}")
    Path stateDir;

    @Option(names = "--listen-addr", defaultValue = "127.0.0.1:4700",
        description = "host:port the API binds to. Default: ${DEFAULT-VALUE}")
    String listenAddr;

    @Option(names = "--advertise-addr",
        description = "host:port others reach this manager's API at (default: the listen address)")
    String advertiseAddr;

    @Option(names = "--raft-port", defaultValue = "-1", description = "Raft port (default: API port + 1)")
    int raftPort;

    @Option(names = "--metrics-port", defaultValue = "-2",
        description = "Prometheus /metrics port (default: API port + 2; -1 disables)")
    int metricsPort;

    @Option(names = "--roomy-raft", description = "Roomier Raft timeouts for loaded test machines")
    boolean roomy;

    // 200 ms (was 300): failover measured 920 vs 942 ms median, 8 vs 6 of 10 runs under 1 s, and no
    // leader change in an idle 3-manager cluster or under 10,000 status updates/s once the
    // reconcile scans and GC pauses were fixed (docs/benchmarks.md, "Control plane").
    @Option(names = "--election-timeout-ms", defaultValue = "200",
        description = "Minimum Raft election timeout (max is twice it). Default: ${DEFAULT-VALUE}")
    long electionMs;

    @Option(names = "--snapshot-threshold", defaultValue = "10000",
        description = "Log entries between automatic snapshots. Default: ${DEFAULT-VALUE}")
    long snapshotThreshold;

    // As `docker swarm init --dispatcher-heartbeat`, in ms like the other timing flags here.
    @Option(names = "--dispatcher-heartbeat-ms", defaultValue = "1000",
        description = "How often agents heartbeat; a node whose agent misses "
            + DispatcherConfig.DEFAULT_MISSED_HEARTBEATS + " in a row is marked down. Default: ${DEFAULT-VALUE}")
    long heartbeatMs;

    @Option(names = "--insecure-registry", paramLabel = "HOST[:PORT]",
        description = "Registry spoken to over plain HTTP when pinning image tags to digests (repeatable;"
            + " loopback addresses always are)")
    java.util.List<String> insecureRegistries = new java.util.ArrayList<>();

    /** A manager with these options that pins images at service create and runs the leader's services. */
    ManagerServer newServer() {
      DispatcherConfig dispatcher = dispatcher(); // a bad flag fails before anything starts
      return withLeaderServices(new ManagerServer(config(), Clock.systemUTC())
          .resolveImagesWith(ImagePinner.using(java.util.Set.copyOf(insecureRegistries), Clock.systemUTC())),
          dispatcher);
    }

    DispatcherConfig dispatcher() {
      if (heartbeatMs < 1) {
        throw new CommandLine.ParameterException(new CommandLine(new ManagerCommand()),
            "--dispatcher-heartbeat-ms must be at least 1 (was " + heartbeatMs + ")");
      }
      return DispatcherConfig.defaults().withHeartbeat(heartbeatMs, DispatcherConfig.DEFAULT_MISSED_HEARTBEATS);
    }

    ManagerConfig config() {
      String host = hostOf(listenAddr);
      int api = portOf(listenAddr);
      String adv = advertiseAddr == null ? host : hostOf(advertiseAddr);
      int raft = raftPort >= 0 ? raftPort : (api == 0 ? 0 : api + 1);
      int metrics = metricsPort >= -1 ? metricsPort : (api == 0 ? 0 : api + 2);
      return ManagerConfig.defaults(stateDir, host, api).withAdvertiseHost(adv)
          .withPorts(api, raft, metrics).withRoomyRaft(roomy)
          .withElectionMin(Duration.ofMillis(electionMs)).withSnapshotThreshold(snapshotThreshold);
    }
  }

  static String hostOf(String addr) {
    int c = addr.lastIndexOf(':');
    if (c <= 0) {
      throw new CommandLine.ParameterException(new CommandLine(new ManagerCommand()),
          "address \"" + addr + "\" must be host:port");
    }
    return addr.substring(0, c);
  }

  static int portOf(String addr) {
    try {
      return Integer.parseInt(addr.substring(addr.lastIndexOf(':') + 1));
    } catch (NumberFormatException e) {
      throw new CommandLine.ParameterException(new CommandLine(new ManagerCommand()),
          "address \"" + addr + "\" must end in a port number");
    }
  }

  static ManagedChannel channel(String addr) {
    return NettyChannelBuilder.forTarget(addr).usePlaintext().build();
  }

  /** Starts the server, prints a ready line, then waits for shutdown. */
  /**
   * Adds what only the leader runs (agent dispatcher, reconcilers); a node that stays down
   * for 30 s has its tasks orphaned and replaced.
   */
  static ManagerServer withLeaderServices(ManagerServer server, DispatcherConfig dispatcher) {
    LeaderWiring.install(server, Clock.systemUTC(), dispatcher, 30_000);
    return server;
  }

  static int serve(ManagerServer server) throws Exception {
    server.start();
    return await(server);
  }

  static int await(ManagerServer server) throws Exception {
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      server.close();
      stopped.countDown();
    }, "berth-shutdown"));
    System.out.println("BERTH-MANAGER-READY node=" + server.nodeId() + " api=" + server.identity().apiAddr()
        + " raft=" + server.identity().raftAddr() + " metrics=" + server.metricsPort());
    System.out.flush();
    stopped.await();
    return 0;
  }

  @Command(name = "init", description = "Start a new cluster with this manager as its only member.")
  static final class Init implements Callable<Integer> {
    @CommandLine.Mixin ServeOptions opts;

    @Option(names = "--force-new-cluster",
        description = "Recover a lone survivor whose fellow managers are gone for good: restart it from this "
            + "state dir (its log and snapshots) as the only member of its Raft group")
    boolean forceNewCluster;

    @Override
    public Integer call() throws Exception {
      ManagerServer server = opts.newServer();
      if (forceNewCluster) {
        server.forceNewCluster().start();
        System.out.println("Forced a new one-manager cluster from " + opts.stateDir + "; this manager: "
            + server.nodeId() + ". Other managers are no longer members; add new ones with `berth manager join`.");
        return await(server);
      }
      server.init();
      server.start();
      JoinTokens t = server.tokens().orElseThrow().tokens(server.store().read(v -> v.cluster()).orElseThrow());
      System.out.println("Cluster initialized. This manager: " + server.nodeId());
      System.out.println("To add a worker:  berth agent --join " + server.identity().apiAddr() + " --token " + t.getWorker());
      System.out.println("To add a manager: berth manager join --token " + t.getManager() + " " + server.identity().apiAddr());
      return await(server);
    }
  }

  @Command(name = "join", description = "Join an existing cluster as a manager.")
  static final class Join implements Callable<Integer> {
    @CommandLine.Mixin ServeOptions opts;

    @Option(names = "--token", required = true, description = "Manager join token")
    String token;

    @Parameters(paramLabel = "MANAGER_ADDR", arity = "1..*", description = "API address of a current manager")
    java.util.List<String> managers;

    @Override
    public Integer call() throws Exception {
      ManagerConfig cfg = opts.config();
      if (cfg.apiPort() == 0 || cfg.raftPort() == 0) {
        System.err.println("error: --listen-addr and --raft-port need fixed ports to join");
        return 1;
      }
      StatusRuntimeException last = null;
      for (String m : managers) {
        ManagedChannel ch = channel(m);
        try {
          JoinManagerResponse r = ManagerServiceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS)
              .joinManager(JoinManagerRequest.newBuilder().setToken(token)
                  .setAddr(cfg.advertiseHost() + ":" + cfg.apiPort())
                  .setRaftAddr(cfg.advertiseHost() + ":" + cfg.raftPort()).build());
          ManagerServer server = opts.newServer()
              .joinFrom(r.getNodeId(), r.getGroupId(), r.getRootSecret().toByteArray());
          return serve(server);
        } catch (StatusRuntimeException e) {
          last = e;
          System.err.println("join via " + m + " failed: " + e.getStatus());
        } finally {
          ch.shutdownNow();
        }
      }
      return last != null && last.getStatus().getCode() == io.grpc.Status.Code.UNAVAILABLE ? 2 : 1;
    }
  }

  @Command(name = "run", description = "Restart a manager from its existing state dir.")
  static final class Run implements Callable<Integer> {
    @CommandLine.Mixin ServeOptions opts;

    @Override
    public Integer call() throws Exception {
      return serve(opts.newServer().recover());
    }
  }

  @Command(name = "leave", description = "Remove this manager from the Raft group.")
  static final class Leave implements Callable<Integer> {
    @Option(names = "--state-dir", defaultValue = "/var/lib/berth/manager")
    Path stateDir;

    @Option(names = "--force", description = "Leave even if the remaining managers lose quorum")
    boolean force;

    @Override
    public Integer call() throws Exception {
      StateDir.Identity id = new StateDir(stateDir).identity();
      ManagedChannel self = channel(id.apiAddr());
      String leader;
      try {
        GetClusterResponse c = ClusterServiceGrpc.newBlockingStub(self).withDeadlineAfter(10, TimeUnit.SECONDS)
            .getCluster(GetClusterRequest.newBuilder().setConsistency(ReadConsistency.STALE).build());
        leader = c.getLeaderAddr().isEmpty() ? id.apiAddr() : c.getLeaderAddr();
      } catch (StatusRuntimeException e) {
        System.err.println("error: cannot reach this manager at " + id.apiAddr() + ": " + e.getStatus());
        return 2;
      } finally {
        self.shutdownNow();
      }
      ManagedChannel ch = channel(leader);
      try {
        var r = ManagerServiceGrpc.newBlockingStub(ch).withDeadlineAfter(60, TimeUnit.SECONDS)
            .leaveManager(LeaveManagerRequest.newBuilder().setNodeId(id.nodeId()).setForce(force).build());
        System.out.println("left; remaining managers: " + r.getPeersCount());
        return 0;
      } catch (StatusRuntimeException e) {
        System.err.println("error: " + e.getStatus().getDescription());
        return e.getStatus().getCode() == io.grpc.Status.Code.UNAVAILABLE ? 2 : 1;
      } finally {
        ch.shutdownNow();
      }
    }
  }

  /** Prints the join tokens of a running cluster (used by tests and scripts). */
  static JoinTokens tokens(String addr) {
    ManagedChannel ch = channel(addr);
    try {
      return ClusterServiceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
          .getJoinTokens(GetJoinTokensRequest.getDefaultInstance());
    } finally {
      ch.shutdownNow();
    }
  }
}
