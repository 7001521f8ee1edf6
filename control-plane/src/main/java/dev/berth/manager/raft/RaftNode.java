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
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.Message;
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
 * built on them.
 *
 * <p>Writes go through a {@link ProposalRouter}: into the local server while it leads, else
 * straight to the leader this server knows, re-sent along the newest route until one
 * answers; Ratis' retry cache de-duplicates repeats to one server, and the store's
 * request-id table those to another. The Raft client (re-aimed at the leader this server
 * knows whenever that changes) serves ReadIndex reads and admin calls. Linearizable reads use
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
  /** A proposal still unanswered after this long fails (the API waits 30 s). */
  static final long PROPOSE_DEADLINE_MS = 20_000;
  private final ServerView view;
  private final ProposalRouter router;
  private final LeaderLossWatch leaderLoss;
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
    this.view = new ServerView(server, group);
    this.router = new ProposalRouter(this.selfId, groupId, server, props, view, PROPOSE_DEADLINE_MS);
    this.leaderLoss = new LeaderLossWatch(this.selfId, groupId, server, view);
  }

  static RaftProperties properties(RaftSettings s) {
    RaftProperties p = new RaftProperties();
    GrpcConfigKeys.Server.setHost(p, s.host());
    GrpcConfigKeys.Server.setPort(p, s.port());
    RaftServerConfigKeys.setStorageDir(p, List.of(s.storageDir().toFile()));
    RaftServerConfigKeys.Rpc.setTimeoutMin(p, td(s.electionMin().toMillis()));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, td(s.electionMax().toMillis()));
    RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMin(p, td(s.firstElectionMin().toMillis()));
    RaftServerConfigKeys.Rpc.setFirstElectionTimeoutMax(p, td(2 * s.firstElectionMin().toMillis()));
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
    leaderLoss.start();
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
    List<RaftPeer> current = view.voters();
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
    return view.division();
  }

  /**
   * {@inheritDoc}
   *
   * <p>Routed by {@link ProposalRouter}: locally while this server leads, else straight to the
   * leader it knows, again along the newest route after a leader change.
   */
  @Override
  public CompletableFuture<ApplyResult> propose(LogEntry entry) {
    Message msg = Message.valueOf(UnsafeByteOperations.unsafeWrap(entry.toByteArray()));
    return router.submit(msg).handle((reply, error) -> {
      if (error != null) {
        return rejection(error).orElseThrow(() -> error instanceof CompletionException ce
            ? ce : new CompletionException(error));
      }
      return toResult(reply);
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
    return view.leader();
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
    router.close();
    leaderLoss.close();
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
