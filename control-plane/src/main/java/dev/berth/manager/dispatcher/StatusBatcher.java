package dev.berth.manager.dispatcher;

import dev.berth.internal.v1.ApplyResult;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.LogEntry;
import dev.berth.internal.v1.ReportTaskStatus;
import dev.berth.internal.v1.TaskStatusChange;
import dev.berth.manager.store.Proposer;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Batches agents' task status reports into few log entries: one entry holds a {@link
 * ReportTaskStatus} per reporting node, and is flushed when {@code maxChanges} are waiting or
 * {@code maxDelayMs} after the first one arrived. At most {@code maxInFlight} entries are
 * uncommitted at a time; while they are, reports keep accumulating into the next (bigger)
 * batch. This is how thousands of status updates per second fit through Raft, whose cost is
 * per entry rather than per byte.
 *
 * <p>An entry applies all-or-nothing, so a change that became invalid between the
 * dispatcher's check and apply (e.g. the manager orphaned the task meanwhile) would sink the
 * whole batch: a rejected entry is split and re-proposed (per node, then per change) so only
 * the invalid change is dropped.
 *
 * <p>Thread model: {@link #submit} is thread-safe and never blocks on Raft; flushing runs on
 * the given single-threaded executor. Error contract: reports are best-effort — the agent
 * re-reports its state on its next session, so a lost batch (leader change) is recovered.
 */
public final class StatusBatcher {
  private static final System.Logger LOG = System.getLogger(StatusBatcher.class.getName());

  private final Proposer proposer;
  private final Clock clock;
  private final ScheduledExecutorService executor;
  private final int maxChanges;
  private final long maxDelayMs;
  private final Semaphore inFlight;
  private final AtomicLong committed = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong entries = new AtomicLong();
  private Map<String, List<TaskStatusChange>> pending = new LinkedHashMap<>();
  private int pendingCount;
  private boolean flushScheduled;

  public StatusBatcher(Proposer proposer, Clock clock, ScheduledExecutorService executor,
      int maxChanges, long maxDelayMs, int maxInFlight) {
    this.proposer = proposer;
    this.clock = clock;
    this.executor = executor;
    this.maxChanges = maxChanges;
    this.maxDelayMs = maxDelayMs;
    this.inFlight = new Semaphore(maxInFlight);
  }

  public void submit(String nodeId, List<TaskStatusChange> changes) {
    if (changes.isEmpty()) {
      return;
    }
    boolean now;
    boolean later;
    synchronized (this) {
      pending.computeIfAbsent(nodeId, n -> new ArrayList<>()).addAll(changes);
      pendingCount += changes.size();
      now = pendingCount >= maxChanges;
      later = !now && !flushScheduled;
      if (now || later) {
        flushScheduled = true;
      }
    }
    if (now) {
      executor.execute(this::flush);
    } else if (later) {
      executor.schedule(this::flush, maxDelayMs, TimeUnit.MILLISECONDS);
    }
  }

  /** Status changes committed so far (for tests and metrics). */
  public long committedChanges() {
    return committed.get();
  }

  /** Changes the store refused (stale by the time they applied). */
  public long droppedChanges() {
    return dropped.get();
  }

  /** Log entries proposed so far. */
  public long proposedEntries() {
    return entries.get();
  }

  private void flush() {
    Map<String, List<TaskStatusChange>> batch;
    synchronized (this) {
      flushScheduled = false;
      if (pendingCount == 0) {
        return;
      }
      batch = pending;
      pending = new LinkedHashMap<>();
      pendingCount = 0;
    }
    List<Command> commands = new ArrayList<>(batch.size());
    batch.forEach((node, changes) -> commands.add(Command.newBuilder().setReportTaskStatus(
        ReportTaskStatus.newBuilder().setNodeId(node).addAllChanges(changes)).build()));
    try {
      inFlight.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    propose(commands).whenComplete((ok, error) -> inFlight.release());
  }

  /** Proposes the commands as one entry; on rejection splits them and tries the parts. */
  private CompletableFuture<Void> propose(List<Command> commands) {
    entries.incrementAndGet();
    LogEntry entry = LogEntry.newBuilder().setTimestampMs(clock.millis()).addAllCommands(commands).build();
    return proposer.propose(entry).handle((ApplyResult result, Throwable error) -> {
      int changes = commands.stream().mapToInt(c -> c.getReportTaskStatus().getChangesCount()).sum();
      if (error != null) {
        LOG.log(Level.DEBUG, "status batch of {0} changes not committed: {1}", changes, error.toString());
        dropped.addAndGet(changes);
        return CompletableFuture.<Void>completedFuture(null);
      }
      if ("OK".equals(result.getCode())) {
        committed.addAndGet(changes);
        return CompletableFuture.<Void>completedFuture(null);
      }
      List<List<Command>> parts = split(commands);
      if (parts.isEmpty()) {
        LOG.log(Level.DEBUG, "status change refused: {0}", result.getMessage());
        dropped.addAndGet(changes);
        return CompletableFuture.<Void>completedFuture(null);
      }
      return CompletableFuture.allOf(parts.stream().map(this::propose).toArray(CompletableFuture[]::new));
    }).thenCompose(f -> f);
  }

  /** Per command when there are several, else per change; empty for a single change. */
  private static List<List<Command>> split(List<Command> commands) {
    List<List<Command>> parts = new ArrayList<>();
    if (commands.size() > 1) {
      for (Command command : commands) {
        parts.add(List.of(command));
      }
      return parts;
    }
    ReportTaskStatus report = commands.get(0).getReportTaskStatus();
    if (report.getChangesCount() > 1) {
      for (TaskStatusChange change : report.getChangesList()) {
        parts.add(List.of(Command.newBuilder().setReportTaskStatus(
            ReportTaskStatus.newBuilder().setNodeId(report.getNodeId()).addChanges(change)).build()));
      }
    }
    return parts;
  }
}
