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
import dev.berth.manager.ClusterBootstrap;
import dev.berth.manager.raft.RaftNode;
import dev.berth.manager.store.ClusterStore;
import dev.berth.manager.store.Ids;
import dev.berth.manager.store.StoreView;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import org.apache.ratis.protocol.SetConfigurationRequest;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ManagerService}: managers joining and leaving the Raft group.
 *
 * <p>JoinManager checks the manager token, answers at once with the group id, peers and
 * root secret (the joiner needs the group id to start its Raft server), and then, in the
 * background, adds the peer through a Raft configuration change (retried until the new
 * server is up and caught up, bounded) and records it on its node object. LeaveManager
 * (on the leader) removes a manager through {@link ManagerMembership}, which refuses, unless
 * forced, a removal that breaks quorum.
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
  private final ManagerMembership membership;

  public ManagerApi(ClusterStore store, RaftNode raft, RaftView view,
      Supplier<Optional<JoinTokenKeeper>> tokens, java.time.Clock clock, ManagerMembership membership) {
    this.clock = clock;
    this.membership = membership;
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
        if (raft.peers().stream().noneMatch(p -> p.getId().toString().equals(nodeId))) {
          // ADD, not a full list computed here: the leader adds the peer to its own current
          // configuration. A list read from this server's view could be stale while another join
          // is still being staged, and setting it would silently drop that other manager.
          var reply = raft.client().admin().setConfiguration(SetConfigurationRequest.Arguments.newBuilder()
              .setServersInNewConf(List.of(peers.get(peers.size() - 1)))
              .setMode(SetConfigurationRequest.Mode.ADD).build());
          if (!reply.isSuccess()) {
            throw new IllegalStateException(String.valueOf(reply.getException()));
          }
        }
        List<Command> cmds = new ArrayList<>();
        if (store.read(v -> v.node(nodeId)).isEmpty()) {
          cmds.addAll(ClusterBootstrap.registerSelf(nodeId, apiAddr, clock.millis()));
        } else {
          cmds.add(ClusterBootstrap.registerSelf(nodeId, apiAddr, 0).get(1));
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
      List<org.apache.ratis.protocol.RaftPeer> peers = membership.removeHere(req.getNodeId(), req.getForce(),
          "removing");
      LeaveManagerResponse.Builder b = LeaveManagerResponse.newBuilder();
      peers.forEach(p -> b.addPeers(toApi(p)));
      obs.onNext(b.build());
      obs.onCompleted();
    } catch (StatusRuntimeException e) {
      obs.onError(e);
    }
  }
}
