package dev.berth.testkit;

import dev.berth.api.v1.Cluster;
import dev.berth.api.v1.Meta;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.internal.v1.ApplyResult;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.CreateService;
import dev.berth.internal.v1.InitCluster;
import dev.berth.internal.v1.LogEntry;
import dev.berth.internal.v1.UpdateService;
import dev.berth.api.v1.ManagerInfo;
import dev.berth.manager.api.ClusterApi;
import dev.berth.manager.api.RaftView;
import dev.berth.manager.api.WatchHandler;
import dev.berth.manager.dispatcher.AgentDispatcher;
import dev.berth.manager.dispatcher.DispatcherConfig;
import dev.berth.manager.dispatcher.JoinTokens;
import dev.berth.manager.dispatcher.Membership;
import dev.berth.manager.orchestrator.IdGenerator;
import dev.berth.manager.orchestrator.ReconcileLoop;
import dev.berth.manager.orchestrator.ClusterViewFeed;
import dev.berth.manager.store.ClusterStore;
import io.grpc.Server;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * An in-process cluster for tests: several managers, each with the real {@link AgentDispatcher}
 * and public {@link ClusterApi} served over in-process gRPC ({@code inproc:NAME}) and the real
 * {@link ReconcileLoop}, sharing
 * one {@link LocalLog} instead of Raft. {@link #electLeader} moves leadership and calls the
 * same leader-stop/start callbacks the manager process does, so agents see redirects and
 * reconnects exactly as with a real leader change.
 *
 * <p>Thread model: thread-safe for the calls tests make; close it to stop every thread.
 */
public final class LocalCluster implements AutoCloseable {
  public static final String WORKER_SECRET = "testworkersecret";

  /** One manager's parts. */
  public record Manager(String name, String address, AgentDispatcher dispatcher, ReconcileLoop loop, Server server) {}

  private final LocalLog log = new LocalLog();
  private final Map<String, Manager> managers = new LinkedHashMap<>();
  private final Clock clock;
  private final IdGenerator ids = IdGenerator.random();
  private final ExecutorService watchPool = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "local-cluster-watch");
    t.setDaemon(true);
    return t;
  });

  /** Raft as the public API sees it: the shared log is always caught up; the leader is the elected one. */
  private final class LocalRaftView implements RaftView {
    private final String self;

    LocalRaftView(String self) {
      this.self = self;
    }

    @Override
    public CompletableFuture<Long> readBarrier() {
      return CompletableFuture.completedFuture(log.store().read(v -> v.index()));
    }

    @Override
    public String selfId() {
      return self;
    }

    @Override
    public String leaderAddr() {
      return log.leader().isEmpty() ? "" : Channels.IN_PROCESS + log.leader();
    }

    @Override
    public long term() {
      return 0;
    }

    @Override
    public long commitIndex() {
      return readBarrier().join();
    }

    @Override
    public long appliedIndex() {
      return readBarrier().join();
    }

    @Override
    public List<ManagerInfo> managers() {
      return List.of();
    }
  }

  /**
   * @param orphanAfterMs how long a node stays down before its tasks are moved
   * @param names manager names; agents reach them at {@code inproc:NAME}
   */
  public LocalCluster(Clock clock, DispatcherConfig config, long orphanAfterMs, String... names) {
    this.clock = clock;
    List<String> addresses = new ArrayList<>();
    for (String name : names) {
      addresses.add(Channels.IN_PROCESS + name);
    }
    for (String name : names) {
      String self = Channels.IN_PROCESS + name;
      Membership membership = Membership.of(() -> self, () -> {
        String leader = log.leader();
        return leader.isEmpty() ? Optional.empty() : Optional.of(Channels.IN_PROCESS + leader);
      }, () -> addresses);
      AgentDispatcher dispatcher = new AgentDispatcher(log.store(), log.proposer(name), membership,
          clock, ids, config);
      ClusterViewFeed feed = new ClusterViewFeed();
      ReconcileLoop loop = new ReconcileLoop(log.store(), log.proposer(name), clock, feed,
          ReconcileLoop.standard(ids, feed, orphanAfterMs),
          Duration.ofMillis(200), Duration.ofMillis(5), Duration.ofSeconds(10));
      try {
        // the public API too, for the calls that need the leader's agent sessions (logs, exec)
        ClusterApi api = ClusterApi.builder(log.store(), log.proposer(name), new LocalRaftView(name), clock,
                new WatchHandler(log.store().changes(), watchPool, 1000))
            .agentStreams(() -> Optional.of(dispatcher.streams()))
            .build();
        Server server = InProcessServerBuilder.forName(name).addService(dispatcher).addService(api).build().start();
        managers.put(name, new Manager(name, self, dispatcher, loop, server));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  public ClusterStore store() {
    return log.store();
  }

  public Manager manager(String name) {
    return managers.get(name);
  }

  public List<String> addresses() {
    return managers.values().stream().map(Manager::address).toList();
  }

  public String workerToken() {
    return "BERTH-1-placeholder-" + WORKER_SECRET;
  }

  /** Moves leadership to {@code name}: the old leader's callbacks stop, the new one's start. */
  public synchronized void electLeader(String name) {
    Manager old = managers.get(log.leader());
    log.setLeader(name);
    if (old != null) {
      old.loop().stop();
      old.dispatcher().onLeaderStop(); // its agents get a Redirect to the new leader
    }
    Manager now = managers.get(name);
    now.dispatcher().onLeaderStart();
    now.loop().start();
  }

  public ApplyResult propose(Command... commands) {
    LogEntry entry = LogEntry.newBuilder().setTimestampMs(clock.millis()).addAllCommands(List.of(commands)).build();
    try {
      return log.proposer("client").propose(entry).get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("proposal failed", e);
    }
  }

  public ApplyResult init() {
    return propose(Command.newBuilder().setInitCluster(InitCluster.newBuilder().setCluster(Cluster.newBuilder()
        .setMeta(Meta.newBuilder().setId(ids.next())).setName("test")
        .setWorkerTokenHash(JoinTokens.sha256(WORKER_SECRET))
        .setManagerTokenHash(JoinTokens.sha256("testmanagersecret")))).build());
  }

  /** Creates a service; returns its id. */
  public String createService(ServiceSpec spec) {
    String id = ids.next();
    ApplyResult result = propose(Command.newBuilder().setCreateService(
        CreateService.newBuilder().setId(id).setSpec(spec)).build());
    if (!"OK".equals(result.getCode())) {
      throw new IllegalArgumentException(result.getCode() + ": " + result.getMessage());
    }
    return id;
  }

  public ApplyResult updateService(String id, ServiceSpec spec) {
    return propose(Command.newBuilder().setUpdateService(UpdateService.newBuilder().setId(id).setSpec(spec)).build());
  }

  @Override
  public void close() {
    for (Manager m : managers.values()) {
      m.loop().stop();
      m.dispatcher().close();
      m.server().shutdownNow();
    }
    log.close();
    watchPool.shutdownNow();
  }
}
