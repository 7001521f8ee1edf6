package dev.berth.testkit;

import dev.berth.internal.v1.ApplyResult;
import dev.berth.internal.v1.LogEntry;
import dev.berth.manager.store.ClusterStore;
import dev.berth.manager.store.Proposer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A single-process stand-in for the Raft group, for in-process tests: entries are applied to
 * one real {@link ClusterStore} in submission order on one apply thread (so store listeners run
 * there, as under Ratis). Several "managers" can share it, each with its own {@link Proposer}
 * whose {@code isLeader()} follows {@link #setLeader}; any of them may propose, as a Raft client
 * forwarding to the leader would.
 *
 * <p>Thread model: thread-safe. Error contract: proposals complete with the applier's result;
 * after {@link #close()} they fail.
 */
public final class LocalLog implements AutoCloseable {
  private final ClusterStore store = new ClusterStore();
  private final AtomicLong index = new AtomicLong();
  private final ExecutorService applier = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "berth-local-apply");
    t.setDaemon(true);
    return t;
  });
  private volatile String leader = "";

  public ClusterStore store() {
    return store;
  }

  public void setLeader(String manager) {
    leader = manager;
  }

  public String leader() {
    return leader;
  }

  /** The proposer as seen from the named manager. */
  public Proposer proposer(String manager) {
    return new Proposer() {
      @Override
      public CompletableFuture<ApplyResult> propose(LogEntry entry) {
        return CompletableFuture.supplyAsync(
            () -> store.apply(entry, index.incrementAndGet()).result(), applier);
      }

      @Override
      public boolean isLeader() {
        return manager.equals(leader);
      }
    };
  }

  @Override
  public void close() {
    applier.shutdownNow();
  }
}
