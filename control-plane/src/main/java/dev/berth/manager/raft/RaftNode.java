package dev.berth.manager.raft;

import dev.berth.internal.v1.ApplyResult;
import dev.berth.internal.v1.LogEntry;
import dev.berth.manager.store.Proposer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.retry.ExponentialBackoffRetry;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;

/**
 * One manager's Raft server plus a client of its own group, and the {@link Proposer}
 * built on that client.
 *
 * <p>Writes on the leader are submitted straight to the local server (no RPC hop, and no
 * stale leader guess in a client). Elsewhere, or if the local server turns out not to be a
 * ready leader, they go through the Raft client, which is re-aimed at the leader this server
 * currently knows whenever that changes: after a leader dies the old client would first try
 * the dead leader and wait a whole attempt timeout. The client retries with a bounded,
 * backed-off policy; Ratis' retry cache de-duplicates retries to one server, and the store's
 * request-id table those to another. Linearizable reads use
 * ReadIndex: a read-only request to this very server, which confirms leadership with a
 * quorum and waits until it has applied up to the read index.
 *
 * <p>Thread model: thread-safe after {@link #start}. Error contract: see {@link Proposer}.
 */
public final class RaftNode implements Proposer, AutoCloseable {
  private final RaftPeerId selfId;
  private final RaftGroup group;
  private final RaftServer server;
  private final RaftProperties props;
  private final Object clientLock = new Object();
  private RaftClient client;
  private List<RaftPeer> clientPeers = List.of();
  private RaftPeerId clientLeader;
  /** Identity of the local submissions; call ids keep Ratis' retry cache apart per entry. */
  private final ClientId localClientId = ClientId.randomId();
  private final AtomicLong localCallIds = new AtomicLong();
  /** Watches proposals in flight for a change of leader (see {@link #propose}). */
  private final java.util.concurrent.ScheduledExecutorService leaderWatch =
      java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "berth-propose-leader-watch");
        t.setDaemon(true);
        return t;
      });
  private static final long WATCH_TICK_MS = 20;
  private static final int WATCH_TICKS = 1500;
  private static final int MAX_RESENDS = 3;
  /** A new leader becomes ready within one commit round trip; 1 s of asking covers a slow one. */
  private static final int NOT_READY_RETRIES = 50;
  private final BerthStateMachine stateMachine;
  private final RaftSettings settings;

  /**
   * @param peers initial configuration; empty to recover it from the storage dir or to
   *     wait for a leader to add this server (join)
   */
  public RaftNode(String selfId, RaftGroupId groupId, List<RaftPeer> peers, RaftSettings settings,
      BerthStateMachine stateMachine, boolean recover) throws IOException {
    this.selfId = RaftPeerId.valueOf(selfId);
    this.group = RaftGroup.valueOf(groupId, peers);
    this.settings = settings;
    this.stateMachine = stateMachine;
    this.props = properties(settings);
    this.server = RaftServer.newBuilder().setServerId(this.selfId).setGroup(group)
        .setProperties(props).setStateMachine(stateMachine)
        .setOption(recover ? RaftStorage.StartupOption.RECOVER : RaftStorage.StartupOption.FORMAT)
        .build();
  }

  static RaftProperties properties(RaftSettings s) {
    RaftProperties p = new RaftProperties();
    GrpcConfigKeys.Server.setHost(p, s.host());
    GrpcConfigKeys.Server.setPort(p, s.port());
    RaftServerConfigKeys.setStorageDir(p, List.of(s.storageDir().toFile()));
    RaftServerConfigKeys.Rpc.setTimeoutMin(p, td(s.electionMin().toMillis()));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, td(s.electionMax().toMillis()));
    RaftServerConfigKeys.Rpc.setRequestTimeout(p, td(s.requestTimeout().toMillis()));
    RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
    RaftServerConfigKeys.Read.setTimeout(p, td(s.requestTimeout().toMillis()));
    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, s.snapshotThreshold());
    RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, 2);
    RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
    RaftServerConfigKeys.Log.setPurgeGap(p, 64);
    // Entries are at most BerthStateMachine.MAX_ENTRY_BYTES (2 MiB), so a 4 MB segment holds
    // any entry. Ratis keeps up to SegmentCacheNumMax closed segments' entries on the heap
    // (default 6): with 16 MB segments that was ~100 MB of a manager's heap, which long
    // young-GC pauses (copying and promoting it) turned into the batched commit p99.
    RaftServerConfigKeys.Log.setSegmentSizeMax(p, SizeInBytes.valueOf("4MB"));
    RaftServerConfigKeys.Log.setSegmentCacheNumMax(p, 2);
    RaftServerConfigKeys.Log.setWriteBufferSize(p, SizeInBytes.valueOf("16MB"));
    RaftServerConfigKeys.Log.Appender.setBufferByteLimit(p, SizeInBytes.valueOf("8MB"));
    GrpcConfigKeys.setMessageSizeMax(p, SizeInBytes.valueOf("16MB"));
    // Ratis' client default is 3 s per attempt; a write sent to a leader that was just
    // killed waits that long before the client tries another server.
    RaftClientConfigKeys.Rpc.setRequestTimeout(p, td(s.clientAttemptTimeout().toMillis()));
    return p;
  }

  private static TimeDuration td(long ms) {
    return TimeDuration.valueOf(ms, TimeUnit.MILLISECONDS);
  }

  /**
   * Bounded, exponentially backed-off retries (Ratis' default retries forever, no sleep). The
   * cap is low (an election here takes well under a second, and a NotLeaderException names
   * the new leader, which Ratis then tries at once); the attempt count bounds the total to
   * about the API's own 10 s timeout.
   */
  static RetryPolicy retryPolicy() {
    return ExponentialBackoffRetry.newBuilder()
        .setBaseSleepTime(td(20))
        .setMaxSleepTime(td(200))
        .setMaxAttempts(60)
        .build();
  }

  static RaftClient newClient(RaftGroup group, RaftProperties props, RaftPeerId leaderHint) {
    return RaftClient.newBuilder().setRaftGroup(group).setProperties(props)
        .setLeaderId(leaderHint).setRetryPolicy(retryPolicy()).build();
  }

  public void start() throws IOException {
    server.start();
  }

  public RaftPeerId id() {
    return selfId;
  }

  public RaftGroupId groupId() {
    return group.getGroupId();
  }

  public RaftServer server() {
    return server;
  }

  /**
   * The Raft client of this manager, rebuilt when the group's configuration changed (a
   * recovering or joining server learns its peers only after start) or this server learned
   * of a different leader than the one the client was aimed at.
   */
  public RaftClient client() {
    List<RaftPeer> current = currentPeers();
    RaftPeerId leader = leaderId().orElse(null);
    synchronized (clientLock) {
      boolean peersChanged = !current.isEmpty() && !current.equals(clientPeers);
      boolean leaderChanged = leader != null && !leader.equals(clientLeader);
      if (client == null || peersChanged || leaderChanged) {
        RaftClient old = client;
        RaftPeerId hint = leader != null ? leader : selfId;
        client = newClient(RaftGroup.valueOf(group.getGroupId(), current), props, hint);
        clientPeers = current;
        clientLeader = hint;
        if (old != null) {
          // Let requests in flight on the old client finish before closing it.
          CompletableFuture.delayedExecutor(30, TimeUnit.SECONDS).execute(() -> closeQuietly(old));
        }
      }
      return client;
    }
  }

  private List<RaftPeer> currentPeers() {
    try {
      List<RaftPeer> peers = new ArrayList<>(division().getRaftConf().getCurrentPeers());
      peers.sort(java.util.Comparator.comparing(p -> p.getId().toString()));
      return peers.isEmpty() ? new ArrayList<>(group.getPeers()) : peers;
    } catch (IllegalStateException e) {
      return new ArrayList<>(group.getPeers());
    }
  }

  private static void closeQuietly(RaftClient c) {
    try {
      c.close();
    } catch (IOException e) {
      // closing a superseded client; nothing to do
    }
  }

  public BerthStateMachine stateMachine() {
    return stateMachine;
  }

  public RaftSettings settings() {
    return settings;
  }

  public RaftServer.Division division() {
    try {
      return server.getDivision(group.getGroupId());
    } catch (IOException e) {
      throw new IllegalStateException("Raft group " + group.getGroupId() + " not on this server", e);
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>While a proposal is in flight, a change of the leader this server knows re-sends it
   * along the new route (locally if this server now leads, else to the new leader): the
   * first send may be stuck on a leader that died, and Ratis' client only gives up on that
   * after an attempt timeout plus a blocking 3 s channel shutdown. The entry's request id
   * makes a second copy in the log apply once (the store's de-duplication table answers it
   * with the first outcome); the first acknowledgement wins.
   */
  @Override
  public CompletableFuture<ApplyResult> propose(LogEntry entry) {
    Message msg = Message.valueOf(UnsafeByteOperations.unsafeWrap(entry.toByteArray()));
    CompletableFuture<RaftClientReply> sent = new CompletableFuture<>();
    java.util.concurrent.atomic.AtomicInteger latest = new java.util.concurrent.atomic.AtomicInteger();
    send(msg, sent, latest, 0);
    return sent.handle((reply, error) -> {
      if (error != null) {
        return rejection(error).orElseThrow(() -> error instanceof CompletionException ce
            ? ce : new CompletionException(error));
      }
      return toResult(reply);
    });
  }

  private void send(Message msg, CompletableFuture<RaftClientReply> result,
      java.util.concurrent.atomic.AtomicInteger latest, int attempt) {
    RaftPeerId leaderAtSend = leaderId().orElse(null);
    CompletableFuture<RaftClientReply> sent;
    try {
      sent = isLeader() ? submitLocally(msg) : viaClient(msg);
    } catch (RuntimeException e) {
      sent = CompletableFuture.failedFuture(e);
    }
    sent.whenComplete((reply, error) -> {
      if (error == null) {
        result.complete(reply);
      } else if (latest.get() == attempt) {
        // only the newest attempt's failure counts; an older one was superseded
        result.completeExceptionally(error);
      }
    });
    if (attempt < MAX_RESENDS) {
      watchLeader(msg, result, latest, attempt, leaderAtSend, WATCH_TICKS);
    }
  }

  private void watchLeader(Message msg, CompletableFuture<RaftClientReply> result,
      java.util.concurrent.atomic.AtomicInteger latest, int attempt, RaftPeerId seen, int ticks) {
    if (result.isDone() || ticks == 0) {
      return;
    }
    try {
      leaderWatch.schedule(() -> {
        if (result.isDone()) {
          return;
        }
        RaftPeerId now = leaderId().orElse(null);
        if (now != null && !now.equals(seen) && latest.compareAndSet(attempt, attempt + 1)) {
          send(msg, result, latest, attempt + 1);
        } else {
          watchLeader(msg, result, latest, attempt, seen, ticks - 1);
        }
      }, WATCH_TICK_MS, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closing: the attempt in flight decides the outcome
    }
  }

  private CompletableFuture<RaftClientReply> viaClient(Message msg) {
    return client().async().send(msg);
  }

  /**
   * Submits to the local server. A reply saying it is not (or not yet) a ready leader means
   * the entry was not appended, so sending it again cannot apply it twice. A leader that is
   * not ready yet (its first entry of the term is not committed: tens of ms after an election)
   * is asked again every {@link #WATCH_TICK_MS}: through the client, the retry policy's
   * backoff (up to 200 ms) came on top of the failover time.
   */
  private CompletableFuture<RaftClientReply> submitLocally(Message msg) {
    return submitLocally(msg, NOT_READY_RETRIES);
  }

  private CompletableFuture<RaftClientReply> submitLocally(Message msg, int notReadyRetries) {
    RaftClientRequest request = RaftClientRequest.newBuilder()
        .setClientId(localClientId).setServerId(selfId).setGroupId(group.getGroupId())
        .setCallId(localCallIds.incrementAndGet()).setMessage(msg)
        .setType(RaftClientRequest.writeRequestType()).build();
    CompletableFuture<RaftClientReply> submitted;
    try {
      submitted = server.submitClientRequestAsync(request);
    } catch (IOException e) {
      return viaClient(msg);
    }
    return submitted.thenCompose(reply -> {
      if (reply.getLeaderNotReadyException() != null && notReadyRetries > 0 && isLeader()) {
        return CompletableFuture.supplyAsync(() -> null,
                CompletableFuture.delayedExecutor(WATCH_TICK_MS, TimeUnit.MILLISECONDS, leaderWatch))
            .thenCompose(x -> isLeader() ? submitLocally(msg, notReadyRetries - 1) : viaClient(msg));
      }
      return reply.getNotLeaderException() != null || reply.getLeaderNotReadyException() != null
          ? viaClient(msg) : CompletableFuture.completedFuture(reply);
    });
  }

  static ApplyResult toResult(RaftClientReply reply) {
    if (reply.isSuccess()) {
      try {
        return ApplyResult.parseFrom(reply.getMessage().getContent().asReadOnlyByteBuffer());
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        throw new CompletionException(e);
      }
    }
    Throwable ex = reply.getException();
    Optional<ApplyResult> rejected = rejection(ex);
    if (rejected.isPresent()) {
      return rejected.get();
    }
    throw new CompletionException(ex);
  }

  /** Recovers an early rejection by {@code startTransaction} from the exception chain. */
  static Optional<ApplyResult> rejection(Throwable ex) {
    for (Throwable t = ex; t != null; t = t.getCause()) {
      String m = t.getMessage();
      int at = m == null ? -1 : m.indexOf(BerthStateMachine.REJECT_MARK);
      if (t instanceof StateMachineException && at >= 0) {
        String rest = m.substring(at + BerthStateMachine.REJECT_MARK.length());
        int colon = rest.indexOf(':');
        return Optional.of(ApplyResult.newBuilder().setCode(rest.substring(0, colon))
            .setMessage(rest.substring(colon + 1)).build());
      }
    }
    return Optional.empty();
  }

  @Override
  public boolean isLeader() {
    try {
      return division().getInfo().isLeader();
    } catch (IllegalStateException e) {
      return false;
    }
  }

  public boolean isLeaderReady() {
    var info = division().getInfo();
    return info.isLeader() && info.isLeaderReady();
  }

  /** ReadIndex barrier: completes once this server has applied everything committed before the call. */
  public CompletableFuture<Long> readBarrier() {
    return client().async().sendReadOnly(Message.valueOf(BerthStateMachine.QUERY_INDEX), selfId)
        .thenApply(reply -> {
          if (!reply.isSuccess()) {
            throw new CompletionException(reply.getException());
          }
          ByteBuffer b = reply.getMessage().getContent().asReadOnlyByteBuffer();
          return b.getLong();
        });
  }

  public Optional<RaftPeerId> leaderId() {
    try {
      return Optional.ofNullable(division().getInfo().getLeaderId());
    } catch (IllegalStateException e) {
      return Optional.empty();
    }
  }

  public RaftPeerRole role() {
    return division().getInfo().getCurrentRole();
  }

  public long term() {
    return division().getInfo().getCurrentTerm();
  }

  public long commitIndex() {
    return division().getRaftLog().getLastCommittedIndex();
  }

  public long appliedIndex() {
    return division().getInfo().getLastAppliedIndex();
  }

  public Collection<RaftPeer> peers() {
    return new ArrayList<>(division().getRaftConf().getCurrentPeers());
  }

  /** Forces a snapshot now (tests; operators). */
  public long snapshotNow() throws IOException {
    var reply = client().getSnapshotManagementApi(selfId).create(true, 30_000);
    if (!reply.isSuccess()) {
      throw new IOException("snapshot failed: " + reply.getException());
    }
    return reply.getLogIndex();
  }

  @Override
  public void close() throws IOException {
    leaderWatch.shutdownNow();
    try {
      synchronized (clientLock) {
        if (client != null) {
          client.close();
        }
      }
    } finally {
      server.close();
    }
  }
}
