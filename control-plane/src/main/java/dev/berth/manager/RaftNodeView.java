package dev.berth.manager;

import dev.berth.api.v1.ManagerInfo;
import dev.berth.api.v1.Node;
import dev.berth.manager.api.RaftView;
import dev.berth.manager.raft.RaftNode;
import dev.berth.manager.store.ClusterStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;

/**
 * Raft as the public API sees it, backed by this manager's Ratis division and the manager node
 * objects in the store (which hold the API addresses). Thread-safe: every call reads current state.
 */
final class RaftNodeView implements RaftView {
private final RaftNode raft;
private final ClusterStore store;
private final Supplier<StateDir.Identity> identity;

RaftNodeView(RaftNode raft, ClusterStore store, Supplier<StateDir.Identity> identity) {
  this.raft = raft;
  this.store = store;
  this.identity = identity;
}

  @Override
  public CompletableFuture<Long> readBarrier() {
    return raft.readBarrier();
  }

  @Override
  public String selfId() {
    return identity.get().nodeId();
  }

  @Override
  public String leaderAddr() {
    Optional<RaftPeerId> leader = raft.leaderId();
    if (leader.isEmpty()) {
      return "";
    }
    if (leader.get().toString().equals(identity.get().nodeId())) {
      return identity.get().apiAddr();
    }
    String id = leader.get().toString();
    return store.read(v -> v.node(id)).filter(Node::hasManagerStatus)
        .map(n -> n.getManagerStatus().getAddr()).orElse("");
  }

  @Override
  public long term() {
    return raft.term();
  }

  @Override
  public long commitIndex() {
    return raft.commitIndex();
  }

  @Override
  public long appliedIndex() {
    return raft.appliedIndex();
  }

  @Override
  public List<ManagerInfo> managers() {
    String leader = raft.leaderId().map(Object::toString).orElse("");
    List<ManagerInfo> out = new ArrayList<>();
    for (RaftPeer p : raft.peers()) {
      String id = p.getId().toString();
      String addr = store.read(v -> v.node(id)).filter(Node::hasManagerStatus)
          .map(n -> n.getManagerStatus().getAddr()).orElse("");
      out.add(ManagerInfo.newBuilder().setNodeId(id).setRaftId(id).setAddr(addr)
          .setLeader(id.equals(leader)).build());
    }
    return out;
  }
}
