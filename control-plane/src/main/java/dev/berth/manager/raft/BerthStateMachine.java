package dev.berth.manager.raft;

import dev.berth.internal.v1.ApplyResult;
import dev.berth.internal.v1.LogEntry;
import dev.berth.internal.v1.StoreSnapshot;
import dev.berth.manager.DaemonThreads;
import dev.berth.manager.store.Applier;
import dev.berth.manager.store.ApplyException;
import dev.berth.manager.store.ClusterStore;
import dev.berth.manager.store.SpecValidator;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.Collection;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.LongConsumer;
import org.apache.ratis.io.MD5Hash;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ratis state machine over the {@link ClusterStore}.
 *
 * <p>{@code startTransaction} (leader only) rejects obviously bad entries early (unparsable,
 * no commands, bad request id, oversized); {@code applyTransaction} re-checks everything
 * through the deterministic {@link Applier} and replies with its {@link ApplyResult}.
 * Snapshots are the serialized store plus its TermIndex, captured under the store's read
 * lock and written outside it, automatic ones on a background thread ({@link SnapshotWriter}).
 * Leader changes are reported on a separate thread so
 * callbacks never stall Raft.
 *
 * <p>Thread model: Ratis calls apply serially on its state-machine updater thread.
 */
public final class BerthStateMachine extends BaseStateMachine {
  /** Marker prefixing early rejections so the proposer can recover code and message. */
  /** Largest log entry: room for one maximal spec plus the rest of a command. */
  public static final int MAX_ENTRY_BYTES = 2 * SpecValidator.MAX_SPEC_BYTES;
  static final String REJECT_MARK = "BERTH-REJECT:";
  /** Query answered with the applied index (8 bytes, big-endian). */
  static final ByteString QUERY_INDEX = ByteString.copyFromUtf8("index");
  private static final Logger LOG = LoggerFactory.getLogger(BerthStateMachine.class);

  /** Leadership callbacks, run on a dedicated thread in event order. */
  public interface LeaderListener {
    void onLeaderStart(long term);

    void onLeaderStop();

    default void onLeaderChanged(RaftPeerId leader) {}
  }

  private final ClusterStore store;
  private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
  private final LongConsumer applyNanos;
  private final LeaderListener leaderListener;
  private final ExecutorService events =
      Executors.newSingleThreadExecutor(DaemonThreads.named("berth-leader-events"));
  private volatile boolean leading;
  /** Set in {@link #initialize} (it needs the server's snapshot threshold). */
  private SnapshotWriter snapshots;

  public BerthStateMachine(ClusterStore store, LongConsumer applyNanos, LeaderListener leaderListener) {
    this.store = store;
    this.applyNanos = applyNanos;
    this.leaderListener = leaderListener;
  }

