package dev.berth.testkit.bench;

import dev.berth.manager.dispatcher.AgentDispatcher;
import dev.berth.manager.dispatcher.DispatcherConfig;
import dev.berth.manager.dispatcher.Membership;
import dev.berth.manager.orchestrator.IdGenerator;
import dev.berth.manager.orchestrator.ReconcileLoop;
import dev.berth.manager.orchestrator.ClusterViewFeed;
import dev.berth.manager.raft.BerthStateMachine;
import dev.berth.manager.raft.RaftNode;
import dev.berth.manager.raft.RaftSettings;
import dev.berth.manager.store.ClusterStore;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;

/**
 * Real managers for the end-to-end benchmark: three Ratis servers (gRPC on loopback, own storage
 * dirs) in this JVM, each with its store, an {@link AgentDispatcher} served by Netty on its own
 * port, and a {@link ReconcileLoop} started and stopped by the state machine's leader callbacks —
 * the same wiring the manager process uses, minus the public API.
 *
 * <p>Thread model: build, use from one thread, close.
 */
final class RaftManagers implements AutoCloseable {
  record Manager(String id, String agentAddress, RaftNode raft, AgentDispatcher dispatcher,
      ReconcileLoop loop, Server server) {}

  final List<Manager> managers = new ArrayList<>();

  RaftManagers(int count, Path dir, DispatcherConfig config) throws IOException {
    Clock clock = Clock.systemUTC();
    IdGenerator ids = IdGenerator.random();
    RaftGroupId group = RaftGroupId.valueOf(UUID.randomUUID());
    List<RaftPeer> peers = new ArrayList<>();
    List<String> agentAddresses = new ArrayList<>();
    int[] raftPorts = new int[count];
    int[] agentPorts = new int[count];
    for (int i = 0; i < count; i++) {
      raftPorts[i] = freePort();
      agentPorts[i] = freePort();
      peers.add(RaftPeer.newBuilder().setId("m" + i).setAddress("127.0.0.1:" + raftPorts[i]).build());
      agentAddresses.add("127.0.0.1:" + agentPorts[i]);
    }
    for (int i = 0; i < count; i++) {
      String self = agentAddresses.get(i);
      AtomicReference<RaftNode> raftRef = new AtomicReference<>();
      AtomicReference<AgentDispatcher> dispatcherRef = new AtomicReference<>();
      AtomicReference<ReconcileLoop> loopRef = new AtomicReference<>();
      ClusterStore store = new ClusterStore();
      BerthStateMachine sm = new BerthStateMachine(store, nanos -> { }, new BerthStateMachine.LeaderListener() {
        @Override
        public void onLeaderStart(long term) {
          dispatcherRef.get().onLeaderStart();
          loopRef.get().start();
        }

        @Override
        public void onLeaderStop() {
          loopRef.get().stop();
          dispatcherRef.get().onLeaderStop();
        }
      });
      RaftSettings settings = RaftSettings.defaults("127.0.0.1", raftPorts[i], dir.resolve("m" + i)).roomy();
      RaftNode raft = new RaftNode("m" + i, group, peers, settings, sm, false);
      raftRef.set(raft);
      Membership membership = Membership.of(() -> self, () -> raftRef.get().leaderId()
          .map(id -> agentAddresses.get(Integer.parseInt(id.toString().substring(1)))), () -> agentAddresses);
      AgentDispatcher dispatcher = new AgentDispatcher(store, raft, membership, clock, ids, config);
      dispatcherRef.set(dispatcher);
      ClusterViewFeed feed = new ClusterViewFeed();
      ReconcileLoop loop = new ReconcileLoop(store, raft, clock, feed,
          ReconcileLoop.standard(ids, feed, 30_000),
          Duration.ofMillis(500), Duration.ofMillis(5), Duration.ofSeconds(20));
      loopRef.set(loop);
      Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", agentPorts[i]))
          .addService(dispatcher).build().start();
      raft.start();
      managers.add(new Manager("m" + i, self, raft, dispatcher, loop, server));
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  Optional<Manager> leader() {
    return managers.stream().filter(m -> m.raft().isLeaderReady()).findFirst();
  }

  List<String> agentAddresses() {
    return managers.stream().map(Manager::agentAddress).toList();
  }

  @Override
  public void close() {
    for (Manager m : managers) {
      m.loop().stop();
      m.dispatcher().close();
      m.server().shutdownNow();
      try {
        m.raft().close();
      } catch (IOException | RuntimeException e) {
        System.err.println("closing " + m.id() + ": " + e);
      }
    }
  }
}
