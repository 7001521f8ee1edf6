package dev.berth.manager;

import dev.berth.manager.image.ImagePinner;
import dev.berth.manager.api.ClusterApi;
import dev.berth.manager.api.JoinTokenKeeper;
import dev.berth.manager.api.ManagerApi;
import dev.berth.manager.api.ManagerMembership;
import dev.berth.manager.api.RaftView;
import dev.berth.manager.api.WatchHandler;
import dev.berth.manager.metrics.ManagerMetrics;
import dev.berth.manager.raft.BerthStateMachine;
import dev.berth.manager.raft.RaftNode;
import dev.berth.manager.raft.RaftSettings;
import dev.berth.manager.raft.SoleSurvivor;
import dev.berth.manager.store.ClusterStore;
import dev.berth.manager.store.Ids;
import dev.berth.manager.store.Proposer;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.LongConsumer;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Berth manager: Raft server + replicated store, the public gRPC API (ClusterService,
 * ManagerService and any extra services added before {@link #start}), and /metrics.
 *
 * <p>Use: {@link #init} (new cluster), {@link #joinFrom} (after a JoinManager answer) or
 * {@link #recover} (existing state dir), then {@link #start}. Components that must run only
 * on the leader (dispatcher, reconcilers) register {@link #onLeaderStart}/{@link #onLeaderStop};
 * those callbacks run on one dedicated thread in order, after the new leader has applied its
 * first entry of the term.
 *
 * <p>Thread model: configure and start from one thread; accessors are thread-safe after
 * start. Error contract: start-up failures throw IOException and leave nothing running.
 */
public final class ManagerServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ManagerServer.class);
  private final ManagerConfig config;
  private final StateDir stateDir;
  private final Clock clock;
  private final ClusterStore store = new ClusterStore();
  private final ManagerMetrics metrics = new ManagerMetrics();
  private final List<BindableService> extraServices = new ArrayList<>();
  private volatile dev.berth.manager.api.AgentStreams agentStreams;
  private ImagePinner imagePinner = ImagePinner.off();
  private final List<LongConsumer> leaderStart = new CopyOnWriteArrayList<>();
  private final List<Runnable> leaderStop = new CopyOnWriteArrayList<>();
  private final ExecutorService watchPool = Executors.newCachedThreadPool(DaemonThreads.named("berth-watch"));
  private StateDir.Identity identity;
  private JoinTokenKeeper tokens;
  private RaftNode raft;
  private Server grpc;
  private int metricsPort = -1;
  private boolean recover;
  private boolean forceNewCluster;
  private List<RaftPeer> initialPeers = List.of();
  private dev.berth.manager.api.UsageSource usage = dev.berth.manager.api.UsageSource.NONE;
  private java.util.function.IntSupplier connectedAgents = () -> 0;

  public ManagerServer(ManagerConfig config, Clock clock) {
    this.config = config;
    this.stateDir = new StateDir(config.stateDir());
    this.clock = clock;
  }

  // ---------------------------------------------------------------- configuration

  /** Adds a gRPC service served on the API port (e.g. the agent dispatcher). Before start. */
  /** Where the public API's logs and exec go (the dispatcher's, installed with it). */
  public ManagerServer agentStreams(dev.berth.manager.api.AgentStreams streams) {
    this.agentStreams = streams;
    return this;
  }

  public ManagerServer addService(BindableService service) {
    extraServices.add(service);
    return this;
  }

  /**
   * How service create/update pins image tags to digests (default: {@link ImagePinner#off()}, so an
   * in-process cluster never reaches for a registry). Before start.
   */
  public ManagerServer resolveImagesWith(ImagePinner pinner) {
    this.imagePinner = pinner;
    return this;
  }

  /**
   * What the leader's agent dispatcher knows outside the log: usage readings (copied into
   * Node.usage and Task.usage by API reads) and how many agents hold a session (the
   * {@code berth_connected_agents} gauge). Before start.
   */
  public ManagerServer agents(dev.berth.manager.api.UsageSource usage, java.util.function.IntSupplier connected) {
    this.usage = usage;
    this.connectedAgents = connected;
    return this;
  }

  /** Called with the term when this manager becomes leader and has caught up. */
  public ManagerServer onLeaderStart(LongConsumer callback) {
    leaderStart.add(callback);
    return this;
  }

  public ManagerServer onLeaderStop(Runnable callback) {
    leaderStop.add(callback);
    return this;
  }

  /** Prepares a brand-new single-manager cluster in an empty state dir. */
  public ManagerServer init() throws IOException {
    if (stateDir.initialized()) {
      throw new IOException("state dir " + stateDir.path() + " already holds a manager; use `run`");
    }
    byte[] secret = new byte[32];
    new SecureRandom().nextBytes(secret);
    stateDir.writeRootSecret(secret);
    String nodeId = Ids.newId();
    identity = new StateDir.Identity(nodeId, UUID.randomUUID().toString(), apiAddr(config.apiPort()),
        raftAddr(config.raftPort()));
    recover = false;
    initialPeers = null; // self only, once the port is known
    return this;
  }

  /** Prepares a manager that a leader has accepted through JoinManager. */
  public ManagerServer joinFrom(String nodeId, String groupId, byte[] rootSecret) throws IOException {
    if (stateDir.initialized()) {
      throw new IOException("state dir " + stateDir.path() + " already holds a manager");
    }
    stateDir.writeRootSecret(rootSecret);
    identity = new StateDir.Identity(nodeId, groupId, apiAddr(config.apiPort()), raftAddr(config.raftPort()));
    recover = false;
    initialPeers = List.of();
    return this;
  }

  /** Restarts from an existing state dir (Raft configuration, snapshot and log). */
  public ManagerServer recover() throws IOException {
    if (!stateDir.initialized()) {
      throw new IOException("state dir " + stateDir.path() + " holds no manager; use `init` or `join`");
    }
    identity = stateDir.identity();
    recover = Files.isDirectory(stateDir.raftDir());
    initialPeers = List.of();
    return this;
  }

  /**
   * Restarts a lone survivor as a one-manager cluster from its state dir: same group id, its
   * own log and snapshots (see {@link SoleSurvivor}); once it leads, the other managers'
   * records are dropped through the log. Only for managers that are gone for good.
   */
  public ManagerServer forceNewCluster() throws IOException {
    recover();
    if (!recover) {
      throw new IOException("state dir " + stateDir.path() + " holds no Raft storage to recover from");
    }
    forceNewCluster = true;
    return this;
  }

  private String apiAddr(int port) {
    return config.advertiseHost() + ":" + port;
  }

  private String raftAddr(int port) {
    return config.advertiseHost() + ":" + port;
  }

  // ---------------------------------------------------------------- lifecycle

  public void start() throws IOException {
    if (identity == null) {
      throw new IllegalStateException("call init(), joinFrom() or recover() first");
    }
    boolean fresh = initialPeers == null;
    try {
      int raftPort = config.raftPort() == 0 ? freePort() : config.raftPort();
      if (!recover) {
        identity = new StateDir.Identity(identity.nodeId(), identity.groupId(), identity.apiAddr(),
            raftAddr(raftPort));
      } else if (config.raftPort() == 0) {
        raftPort = Integer.parseInt(identity.raftAddr().substring(identity.raftAddr().lastIndexOf(':') + 1));
      }
      byte[] secret = stateDir.rootSecret();
      tokens = secret == null ? null : new JoinTokenKeeper(secret);
      RaftSettings settings = RaftSettings.defaults(config.listenHost(), raftPort, stateDir.raftDir())
          .withElection(config.electionMin(), config.electionMin().multipliedBy(2))
          .withSnapshotThreshold(config.snapshotThreshold());
      if (config.roomyRaft()) {
        settings = settings.roomy();
      }
      Files.createDirectories(stateDir.raftDir());
      List<RaftPeer> peers = fresh
          ? List.of(RaftPeer.newBuilder().setId(identity.nodeId()).setAddress(identity.raftAddr()).build())
          : initialPeers;
      RaftGroupId groupId = RaftGroupId.valueOf(UUID.fromString(identity.groupId()));
      if (forceNewCluster) {
        SoleSurvivor.seed(identity.nodeId(), groupId, settings, identity.raftAddr());
      }
      BerthStateMachine sm = new BerthStateMachine(store, metrics.applyNanos(), leaderListener());
      raft = new RaftNode(identity.nodeId(), groupId, peers, settings, sm, recover);
      raft.start();
      startGrpc();
      if (!recover) {
        identity = new StateDir.Identity(identity.nodeId(), identity.groupId(), apiAddr(apiPort()),
            identity.raftAddr());
        stateDir.writeIdentity(identity);
      }
      registerMetrics();
      if (config.metricsPort() >= 0) {
        metricsPort = metrics.serve(config.listenHost(), config.metricsPort());
      }
      ClusterBootstrap seeding = new ClusterBootstrap(raft, store, clock, identity.nodeId());
      if (fresh) {
        seeding.initCluster(identity.apiAddr(), tokens);
      }
      if (forceNewCluster) {
        seeding.dropFormerManagers();
      }
      LOG.info("manager {} serving API on {}, Raft on {}, metrics on {}", identity.nodeId(),
          identity.apiAddr(), identity.raftAddr(), metricsPort);
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
  }

  private static int freePort() throws IOException {
    try (var s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private void startGrpc() throws IOException {
    WatchHandler watches = new WatchHandler(store.changes(), watchPool, config.watchProgressMs());
    RaftView view = view();
    ManagerMembership membership = new ManagerMembership(raft, view, clock);
    ClusterApi api = ClusterApi.builder(store, raft, view, clock, watches)
        .joinTokens(() -> Optional.ofNullable(tokens))
        .membership(membership)
        .agentStreams(() -> Optional.ofNullable(agentStreams))
        .imagePinner(imagePinner)
        .usage(usage)
        .build();
    ManagerApi managerApi = new ManagerApi(store, raft, view, () -> Optional.ofNullable(tokens), clock,
        membership);
    NettyServerBuilder b = NettyServerBuilder
        .forAddress(new InetSocketAddress(config.listenHost(), config.apiPort()))
        // Above the spec limit, so an oversized spec gets the validator's clear error.
        .maxInboundMessageSize(16 << 20)
        .addService(ServerInterceptors.intercept(api, metrics.apiInterceptor()))
        .addService(ServerInterceptors.intercept(managerApi, metrics.apiInterceptor()));
    for (BindableService s : extraServices) {
      b.addService(ServerInterceptors.intercept(s, metrics.apiInterceptor()));
    }
    grpc = b.build().start();
  }

  private void registerMetrics() {
    metrics.storeGauges(store);
    metrics.gauge("berth.raft.role", "0 follower, 1 candidate, 2 leader, 3 other", this, m -> switch (m.raft.role()) {
      case FOLLOWER -> 0;
      case CANDIDATE -> 1;
      case LEADER -> 2;
      default -> 3;
    });
    metrics.gauge("berth.raft.term", "Current Raft term", this, m -> m.raft.term());
    metrics.gauge("berth.raft.commit.index", "Raft commit index", this, m -> m.raft.commitIndex());
    metrics.gauge("berth.raft.applied.index", "Raft applied index", this, m -> m.raft.appliedIndex());
    metrics.connectedAgents(connectedAgents);
  }

  private BerthStateMachine.LeaderListener leaderListener() {
    return new BerthStateMachine.LeaderListener() {
      @Override
      public void onLeaderStart(long term) {
        LOG.info("manager {} leads term {}", identity.nodeId(), term);
        for (LongConsumer c : leaderStart) {
          try {
            c.accept(term);
          } catch (RuntimeException e) {
            LOG.error("onLeaderStart callback failed", e);
          }
        }
      }

      @Override
      public void onLeaderStop() {
        LOG.info("manager {} stopped leading", identity.nodeId());
        for (Runnable r : leaderStop) {
          try {
            r.run();
          } catch (RuntimeException e) {
            LOG.error("onLeaderStop callback failed", e);
          }
        }
      }
    };
  }

  @Override
  public void close() {
    if (grpc != null) {
      grpc.shutdownNow();
    }
    watchPool.shutdownNow();
    if (raft != null) {
      try {
        raft.close();
      } catch (IOException e) {
        LOG.warn("closing Raft server", e);
      }
    }
    metrics.close();
  }

  // ---------------------------------------------------------------- accessors

  public ClusterStore store() {
    return store;
  }

  public Proposer proposer() {
    return raft;
  }

  public RaftNode raft() {
    return raft;
  }

  public ManagerMetrics metrics() {
    return metrics;
  }

  public String nodeId() {
    return identity.nodeId();
  }

  public StateDir.Identity identity() {
    return identity;
  }

  public int apiPort() {
    return grpc.getPort();
  }

  public int raftPort() {
    return Integer.parseInt(identity.raftAddr().substring(identity.raftAddr().lastIndexOf(':') + 1));
  }

  public int metricsPort() {
    return metricsPort;
  }

  public Optional<JoinTokenKeeper> tokens() {
    return Optional.ofNullable(tokens);
  }

  /** Public API address of the current leader, or empty when unknown. */
  public String leaderAddr() {
    return view().leaderAddr();
  }

  private RaftView view() {
    return new RaftNodeView(raft, store, () -> identity);
  }

  /** Exposed for the manager command: how long to wait for a joined manager to catch up. */
  static final Duration JOIN_TIMEOUT = Duration.ofSeconds(120);
}
