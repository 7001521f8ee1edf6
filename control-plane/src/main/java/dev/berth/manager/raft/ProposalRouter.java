package dev.berth.manager.raft;

import dev.berth.manager.DaemonThreads;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.LeaderNotReadyException;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.server.RaftServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes one proposal to the leader this server currently knows: into the local server when it
 * leads, else straight to the leader over one unordered client RPC, and again along the newest
 * route after any answer but a final one, until a deadline.
 *
 * <p>Why not Ratis' {@code RaftClient} for this: after a leader dies, its retries go to a
 * random peer (often a candidate or the dead leader again) with the retry policy's backoff,
 * its ordered sliding window holds a write behind a new client's "dummy" watch request, and
 * resetting the connection to the dead server blocks the retrying thread in
 * {@code GrpcUtil.shutdownManagedChannel} for up to 3 s. This router asks its own server who
 * leads (that view changes with the first append of a new leader), retries every
 * {@link #TICK_MS}, and drops the whole connection set after a failure, closing it on a
 * thread of its own so the 3 s wait never delays a proposal.
 *
 * <p>Every copy of a proposal carries the same client id and call id, so a server's retry
 * cache answers a repeat it already appended; a copy appended by two leaders applies once
 * through the store's request-id table.
 *
 * <p>Thread model: thread-safe; replies are handled on Ratis' threads and retries on the
 * router's tick thread. Error contract: the future fails only at the deadline (with the last
 * failure) or when the router is closed.
 */
