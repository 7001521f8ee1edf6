package dev.berth.manager.api;

import com.google.protobuf.ByteString;
import dev.berth.api.v1.Cluster;
import dev.berth.api.v1.JoinManagerRequest;
import dev.berth.api.v1.JoinManagerResponse;
import dev.berth.api.v1.LeaveManagerRequest;
import dev.berth.api.v1.LeaveManagerResponse;
import dev.berth.api.v1.ManagerServiceGrpc;
import dev.berth.api.v1.NodeRole;
import dev.berth.api.v1.RaftPeer;
import dev.berth.internal.v1.ApplyResult;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.LogEntry;
import dev.berth.internal.v1.SetManager;
import dev.berth.manager.ManagerServer;
import dev.berth.manager.raft.RaftNode;
import dev.berth.manager.store.ClusterStore;
import dev.berth.manager.store.Ids;
import dev.berth.manager.store.StoreView;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.ratis.proto.RaftProtos.ServerRpcProto;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ManagerService}: managers joining and leaving the Raft group.
 *
 * <p>JoinManager checks the manager token, answers at once with the group id, peers and
 * root secret (the joiner needs the group id to start its Raft server), and then, in the
 * background, adds the peer through a Raft configuration change (retried until the new
 * server is up and caught up, bounded) and records it on its node object. LeaveManager
 * refuses, unless forced, a removal after which the reachable managers would not form a
 * majority of the new configuration.
 *
 * <p>Thread model: gRPC executor; membership work runs on a background thread.
 */
public final class ManagerApi extends ManagerServiceGrpc.ManagerServiceImplBase {
  private static final Logger LOG = LoggerFactory.getLogger(ManagerApi.class);
  private static final long JOIN_RETRY_MS = 120_000;
  private final ClusterStore store;
  private final RaftNode raft;
  private final RaftView view;
  private final Supplier<Optional<JoinTokenKeeper>> tokens;
  private final java.time.Clock clock;

  public ManagerApi(ClusterStore store, RaftNode raft, RaftView view,
      Supplier<Optional<JoinTokenKeeper>> tokens, java.time.Clock clock) {
    this.clock = clock;
    this.store = store;
    this.raft = raft;
    this.view = view;
    this.tokens = tokens;
  }

  private static RaftPeer toApi(org.apache.ratis.protocol.RaftPeer p) {
    return RaftPeer.newBuilder().setRaftId(p.getId().toString()).setRaftAddr(p.getAddress()).build();
  }

  @Override
  public void joinManager(JoinManagerRequest req, StreamObserver<JoinManagerResponse> obs) {
    Optional<Cluster> cluster = store.read(StoreView::cluster);
    Optional<JoinTokenKeeper> keeper = tokens.get();
    if (cluster.isEmpty() || keeper.isEmpty()) {
      obs.onError(Status.FAILED_PRECONDITION.withDescription("cluster is not initialized here")
          .asRuntimeException());
      return;
    }
    if (!JoinTokenKeeper.accepts(cluster.get(), NodeRole.MANAGER, req.getToken())) {
      obs.onError(Status.PERMISSION_DENIED.withDescription("token: not the current manager join token")
          .asRuntimeException());
      return;
    }
    if (req.getAddr().isEmpty()) {
      obs.onError(Errors.invalid("addr: must be the new manager's API host:port"));
      return;
    }
    String nodeId = req.getNodeId().isEmpty() ? Ids.newId() : req.getNodeId();
    String raftAddr = req.getRaftAddr().isEmpty() ? req.getAddr() : req.getRaftAddr();
    var newPeer = org.apache.ratis.protocol.RaftPeer.newBuilder().setId(nodeId).setAddress(raftAddr).build();
    List<org.apache.ratis.protocol.RaftPeer> peers = new ArrayList<>(raft.peers());
    peers.removeIf(p -> p.getId().equals(newPeer.getId()));
    peers.add(newPeer);
    JoinManagerResponse.Builder resp = JoinManagerResponse.newBuilder().setNodeId(nodeId)
        .setRaftId(nodeId).setGroupId(raft.groupId().getUuid().toString())
        .setRootSecret(ByteString.copyFrom(keeper.get().rootSecret()));
    peers.forEach(p -> resp.addPeers(toApi(p)));
    obs.onNext(resp.build());
    obs.onCompleted();
    CompletableFuture.runAsync(() -> addPeer(peers, nodeId, req.getAddr()));
  }

