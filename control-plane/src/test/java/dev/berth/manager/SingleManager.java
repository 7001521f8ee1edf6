package dev.berth.manager;

import static org.awaitility.Awaitility.await;

import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.CreateService;
import dev.berth.internal.v1.LogEntry;
import dev.berth.manager.dispatcher.DispatcherConfig;
import dev.berth.manager.dispatcher.LeaderWiring;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A real single-manager {@link ManagerServer} (Ratis with roomy timeouts, loopback ports) in the
 * test's JVM with the dispatcher and reconcile loop installed ({@link LeaderWiring}), started and
 * leading: the fixture for tests that talk to one manager over real gRPC (control-plane's and
 * testkit's, through the test-jar).
 *
 * <p>Thread model: the accessors may be called from any thread; {@link #close()} once, by the test.
 * Error contract: {@link #start} closes what it started and rethrows when the manager does not
 * lead with a cluster and join tokens within 60 s.
 */
public final class SingleManager implements AutoCloseable {
  private final ManagerServer server;
  private final LeaderWiring.Installed wiring;

  private SingleManager(ManagerServer server, LeaderWiring.Installed wiring) {
    this.server = server;
    this.wiring = wiring;
  }

  /** Starts a manager with its state in {@code dir} and waits until it leads. */
  public static SingleManager start(Path dir) throws Exception {
    int api = ManagerProcess.freePort();
    ManagerServer server = new ManagerServer(ManagerConfig.defaults(dir, "127.0.0.1", api)
        .withPorts(api, ManagerProcess.freePort(), ManagerProcess.freePort()).withRoomyRaft(true),
        Clock.systemUTC());
    try {
      server.init();
      LeaderWiring.Installed wiring = LeaderWiring.install(server, Clock.systemUTC(),
          DispatcherConfig.defaults(), 30_000);
      server.start();
      await().atMost(Duration.ofSeconds(60)).until(() -> server.proposer() != null
          && server.proposer().isLeader() && server.store().read(v -> v.cluster().isPresent())
          && server.tokens().isPresent());
      return new SingleManager(server, wiring);
    } catch (Exception | Error e) {
      server.close();
      throw e;
    }
  }

  public ManagerServer server() {
    return server;
  }

  /** The leader's dispatcher and reconcile loop. */
  public LeaderWiring.Installed wiring() {
    return wiring;
  }

  /** The public API's and the agents' address, host:port. */
  public String addr() {
    return "127.0.0.1:" + server.apiPort();
  }

  public int metricsPort() {
    return server.metricsPort();
  }

  /** The cluster's current worker join token. */
  public String workerToken() {
    return server.tokens().orElseThrow().tokens(server.store().read(v -> v.cluster().orElseThrow())).getWorker();
  }

  /** The node's state as the replicated store has it ({@code NODE_UNKNOWN} for an unknown id). */
  public NodeState nodeState(String nodeId) {
    return server.store().read(v -> v.node(nodeId).map(n -> n.getStatus().getState())
        .orElse(NodeState.NODE_UNKNOWN));
  }

  /**
   * Creates a service straight through Raft (no API checks) with the given id; returns the apply
   * result's code ("OK" when it was stored).
   */
  public String createService(String id, ServiceSpec spec) throws Exception {
    return server.proposer().propose(LogEntry.newBuilder().setTimestampMs(System.currentTimeMillis())
        .addCommands(Command.newBuilder().setCreateService(CreateService.newBuilder().setId(id).setSpec(spec)))
        .build()).get(30, TimeUnit.SECONDS).getCode();
  }

  @Override
  public void close() {
    server.close();
  }
}