  public ClusterStore store() {
    return store;
  }

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage)
      throws IOException {
    super.initialize(server, groupId, raftStorage);
    storage.init(raftStorage);
    snapshots = new SnapshotWriter(
        RaftServerConfigKeys.Snapshot.autoTriggerThreshold(server.getProperties()));
    getLifeCycle().startAndTransition(() -> load(storage.loadLatestSnapshot()));
  }

  /** Ratis pauses the state machine before installing a snapshot from the leader. */
  @Override
  public void pause() {
    if (getLifeCycle().getCurrentState() == LifeCycle.State.RUNNING) {
      getLifeCycle().transition(LifeCycle.State.PAUSING);
      getLifeCycle().transition(LifeCycle.State.PAUSED);
    }
  }

  /** Reloads from the newest snapshot (after a snapshot was installed from the leader). */
  @Override
  public void reinitialize() throws IOException {
    load(storage.loadLatestSnapshot());
    if (getLifeCycle().getCurrentState() == LifeCycle.State.PAUSED) {
      getLifeCycle().transition(LifeCycle.State.STARTING);
      getLifeCycle().transition(LifeCycle.State.RUNNING);
    }
  }

  private void load(SingleFileSnapshotInfo snapshot) throws IOException {
    if (snapshot == null) {
      return;
    }
    File file = snapshot.getFile().getPath().toFile();
    MD5Hash expected = snapshot.getFile().getFileDigest();
    if (expected != null && !expected.equals(MD5FileUtil.computeMd5ForFile(file))) {
      throw new IOException("snapshot " + file + " is corrupt (MD5 mismatch)");
    }
    StoreSnapshot s;
    try (InputStream in = Files.newInputStream(file.toPath())) {
      s = StoreSnapshot.parseFrom(in);
    }
    store.restore(s.toBuilder().setIndex(snapshot.getIndex()).build());
    setLastAppliedTermIndex(snapshot.getTermIndex());
    LOG.info("restored store from snapshot {} ({} bytes)", snapshot.getTermIndex(), file.length());
  }

  @Override
  public StateMachineStorage getStateMachineStorage() {
    return storage;
  }

  @Override
  public SingleFileSnapshotInfo getLatestSnapshot() {
    return storage.getLatestSnapshot();
  }

  @Override
  public long takeSnapshot() throws IOException {
    TermIndex applied = getLastAppliedTermIndex();
    return snapshots.take(snapshotTarget, applied == null ? -1 : applied.getIndex());
  }

  /**
   * A capture of the store (read under its lock) with the term and index it covers; the message
   * is built by {@link SnapshotWriter.Target#write}, off the apply thread for automatic snapshots.
   */
  private record Capture(ClusterStore.Snapshot<TermIndex> store) {
    TermIndex termIndex() {
      return store.alongside();
    }
  }

  private final SnapshotWriter.Target<Capture> snapshotTarget = new SnapshotWriter.Target<>() {
    @Override
    public long durableIndex() {
      SingleFileSnapshotInfo latest = storage.getLatestSnapshot();
      return latest == null ? -1 : latest.getIndex();
    }

    @Override
    public Capture capture() {
      ClusterStore.Snapshot<TermIndex> snap = store.snapshot(BerthStateMachine.this::getLastAppliedTermIndex);
      TermIndex ti = snap.alongside();
      return ti == null || ti.getIndex() < 0 ? null : new Capture(snap);
    }

    @Override
    public long index(Capture c) {
      return c.termIndex().getIndex();
    }

    @Override
    public void write(Capture c) throws IOException {
      SnapshotEvent event = new SnapshotEvent();
      event.begin();
      TermIndex ti = c.termIndex();
      File file = storage.getSnapshotFile(ti.getTerm(), ti.getIndex());
      File tmp = new File(file.getParentFile(), file.getName() + ".tmp");
      try (OutputStream out = Files.newOutputStream(tmp.toPath())) {
        c.store().snapshot().toBuilder().setIndex(ti.getIndex()).build().writeTo(out);
      }
      Files.move(tmp.toPath(), file.toPath(), StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
      MD5Hash md5 = MD5FileUtil.computeAndSaveMd5ForFile(file);
      storage.updateLatestSnapshot(new SingleFileSnapshotInfo(new FileInfo(file.toPath(), md5), ti));
      LOG.info("took snapshot {} ({} bytes)", ti, file.length());
      event.end();
      if (event.shouldCommit()) {
        event.index = ti.getIndex();
        event.bytes = file.length();
        event.commit();
      }
    }
  };

  @Override
  public TransactionContext startTransaction(RaftClientRequest request) throws IOException {
    TransactionContext trx = super.startTransaction(request);
    ByteString data = request.getMessage().getContent();
    try {
      LogEntry entry = LogEntry.parseFrom(data.asReadOnlyByteBuffer());
      if (entry.getCommandsCount() == 0) {
        throw ApplyException.invalid("commands: an entry needs at least one command");
      }
      SpecValidator.validateRequestId(entry.getRequestId());
      if (data.size() > MAX_ENTRY_BYTES) {
        throw ApplyException.invalid("entry: " + data.size() + " bytes exceeds the limit of "
            + MAX_ENTRY_BYTES + " bytes");
      }
      trx.setStateMachineContext(entry);
    } catch (ApplyException e) {
      trx.setException(new StateMachineException(REJECT_MARK + e.code() + ":" + e.getMessage()));
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      trx.setException(new StateMachineException(
          REJECT_MARK + "INVALID_ARGUMENT:entry: not a berth LogEntry (" + e.getMessage() + ")"));
    }
    return trx;
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    long start = System.nanoTime();
    var logEntry = trx.getLogEntry();
    long index = logEntry.getIndex();
    LogEntry entry;
    Object ctx = trx.getStateMachineContext();
    if (ctx instanceof LogEntry parsed) {
      entry = parsed;
    } else {
      try {
        entry = LogEntry.parseFrom(
            logEntry.getStateMachineLogEntry().getLogData().asReadOnlyByteBuffer());
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        // Cannot happen for entries that passed startTransaction; apply as a no-op
        // rejection so every replica still advances identically.
        entry = LogEntry.getDefaultInstance();
      }
    }
    TermIndex ti = TermIndex.valueOf(logEntry);
    Applier.Outcome out = store.apply(entry, index, () -> updateLastAppliedTermIndex(ti));
    applyNanos.accept(System.nanoTime() - start);
    return CompletableFuture.completedFuture(
        Message.valueOf(UnsafeByteOperations.unsafeWrap(out.result().toByteArray())));
  }

  @Override
  public void notifyTermIndexUpdated(long term, long index) {
    super.notifyTermIndexUpdated(term, index);
    store.advanceIndex(index);
  }

  @Override
  public CompletableFuture<Message> query(Message request) {
    ByteBuffer buf = ByteBuffer.allocate(8).putLong(0, store.index());
    return CompletableFuture.completedFuture(Message.valueOf(ByteString.copyFrom(buf)));
  }

  @Override
  public void notifyLeaderChanged(RaftGroupMemberId member, RaftPeerId leader) {
    boolean nowLeading = leader != null && leader.equals(member.getPeerId());
    events.execute(() -> {
      leaderListener.onLeaderChanged(leader);
      if (leading && !nowLeading) {
        leading = false;
        leaderListener.onLeaderStop();
      }
    });
  }

  @Override
  public void notifyNotLeader(Collection<TransactionContext> pending) {
    events.execute(() -> {
      if (leading) {
        leading = false;
        leaderListener.onLeaderStop();
      }
    });
  }

  @Override
  public void notifyLeaderReady() {
    long term;
    try {
      term = getServer().join().getDivision(getGroupId()).getInfo().getCurrentTerm();
    } catch (IOException e) {
      term = -1;
    }
    long startedTerm = term;
    events.execute(() -> {
      if (!leading) {
        leading = true;
        leaderListener.onLeaderStart(startedTerm);
      }
    });
  }

  @Override
  public void close() throws IOException {
    events.shutdownNow();
    if (snapshots != null) {
      snapshots.close();
    }
    super.close();
  }
}