  private void addPeer(List<org.apache.ratis.protocol.RaftPeer> peers, String nodeId, String apiAddr) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(JOIN_RETRY_MS);
    while (System.nanoTime() < deadline) {
      try {
        List<org.apache.ratis.protocol.RaftPeer> now = new ArrayList<>(raft.peers());
        if (now.stream().noneMatch(p -> p.getId().toString().equals(nodeId))) {
          now.add(peers.get(peers.size() - 1));
          var reply = raft.client().admin().setConfiguration(now);
          if (!reply.isSuccess()) {
            throw new IllegalStateException(String.valueOf(reply.getException()));
          }
        }
        List<Command> cmds = new ArrayList<>();
        if (store.read(v -> v.node(nodeId)).isEmpty()) {
          cmds.addAll(ManagerServer.registerSelf(nodeId, apiAddr, clock.millis()));
        } else {
          cmds.add(ManagerServer.registerSelf(nodeId, apiAddr, 0).get(1));
        }
        ApplyResult r = raft.propose(LogEntry.newBuilder().setRequestId("join-" + nodeId + "-" + apiAddr)
            .setTimestampMs(clock.millis()).addAllCommands(cmds).build())
            .get(30, TimeUnit.SECONDS);
        LOG.info("manager {} joined at {}: {}", nodeId, apiAddr, r.getCode());
        return;
      } catch (Exception e) {
        LOG.info("adding manager {} not done yet: {}", nodeId, e.toString());
        try {
          Thread.sleep(500);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
    LOG.warn("gave up adding manager {} after {} ms", nodeId, JOIN_RETRY_MS);
  }

  @Override
  public void leaveManager(LeaveManagerRequest req, StreamObserver<LeaveManagerResponse> obs) {
    try {
      if (!raft.isLeader()) {
        obs.onError(Status.FAILED_PRECONDITION.withDescription("not the leader; ask the leader at "
            + view.leaderAddr()).asRuntimeException());
        return;
      }
      List<org.apache.ratis.protocol.RaftPeer> peers = new ArrayList<>(raft.peers());
      boolean member = peers.removeIf(p -> p.getId().toString().equals(req.getNodeId()));
      if (!member) {
        obs.onError(Errors.notFound("node_id: " + req.getNodeId() + " is not a manager"));
        return;
      }
      if (peers.isEmpty()) {
        obs.onError(Status.FAILED_PRECONDITION.withDescription(
            "node_id: " + req.getNodeId() + " is the last manager").asRuntimeException());
        return;
      }
      long reachable = reachableExcept(req.getNodeId());
      long majority = peers.size() / 2 + 1;
      if (reachable < majority && !req.getForce()) {
        obs.onError(Status.FAILED_PRECONDITION.withDescription("removing " + req.getNodeId()
            + " would leave " + reachable + " reachable of " + peers.size()
            + " managers, below the quorum of " + majority + "; use --force to do it anyway")
            .asRuntimeException());
        return;
      }
      var reply = raft.client().admin().setConfiguration(peers);
      if (!reply.isSuccess()) {
        obs.onError(Errors.unavailable(reply.getException(), view.leaderAddr()));
        return;
      }
      raft.propose(LogEntry.newBuilder().setRequestId("leave-" + req.getNodeId() + "-" + reply.getLogIndex())
          .setTimestampMs(clock.millis())
          .addCommands(Command.newBuilder().setSetManager(
              SetManager.newBuilder().setNodeId(req.getNodeId()).setRemove(true))).build())
          .get(30, TimeUnit.SECONDS);
      LeaveManagerResponse.Builder b = LeaveManagerResponse.newBuilder();
      peers.forEach(p -> b.addPeers(toApi(p)));
      obs.onNext(b.build());
      obs.onCompleted();
    } catch (Exception e) {
      obs.onError(Errors.unavailable(e, view.leaderAddr()));
    }
  }

  /**
   * Managers other than {@code leaving} the leader heard from recently (itself included).
   * "Recently" is one minimum election timeout: a live follower answers every heartbeat
   * (sent more often than that). A wider window counted a follower killed seconds ago as
   * reachable, and the leave then wedged the group in a joint configuration it could not
   * commit (the leader lost its lease and no one could be elected).
   */
  private long reachableExcept(String leaving) {
    var info = raft.division().getInfo().getRoleInfoProto();
    long timeoutMs = raft.settings().electionMin().toMillis();
    long count = raft.id().toString().equals(leaving) ? 0 : 1;
    for (ServerRpcProto f : info.getLeaderInfo().getFollowerInfoList()) {
      String id = f.getId().getId().toStringUtf8();
      if (!id.equals(leaving) && f.getLastRpcElapsedTimeMs() < timeoutMs) {
        count++;
      }
    }
    return count;
  }
}
