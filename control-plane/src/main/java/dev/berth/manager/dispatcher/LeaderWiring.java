package dev.berth.manager.dispatcher;

import dev.berth.api.v1.Node;
import dev.berth.internal.v1.ApplyResult;
import dev.berth.internal.v1.LogEntry;
import dev.berth.manager.ManagerServer;
import dev.berth.manager.orchestrator.IdGenerator;
import dev.berth.manager.orchestrator.ClusterViewFeed;
import dev.berth.manager.orchestrator.ReconcileLoop;
import dev.berth.manager.store.Proposer;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Installs the leader-only services on a {@link ManagerServer}: the agent dispatcher served on
 * the API port, and the reconcile loop; both follow the server's leader-start/stop callbacks.
 *
 * <p>Thread model: call once, before {@link ManagerServer#start()}.
 */
public final class LeaderWiring {
  private LeaderWiring() {}

  /** What was installed, for metrics and API reads (heartbeat usage, connected agents). */
  public record Installed(AgentDispatcher dispatcher, ReconcileLoop loop) {}

  public static Installed install(ManagerServer server, Clock clock,
      DispatcherConfig config, long orphanAfterMs) {
    IdGenerator ids = IdGenerator.random();
    // The server creates its Raft node in start(); resolve it when first used.
    Proposer proposer = new Proposer() {
      @Override
      public CompletableFuture<ApplyResult> propose(LogEntry entry) {
        Proposer raft = server.proposer();
        return raft == null
            ? CompletableFuture.failedFuture(new IllegalStateException("manager not started"))
            : raft.propose(entry);
      }

      @Override
      public boolean isLeader() {
        Proposer raft = server.proposer();
        return raft != null && raft.isLeader();
      }
    };
    Membership membership = Membership.of(
        () -> server.identity() == null ? "" : server.identity().apiAddr(),
        () -> Optional.ofNullable(server.leaderAddr()).filter(a -> !a.isEmpty()),
        () -> server.store().read(v -> v.nodes().stream().filter(Node::hasManagerStatus)
            .map(n -> n.getManagerStatus().getAddr()).filter(a -> !a.isEmpty()).sorted().toList()));
    AgentDispatcher dispatcher = new AgentDispatcher(server.store(), proposer, membership, clock, ids, config);
    ClusterViewFeed feed = new ClusterViewFeed();
    ReconcileLoop loop = new ReconcileLoop(server.store(), proposer, clock, feed,
        ReconcileLoop.standard(ids, feed, orphanAfterMs),
        Duration.ofMillis(500), Duration.ofMillis(5), Duration.ofSeconds(10));
    server.addService(dispatcher)
        .agentStreams(dispatcher.streams())
        .agents(dispatcher.usage(), dispatcher::connectedAgents)
        .onLeaderStart(term -> {
          dispatcher.onLeaderStart();
          loop.start();
        })
        .onLeaderStop(() -> {
          loop.stop();
          dispatcher.onLeaderStop();
        });
    return new Installed(dispatcher, loop);
  }
}