final class ProposalRouter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ProposalRouter.class);
  /** Retry period while there is no usable leader (an election, a leader not ready yet). */
  static final long TICK_MS = 20;
  /** A target that failed is asked again this late unless the leader changed first. */
  static final long SAME_TARGET_MS = 200;

  private final RaftPeerId self;
  private final RaftGroupId groupId;
  private final RaftServer server;
  private final RaftProperties props;
  private final ServerView view;
  private final long deadlineMs;
  private final ClientId clientId = ClientId.randomId();
  private final AtomicLong callIds = new AtomicLong();
  private final ScheduledExecutorService ticks = Executors.newSingleThreadScheduledExecutor(
      DaemonThreads.named("berth-propose-retry"));
  private final ScheduledExecutorService closer = Executors.newSingleThreadScheduledExecutor(
      DaemonThreads.named("berth-propose-closer"));
  private final Object connLock = new Object();
  private RaftClient conn;
  private List<RaftPeer> connPeers = List.of();

  ProposalRouter(RaftPeerId self, RaftGroupId groupId, RaftServer server, RaftProperties props, ServerView view,
      long deadlineMs) {
    this.self = self;
    this.groupId = groupId;
    this.server = server;
    this.props = props;
    this.view = view;
    this.deadlineMs = deadlineMs;
  }

  /** One proposal's progress. */
  private final class Proposal {
    final Message msg;
    final long callId = callIds.incrementAndGet();
    final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(deadlineMs);
    final CompletableFuture<RaftClientReply> result = new CompletableFuture<>();
    int attempts;
    RaftPeerId failedTarget;
    long failedTerm;
    long failedAt;
    Throwable lastError;

    Proposal(Message msg) {
      this.msg = msg;
    }
  }

  CompletableFuture<RaftClientReply> submit(Message msg) {
    Proposal p = new Proposal(msg);
    attempt(p);
    return p.result;
  }

  private void attempt(Proposal p) {
    if (p.result.isDone()) {
      return;
    }
    if (System.nanoTime() - p.deadline > 0) {
      p.result.completeExceptionally(p.lastError != null ? p.lastError
          : new TimeoutException("no leader accepted the proposal within " + deadlineMs + " ms"));
      return;
    }
    RaftPeerId target = view.leader().orElse(null);
    long term = view.term();
    if (target == null || target.equals(p.failedTarget) && term == p.failedTerm
        && System.nanoTime() - p.failedAt < TimeUnit.MILLISECONDS.toNanos(SAME_TARGET_MS)) {
      later(p);
      return;
    }
    p.attempts++;
    LOG.debug("proposal {} attempt {} to {} (term {})", p.callId, p.attempts, target, term);
    RaftClientRequest request = RaftClientRequest.newBuilder().setClientId(clientId).setServerId(target)
        .setGroupId(groupId).setCallId(p.callId).setMessage(p.msg)
        .setType(RaftClientRequest.writeRequestType()).build();
    RaftClient via = null;
    CompletableFuture<RaftClientReply> sent;
    try {
      if (target.equals(self)) {
        sent = server.submitClientRequestAsync(request);
      } else {
        via = connection();
        sent = via.getClientRpc().sendRequestAsyncUnordered(request);
      }
    } catch (IOException | RuntimeException e) {
      sent = CompletableFuture.failedFuture(e);
    }
    RaftClient usedConn = via;
    sent.whenComplete((reply, error) -> outcome(p, target, term, usedConn, reply, error));
  }

  private void outcome(Proposal p, RaftPeerId target, long term, RaftClient usedConn, RaftClientReply reply,
      Throwable error) {
    Throwable failure = error != null ? unwrap(error) : reply.getNotLeaderException() != null
        ? reply.getNotLeaderException() : reply.getLeaderNotReadyException();
    if (failure == null && reply.isSuccess()) {
      p.result.complete(reply);
      return;
    }
    if (failure == null && reply.getException() instanceof StateMachineException) {
      p.result.complete(reply); // the state machine's verdict: final
      return;
    }
    if (failure == null) {
      failure = reply.getException();
    }
    LOG.debug("proposal {} attempt {} to {}: {}", p.callId, p.attempts, target, failure.toString());
    p.lastError = failure;
    if (usedConn != null) {
      // any failure leaves the connection's reply stream closed (Ratis fails the whole stream)
      discard(usedConn);
    }
    if (!(failure instanceof LeaderNotReadyException)) {
      p.failedTarget = target;
      p.failedTerm = term;
      p.failedAt = System.nanoTime();
    }
    later(p);
  }

  private static Throwable unwrap(Throwable t) {
    return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
  }

  private void later(Proposal p) {
    try {
      ticks.schedule(() -> attempt(p), TICK_MS, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      p.result.completeExceptionally(new IOException("closed", p.lastError));
    }
  }

  /** The current connection set (one Ratis client rpc: a channel per peer), made on demand. */
  private RaftClient connection() {
    List<RaftPeer> peers = view.voters();
    synchronized (connLock) {
      if (conn == null || !peers.equals(connPeers)) {
        if (conn != null) {
          closeLater(conn);
        }
        conn = RaftClient.newBuilder().setRaftGroup(RaftGroup.valueOf(groupId, peers)).setProperties(props)
            .build();
        connPeers = peers;
      }
      return conn;
    }
  }

  private void discard(RaftClient used) {
    synchronized (connLock) {
      if (conn != used) {
        return; // already replaced
      }
      conn = null;
    }
    closeLater(used);
  }

  /**
   * Closes a superseded connection set one attempt timeout later (by then every request on it
   * has been answered or timed out), on the closer's own thread: Ratis may block there for up
   * to 3 s per channel.
   */
  private void closeLater(RaftClient c) {
    try {
      closer.schedule(() -> {
        try {
          c.close();
        } catch (IOException e) {
          LOG.debug("closing a superseded proposal connection", e);
        }
      }, org.apache.ratis.client.RaftClientConfigKeys.Rpc.requestTimeout(props).toLong(TimeUnit.MILLISECONDS),
          TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      // router closed
    }
  }

  @Override
  public void close() {
    ticks.shutdownNow();
    closer.shutdownNow();
    RaftClient c;
    synchronized (connLock) {
      c = conn;
      conn = null;
    }
    if (c != null) {
      try {
        c.close();
      } catch (IOException e) {
        LOG.debug("closing the proposal connection", e);
      }
    }
  }
}
