package dev.berth.manager.raft;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;

/**
 * What this manager's Raft server currently believes about its group (leader, term,
 * members, last log entry), read afresh on every call. One view serves the node, the
 * {@link ProposalRouter} and the {@link LeaderLossWatch}, so they never disagree on how a
 * missing division (a server still starting or closing) reads.
 *
 * <p>Thread model: thread-safe; each call is one read of Ratis' own thread-safe state.
 * Error contract: {@link #division()} throws {@link IllegalStateException} while the group is
 * not on the server; every other read answers "unknown" then (empty, -1, the initial peers,
 * not a follower).
 */
final class ServerView {
  private final RaftServer server;
  private final RaftGroup group;

  ServerView(RaftServer server, RaftGroup group) {
    this.server = server;
    this.group = group;
  }

  RaftServer.Division division() {
    try {
      return server.getDivision(group.getGroupId());
    } catch (IOException e) {
      throw new IllegalStateException("Raft group " + group.getGroupId() + " not on this server", e);
    }
  }

  Optional<RaftPeerId> leader() {
    try {
      return Optional.ofNullable(division().getInfo().getLeaderId());
    } catch (IllegalStateException e) {
      return Optional.empty();
    }
  }

  /** The current term, -1 while unknown. */
  long term() {
    try {
      return division().getInfo().getCurrentTerm();
    } catch (IllegalStateException e) {
      return -1;
    }
  }

  boolean isFollower() {
    try {
      return division().getInfo().isFollower();
    } catch (IllegalStateException e) {
      return false;
    }
  }

  /**
   * Voting members of the current configuration in id order; the group this server was built
   * with while it knows no configuration yet (a recovering or joining server).
   */
  List<RaftPeer> voters() {
    List<RaftPeer> peers;
    try {
      peers = new ArrayList<>(division().getRaftConf().getCurrentPeers());
    } catch (IllegalStateException e) {
      peers = new ArrayList<>();
    }
    if (peers.isEmpty()) {
      peers.addAll(group.getPeers());
    }
    peers.sort(Comparator.comparing(p -> p.getId().toString()));
    return peers;
  }

  TermIndex lastEntry() {
    return division().getRaftLog().getLastEntryTermIndex();
  }
}
