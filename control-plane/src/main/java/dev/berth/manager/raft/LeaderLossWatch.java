package dev.berth.manager.raft;

import dev.berth.manager.DaemonThreads;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.proto.RaftProtos.RaftGroupIdProto;
import org.apache.ratis.proto.RaftProtos.RaftRpcRequestProto;
import org.apache.ratis.proto.RaftProtos.StartLeaderElectionRequestProto;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts an election as soon as the leader's process is known to be gone, instead of after
 * one to two election timeouts of silence.
 *
 * <p>A follower holds a connection to its leader's Raft port and watches it. When that
 * connection breaks, it tries to connect again: a refused connection means nothing listens
 * on the port any more (the process died or closed its server; a paused, slow or partitioned
 * leader keeps its port, so connects succeed or time out, and nothing happens here). Then the
 * first of the remaining voters in id order asks its own server to start an election
 * through Ratis' {@code startLeaderElection}, the call a leader makes to hand its leadership
 * over, written on behalf of the gone leader; Ratis runs it only while this server still
 * follows that leader in that term and has a log at least as new as the term's. The other
 * voters try {@link #STAGGER_MS} per rank later, by when the first one's vote request has
 * normally moved them to a newer term, so Ratis refuses theirs and no split vote comes of it.
 * Everything else (a partition, a host that vanished without resetting connections) is left
 * to Ratis' election timeout. Ratis has no hook for "the leader's stream broke", so the
 * watch keeps a connection of its own.
 *
 * <p>Thread model: everything runs on the watch's single thread. Error contract: failures
 * are logged and leave the election to Ratis' timeouts.
 */
final class LeaderLossWatch implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LeaderLossWatch.class);
  static final long CHECK_MS = 50;
  /**
   * Wait per rank before a later successor acts: covers the first one noticing the loss later
   * (seen: 85 ms) plus its vote request's trip (seen: 55 ms) on a loaded 2-core host; at 100 ms
   * both once started an election in the same term (a split vote, then Ratis' timeouts).
   */
  static final long STAGGER_MS = 250;
  private static final int PROBES = 3;
  private static final int PROBE_TIMEOUT_MS = 200;
  private static final long PROBE_GAP_MS = 30;

  private final RaftPeerId self;
  private final RaftGroupId groupId;
  private final RaftServer server;
  private final ServerView view;
  private final ScheduledExecutorService exec =
      Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("berth-leader-loss-watch"));
  private RaftPeerId watched;
  private long watchedTerm;
  private String watchedAddr;
  private volatile ManagedChannel channel;
  private boolean wasReady;

  LeaderLossWatch(RaftPeerId self, RaftGroupId groupId, RaftServer server, ServerView view) {
    this.self = self;
    this.groupId = groupId;
    this.server = server;
    this.view = view;
  }

  void start() {
    exec.scheduleWithFixedDelay(this::check, 0, CHECK_MS, TimeUnit.MILLISECONDS);
  }

  private void check() {
    try {
      RaftPeerId leader = view.isFollower() ? view.leader().orElse(null) : null;
      long term = view.term();
      if (leader == null || leader.equals(self)) {
        unwatch();
        return;
      }
      if (!leader.equals(watched) || term != watchedTerm) {
        unwatch();
        String addr = view.voters().stream().filter(p -> p.getId().equals(leader)).map(RaftPeer::getAddress)
            .findFirst().orElse(null);
        if (addr != null) {
          watch(leader, term, addr);
        }
      }
    } catch (RuntimeException e) {
      LOG.debug("leader watch check", e); // the server is starting or closing
    }
  }

  private void watch(RaftPeerId leader, long term, String addr) {
    watched = leader;
    watchedTerm = term;
    watchedAddr = addr;
    wasReady = false;
    LOG.debug("watching leader {} (term {}) at {}", leader, term, addr);
    channel = NettyChannelBuilder.forTarget(addr).usePlaintext().idleTimeout(30, TimeUnit.DAYS).build();
    listen(channel, channel.getState(true));
  }

  private void unwatch() {
    if (channel != null) {
      channel.shutdownNow();
      channel = null;
    }
    watched = null;
  }

  private void listen(ManagedChannel ch, ConnectivityState state) {
    ch.notifyWhenStateChanged(state, () -> {
      try {
        exec.execute(() -> changed(ch));
      } catch (RejectedExecutionException e) {
        // closed
      }
    });
  }

  private void changed(ManagedChannel ch) {
    if (ch != channel) {
      return;
    }
    ConnectivityState state = ch.getState(false);
    LOG.debug("connection to leader {} at {}: {}", watched, watchedAddr, state);
    if (state == ConnectivityState.READY) {
      wasReady = true;
    } else if (wasReady && state != ConnectivityState.SHUTDOWN) {
      wasReady = false;
      boolean refused = portRefuses(watchedAddr);
      LOG.debug("leader {} port {} refuses connections: {}", watched, watchedAddr, refused);
      if (refused) {
        LOG.info("leader {} (term {}) refuses connections on {}: its process is gone", watched, watchedTerm,
            watchedAddr);
        electSoon(watched, watchedTerm);
      }
      state = ch.getState(true); // reconnect, to notice the next break too
    }
    listen(ch, state);
  }

  /** True if a connection to the address is refused (nothing listens there). */
  static boolean portRefuses(String addr) {
    int colon = addr.lastIndexOf(':');
    InetSocketAddress to = new InetSocketAddress(addr.substring(0, colon), Integer.parseInt(addr.substring(colon + 1)));
    for (int i = 0; i < PROBES; i++) {
      try (Socket s = new Socket()) {
        s.connect(to, PROBE_TIMEOUT_MS);
      } catch (ConnectException e) {
        return true;
      } catch (IOException e) {
        return false; // a timeout or an unreachable network: not proof that the process is gone
      }
      try {
        Thread.sleep(PROBE_GAP_MS); // the process may still be tearing down its sockets
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return false;
  }

  private void electSoon(RaftPeerId gone, long term) {
    List<RaftPeerId> successors = view.voters().stream().map(RaftPeer::getId).filter(id -> !id.equals(gone))
        .sorted(java.util.Comparator.comparing(RaftPeerId::toString)).toList();
    int rank = successors.indexOf(self);
    if (rank < 0) {
      return;
    }
    exec.schedule(() -> elect(gone, term), rank * STAGGER_MS, TimeUnit.MILLISECONDS);
  }

  private void elect(RaftPeerId gone, long term) {
    if (!view.isFollower() || !gone.equals(view.leader().orElse(null)) || view.term() != term) {
      return; // an election already moved on
    }
    TermIndex last = view.lastEntry();
    StartLeaderElectionRequestProto request = StartLeaderElectionRequestProto.newBuilder()
        .setServerRequest(RaftRpcRequestProto.newBuilder()
            .setRequestorId(gone.toByteString())
            .setReplyId(self.toByteString())
            .setRaftGroupId(RaftGroupIdProto.newBuilder().setId(groupId.toByteString())))
        .setLeaderLastEntry(last.toProto())
        .build();
    try {
      boolean started = server.startLeaderElection(request).getServerReply().getSuccess();
      LOG.info("election on behalf of gone leader {} (term {}, our last entry {}): {}", gone, term, last,
          started ? "started" : "refused by Ratis");
    } catch (IOException | RuntimeException e) {
      LOG.info("election on behalf of gone leader {} not started: {}", gone, e.toString());
    }
  }

  @Override
  public void close() {
    exec.shutdownNow();
    if (channel != null) {
      channel.shutdownNow();
    }
  }
}
