package dev.berth.manager;

import dev.berth.api.v1.Cluster;
import dev.berth.api.v1.ManagerStatus;
import dev.berth.api.v1.Meta;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeDescription;
import dev.berth.api.v1.NodeRole;
import dev.berth.api.v1.NodeSpec;
import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.NodeStatus;
import dev.berth.internal.v1.ApplyResult;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.InitCluster;
import dev.berth.internal.v1.LogEntry;
import dev.berth.internal.v1.RegisterNode;
import dev.berth.internal.v1.SetManager;
import dev.berth.manager.api.JoinTokenKeeper;
import dev.berth.manager.raft.RaftNode;
import dev.berth.manager.store.ClusterStore;
import dev.berth.manager.store.Ids;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The entries a starting manager writes about the cluster itself: the first entry of a new cluster
 * (cluster object, join token hashes, this manager's node), and after a forced recovery the removal
 * of the former managers. Also builds the commands that register a manager's node, for joins.
 *
 * <p>Thread model: called from the thread that starts the manager; blocks until this manager leads
 * (at most 60 s) and the entry is applied. Error contract: throws IOException when no leader is
 * elected or the entry is refused.
 */
public final class ClusterBootstrap {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterBootstrap.class);
  private final RaftNode raft;
  private final ClusterStore store;
  private final Clock clock;
  private final String nodeId;

  ClusterBootstrap(RaftNode raft, ClusterStore store, Clock clock, String nodeId) {
    this.raft = raft;
    this.store = store;
    this.clock = clock;
    this.nodeId = nodeId;
  }

  /** First entry of a new cluster: the cluster object and this manager's node. */
  void initCluster(String apiAddr, JoinTokenKeeper tokens) throws IOException {
    awaitLeaderReady();
    String clusterId = Ids.newId();
    Cluster cluster = Cluster.newBuilder().setMeta(Meta.newBuilder().setId(clusterId)).setName("berth")
        .setCaDigest(caPlaceholder(clusterId))
        .setWorkerTokenHash(JoinTokenKeeper.hash(tokens.secret(NodeRole.WORKER, 0)))
        .setManagerTokenHash(JoinTokenKeeper.hash(tokens.secret(NodeRole.MANAGER, 0))).build();
    LogEntry entry = LogEntry.newBuilder().setRequestId("bootstrap-" + nodeId)
        .setTimestampMs(clock.millis())
        .addCommands(Command.newBuilder().setInitCluster(InitCluster.newBuilder().setCluster(cluster)))
        .addAllCommands(registerSelf(nodeId, apiAddr, clock.millis())).build();
    ApplyResult r = propose(entry);
    if (!r.getCode().equals("OK")) {
      throw new IOException("bootstrap failed: " + r.getCode() + ": " + r.getMessage());
    }
  }

  private void awaitLeaderReady() throws IOException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!raft.isLeaderReady()) {
      if (System.nanoTime() > deadline) {
        throw new IOException("single-manager cluster elected no leader within 60 s");
      }
      sleep(20);
    }
  }

  /** After a forced recovery: the other managers are no longer members, so not managers. */
  void dropFormerManagers() throws IOException {
    awaitLeaderReady();
    String self = nodeId;
    List<String> former = store.read(v -> v.nodes().stream()
        .filter(n -> n.hasManagerStatus() && !n.getMeta().getId().equals(self))
        .map(n -> n.getMeta().getId()).sorted().toList());
    if (former.isEmpty()) {
      return;
    }
    LogEntry.Builder entry = LogEntry.newBuilder()
        .setRequestId("force-new-cluster-" + self + "-" + raft.term()).setTimestampMs(clock.millis());
    former.forEach(id -> entry.addCommands(Command.newBuilder()
        .setSetManager(SetManager.newBuilder().setNodeId(id).setRemove(true))));
    ApplyResult r = propose(entry.build());
    if (!r.getCode().equals("OK")) {
      throw new IOException("dropping former managers failed: " + r.getCode() + ": " + r.getMessage());
    }
    LOG.warn("forced a new one-manager cluster; former managers {} are workers now", former);
  }

  /** Commands registering a manager's node object and its Raft identity. */
  public static List<Command> registerSelf(String nodeId, String apiAddr, long nowMs) {
    Node node = Node.newBuilder().setMeta(Meta.newBuilder().setId(nodeId))
        .setSpec(NodeSpec.newBuilder().setDesiredRole(NodeRole.MANAGER))
        .setDescription(NodeDescription.newBuilder().setHostname(hostname())
            .setAddr(apiAddr.substring(0, apiAddr.lastIndexOf(':'))))
        .setStatus(NodeStatus.newBuilder().setState(NodeState.NODE_UNKNOWN).setChangedAtMs(nowMs)
            .setMessage("manager; no agent session yet"))
        .setRole(NodeRole.MANAGER).build();
    return List.of(
        Command.newBuilder().setRegisterNode(RegisterNode.newBuilder().setNode(node)).build(),
        Command.newBuilder().setSetManager(SetManager.newBuilder().setNodeId(nodeId)
            .setManagerStatus(ManagerStatus.newBuilder().setAddr(apiAddr).setRaftId(nodeId))).build());
  }

  private static String hostname() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "localhost";
    }
  }

  /** Stands in for the CA certificate digest in join tokens until TLS lands. */
  static String caPlaceholder(String clusterId) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(("berth-ca-placeholder:" + clusterId).getBytes());
      return HexFormat.of().formatHex(d, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private ApplyResult propose(LogEntry entry) throws IOException {
    try {
      return raft.propose(entry).get(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IOException("proposal failed: " + e, e);
    }
  }

  private static void sleep(long ms) throws IOException {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }
}
