package dev.berth.manager.api;

import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.LogEntry;
import dev.berth.internal.v1.SetManager;
import dev.berth.manager.raft.RaftNode;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.ratis.proto.RaftProtos.ServerRpcProto;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;

/**
 * Takes a manager out of the Raft group, for {@code manager leave}, {@code node demote} and
 * {@code node rm --force}: unless forced, refuses a removal after which the reachable managers
 * would not form a majority of the new configuration (or that removes the last manager); then
 * changes the Raft configuration and drops the node's manager record through the log (its
 * role becomes worker).
 *
 * <p>The quorum check needs the leader's view of its followers, so the change runs on the
 * leader: callers elsewhere forward their request with {@link #atLeader}, and a leader
 * removing itself first hands over leadership ({@link #handOverIfLeading}).
 *
 * <p>Thread model: thread-safe; calls block (up to about a minute). Error contract: every
 * failure is a StatusRuntimeException (FAILED_PRECONDITION for a refusal, NOT_FOUND for a node
 * that is not a manager, UNAVAILABLE when the cluster can't commit the change).
 */
public final class ManagerMembership {
  private final RaftNode raft;
  private final RaftView view;
  private final Clock clock;

  public ManagerMembership(RaftNode raft, RaftView view, Clock clock) {
    this.raft = raft;
    this.view = view;
    this.clock = clock;
  }

  /** Whether the node is a member of the Raft group (a manager). */
  public boolean isMember(String nodeId) {
    return raft.peers().stream().anyMatch(p -> p.getId().toString().equals(nodeId));
  }

  /**
   * Runs {@code call} against the leader's API. Membership changes run on the leader (the
   * quorum check needs its view of the followers), and a manager taken out of the group stops
   * receiving the log, so it could not wait for the writes that follow.
   */
  public <T> T atLeader(Function<ManagedChannel, T> call) {
    String leader = view.leaderAddr();
    if (leader.isEmpty()) {
      throw Status.UNAVAILABLE.withDescription("no leader known to change the managers").asRuntimeException();
    }
    ManagedChannel ch = NettyChannelBuilder.forTarget(leader).usePlaintext().build();
    try {
      return call.apply(ch);
    } finally {
      ch.shutdownNow();
    }
  }

  /**
   * Before this leader takes itself out of the group: hands leadership to a reachable
   * follower and waits until another manager leads, so the change runs there.
   */
  public void handOverIfLeading(String nodeId) {
    if (!raft.isLeader() || !raft.id().toString().equals(nodeId) || raft.peers().size() < 2) {
      return; // nothing to hand over; a last manager is refused by removeHere
    }
    String target = reachableFollowers().stream().findFirst().orElseThrow(() -> Status.FAILED_PRECONDITION
        .withDescription("node_id: " + nodeId + " leads and no other manager is reachable to take over")
        .asRuntimeException());
    try {
      var reply = raft.client().admin().transferLeadership(RaftPeerId.valueOf(target), 10_000);
      if (!reply.isSuccess()) {
        throw Errors.unavailable(reply.getException(), view.leaderAddr());
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (raft.isLeader() || view.leaderAddr().isEmpty()) {
        if (System.nanoTime() > deadline) {
          throw Status.UNAVAILABLE.withDescription("leadership did not move from " + nodeId + " to "
              + target).asRuntimeException();
        }
        Thread.sleep(20);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Errors.unavailable(e, view.leaderAddr());
    } catch (IOException e) {
      throw Errors.unavailable(e, view.leaderAddr());
    }
  }

  /** Removes {@code nodeId} on this manager, which must lead; returns the remaining peers. */
  public List<RaftPeer> removeHere(String nodeId, boolean force, String action) {
    if (!raft.isLeader()) {
      throw Status.FAILED_PRECONDITION.withDescription("not the leader; ask the leader at "
          + view.leaderAddr()).asRuntimeException();
    }
    List<RaftPeer> current = List.copyOf(raft.peers());
    List<RaftPeer> peers = new ArrayList<>(current);
    if (!peers.removeIf(p -> p.getId().toString().equals(nodeId))) {
      throw Errors.notFound("node_id: " + nodeId + " is not a manager");
    }
    if (peers.isEmpty()) {
      throw Status.FAILED_PRECONDITION.withDescription("node_id: " + nodeId + " is the last manager")
          .asRuntimeException();
    }
    long reachable = reachableFollowers().stream().filter(id -> !id.equals(nodeId)).count()
        + (raft.id().toString().equals(nodeId) ? 0 : 1);
    long majority = peers.size() / 2 + 1;
    if (reachable < majority && !force) {
      throw Status.FAILED_PRECONDITION.withDescription(action + " " + nodeId + " would leave "
          + reachable + " reachable of " + peers.size() + " managers, below the quorum of " + majority
          + "; use --force to do it anyway").asRuntimeException();
    }
    try {
      // Ratis 3.2.1 has no remove mode (only SET_UNCONDITIONALLY, ADD, COMPARE_AND_SET). Compare-and-set
      // against the configuration the checks above were made on: if it changed meanwhile (a join's ADD
      // being staged), Ratis refuses, and the caller retries (UNAVAILABLE) on the new configuration,
      // instead of this list silently dropping the manager that just joined.
      var reply = raft.client().admin().setConfiguration(SetConfigurationRequest.Arguments.newBuilder()
          .setServersInCurrentConf(current)
          .setServersInNewConf(peers)
          .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET).build());
      if (!reply.isSuccess()) {
        throw Errors.unavailable(reply.getException(), view.leaderAddr());
      }
      var r = raft.propose(LogEntry.newBuilder().setRequestId("leave-" + nodeId + "-" + reply.getLogIndex())
          .setTimestampMs(clock.millis())
          .addCommands(Command.newBuilder().setSetManager(
              SetManager.newBuilder().setNodeId(nodeId).setRemove(true))).build())
          .get(30, TimeUnit.SECONDS);
      if (!r.getCode().equals("OK")) {
        throw Errors.of(r);
      }
      return peers;
    } catch (StatusRuntimeException e) {
      throw e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Errors.unavailable(e, view.leaderAddr());
    } catch (Exception e) {
      throw Errors.unavailable(e, view.leaderAddr());
    }
  }

  /**
   * Followers the leader heard from recently. "Recently" is one minimum election timeout: a
   * live follower answers every heartbeat (sent more often than that). A wider window counted
   * a follower killed seconds ago as reachable, and a leave then wedged the group in a joint
   * configuration it could not commit (the leader lost its lease and no one could be elected).
   */
  private List<String> reachableFollowers() {
    var info = raft.division().getInfo().getRoleInfoProto();
    long timeoutMs = raft.settings().electionMin().toMillis();
    List<String> out = new ArrayList<>();
    for (ServerRpcProto f : info.getLeaderInfo().getFollowerInfoList()) {
      if (f.getLastRpcElapsedTimeMs() < timeoutMs) {
        out.add(f.getId().getId().toStringUtf8());
      }
    }
    return out;
  }
}
