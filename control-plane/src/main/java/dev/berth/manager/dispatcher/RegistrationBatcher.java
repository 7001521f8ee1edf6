package dev.berth.manager.dispatcher;

import dev.berth.internal.v1.ApplyResult;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.LogEntry;
import dev.berth.internal.v1.RegisterNodes;
import dev.berth.manager.store.Proposer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Coalesces concurrent node registrations into few log entries (one {@link RegisterNodes}
 * command each), by group commit: a registration arriving while no batch is in flight is
 * proposed at once; those arriving while one is in flight wait for it and then go together,
 * at most {@code maxItems} per entry. So a lone agent joins with one commit's latency, and a
 * thousand agents joining at once take a handful of entries instead of a thousand.
 *
 * <p>Each registration applies on its own inside the entry ({@link RegisterNodes}); the
 * future of {@link #submit} completes with the entry's result once it is applied on this
 * manager, or exceptionally if it was not committed. The caller reads the store for its
 * own registration's outcome.
 *
 * <p>Thread model: {@link #submit} is thread-safe and never blocks; proposals are sent from
 * the submitting thread or the thread that completes the previous proposal.
 */
public final class RegistrationBatcher {
  private record Waiting(RegisterNodes.Item item, CompletableFuture<ApplyResult> done) {}

  private final Proposer proposer;
  private final Clock clock;
  private final int maxItems;
  private final List<Waiting> queue = new ArrayList<>();
  private boolean inFlight;
  private long entries;

  public RegistrationBatcher(Proposer proposer, Clock clock, int maxItems) {
    if (maxItems < 1) {
      throw new IllegalArgumentException("maxItems must be >= 1");
    }
    this.proposer = proposer;
    this.clock = clock;
    this.maxItems = maxItems;
  }

  public CompletableFuture<ApplyResult> submit(RegisterNodes.Item item) {
    CompletableFuture<ApplyResult> done = new CompletableFuture<>();
    synchronized (this) {
      queue.add(new Waiting(item, done));
    }
    proposeNext();
    return done;
  }

  /** Log entries proposed so far (tests, benchmarks). */
  public synchronized long proposedEntries() {
    return entries;
  }

  private void proposeNext() {
    List<Waiting> batch;
    synchronized (this) {
      if (inFlight || queue.isEmpty()) {
        return;
      }
      int n = Math.min(maxItems, queue.size());
      batch = new ArrayList<>(queue.subList(0, n));
      queue.subList(0, n).clear();
      inFlight = true;
      entries++;
    }
    RegisterNodes.Builder cmd = RegisterNodes.newBuilder();
    batch.forEach(w -> cmd.addItems(w.item()));
    LogEntry entry = LogEntry.newBuilder().setTimestampMs(clock.millis())
        .addCommands(Command.newBuilder().setRegisterNodes(cmd)).build();
    CompletableFuture<ApplyResult> sent;
    try {
      sent = proposer.propose(entry);
    } catch (RuntimeException e) {
      sent = CompletableFuture.failedFuture(e);
    }
    sent.whenComplete((result, error) -> {
      synchronized (this) {
        inFlight = false;
      }
      for (Waiting w : batch) {
        if (error != null) {
          w.done().completeExceptionally(error);
        } else {
          w.done().complete(result);
        }
      }
      proposeNext();
    });
  }
}
