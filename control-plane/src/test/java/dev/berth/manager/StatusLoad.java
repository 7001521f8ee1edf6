package dev.berth.manager;

import dev.berth.api.v1.ContainerStatus;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import dev.berth.internal.v1.ApplyResult;
import dev.berth.internal.v1.LogEntry;
import dev.berth.internal.v1.TaskStatusChange;
import dev.berth.manager.dispatcher.DispatcherConfig;
import dev.berth.manager.dispatcher.StatusBatcher;
import dev.berth.manager.store.Proposer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;

/**
 * Benchmark phase (part of {@link ControlPlaneBench}): task-status reports offered at a fixed
 * rate (open loop, as agents report whatever the cluster's clock brings) through the
 * dispatcher's own {@link StatusBatcher} with its default window, size and in-flight limits, so
 * the entry size is what the batcher makes of the offered load. Latency is reported per log entry,
 * from its proposal to its applied result, and per update, from the moment the load offered it
 * to the batcher to its entry's applied result (so it includes the batch window and any wait for
 * an in-flight slot).
 */
final class StatusLoad {
  private StatusLoad() {}

  /**
   * Offers the load; with {@code berth.bench.warmupSeconds} W > 0 it first offers W seconds of
   * the same load unmeasured (JIT compilation and heap sizing of long-running managers, as JMH's
   * warm-up iterations), and reports that window (cold) and the measured one apart. After the
   * four state rounds the load continues with health changes of the RUNNING tasks (each a real
   * update of the task, through the same apply path). With {@code warmup} tasks the warm-up
   * offers that load for them, and the measured window is then nothing but the four state
   * rounds of the {@code measured} tasks (ACCEPTED through RUNNING). Each report comes from the
   * node the task is assigned to, batched per node as the dispatcher batches a session's.
   * {@code berth.bench.trace=true} writes
   * every entry (send time, latency, changes) to {@code <benchDir>/status-trace.csv}.
   */
  static void run(RaftClient client, List<Task> measured, List<Task> warmup, long ts, int ratePerSec, Path benchDir,
      String leader)
      throws Exception {
    ConcurrentLinkedQueue<long[]> entries = new ConcurrentLinkedQueue<>(); // {send ns, latency ns, changes, epoch us, seq}
    java.util.concurrent.atomic.AtomicLong seqs = new java.util.concurrent.atomic.AtomicLong();
    List<long[]> offers = new ArrayList<>(); // {sent count after the offer, offer ns}
    long t0 = System.nanoTime();
    Proposer proposer = new Proposer() {
      @Override
      public CompletableFuture<ApplyResult> propose(LogEntry e) {
        long s = System.nanoTime();
        Instant wall = Instant.now();
        int changes = e.getCommandsList().stream().mapToInt(c -> c.getReportTaskStatus().getChangesCount()).sum();
        long seq = seqs.getAndIncrement(); // the batcher proposes in flush order, one flush at a time
        return send(client, e).whenComplete((r, err) -> entries.add(new long[] {s - t0, System.nanoTime() - s, changes,
            wall.getEpochSecond() * 1_000_000L + wall.getNano() / 1_000, seq}));
      }

      @Override
      public boolean isLeader() {
        return true;
      }
    };
    ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
    DispatcherConfig d = DispatcherConfig.defaults();
    // the dispatcher's defaults unless a trade-off is being measured (berth.bench.batch*)
    d = new DispatcherConfig(d.heartbeatPeriodMs(), d.missedHeartbeats(),
        Integer.getInteger("berth.bench.batchMaxChanges", d.batchMaxChanges()),
        Long.getLong("berth.bench.batchMaxDelayMs", d.batchMaxDelayMs()),
        Integer.getInteger("berth.bench.batchMaxInFlight", d.batchMaxInFlight()), d.proposeTimeoutMs());
    StatusBatcher batcher = new StatusBatcher(proposer, Clock.systemUTC(), executor, d.batchMaxChanges(),
        d.batchMaxDelayMs(), d.batchMaxInFlight());
    TaskState[] states = {TaskState.ACCEPTED, TaskState.PREPARING, TaskState.STARTING, TaskState.RUNNING};
    long warmupNanos = TimeUnit.SECONDS.toNanos(Integer.getInteger("berth.bench.warmupSeconds", 0));
    long warmupUpdates = warmupNanos / 1_000_000_000L * ratePerSec;
    long total = (long) states.length * measured.size() + warmupUpdates;
    long sent = 0;
    try {
      while (sent < total) {
        long now = System.nanoTime() - t0;
        long due = Math.min(total, now * ratePerSec / 1_000_000_000L);
        Map<String, List<TaskStatusChange>> byNode = new LinkedHashMap<>();
        for (; sent < due; sent++) {
          // The warm-up walks the warm-up tasks (if any), then the measured window walks the
          // measured ones from ACCEPTED; without them the warm-up takes the first state rounds.
          boolean extra = !warmup.isEmpty() && sent < warmupUpdates;
          long k = !warmup.isEmpty() && !extra ? sent - warmupUpdates : sent;
          List<Task> walked = extra ? warmup : measured;
          Task task = walked.get((int) (k % walked.size()));
          int round = (int) (k / walked.size());
          TaskStatus.Builder status = TaskStatus.newBuilder().setTimestampMs(ts);
          if (round < states.length) {
            status.setState(states[round]);
          } else { // RUNNING already: flip its health
            status.setState(TaskState.RUNNING).setContainer(ContainerStatus.newBuilder()
                .setHealth(round % 2 == 0 ? "healthy" : "unhealthy"));
          }
          byNode.computeIfAbsent(task.getNodeId(), n -> new ArrayList<>())
              .add(TaskStatusChange.newBuilder().setTaskId(task.getMeta().getId()).setStatus(status).build());
        }
        if (!byNode.isEmpty()) {
          offers.add(new long[] {sent, System.nanoTime() - t0});
        }
        byNode.forEach(batcher::submit);
        Thread.sleep(1);
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (batcher.committedChanges() + batcher.droppedChanges() < total && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
    } finally {
      executor.shutdownNow();
    }
    long end = System.nanoTime() - t0;
    // wall-clock bounds of the windows, to line up per-process CPU samples and recordings
    long wall0 = System.currentTimeMillis() - end / 1_000_000;
    System.out.printf("status load wall clock (epoch ms): start %d, measured from %d, end %d%n",
        wall0, wall0 + warmupNanos / 1_000_000, wall0 + end / 1_000_000);
    System.out.printf("status reports offered at %d/s through the dispatcher's StatusBatcher (window %d ms, max %d changes,"
        + " %d in flight): %d committed, %d dropped in %.2f s%n", ratePerSec, d.batchMaxDelayMs(), d.batchMaxChanges(),
        d.batchMaxInFlight(), batcher.committedChanges(), batcher.droppedChanges(), end / 1e9);
    List<long[]> all = new ArrayList<>(entries);
    all.sort(java.util.Comparator.comparingLong(e -> e[0]));
    if (warmupNanos > 0) {
      report("warm-up (cold managers, unmeasured)", all.stream().filter(e -> e[0] < warmupNanos).toList(), 0, warmupNanos);
    }
    report(warmupNanos > 0 ? "measured window (after warm-up)" : "whole load",
        all.stream().filter(e -> e[0] >= warmupNanos).toList(), warmupNanos, end);
    perUpdate(offers, all, warmupNanos, batcher.droppedChanges());
    if (Boolean.getBoolean("berth.bench.trace")) {
      Path trace = benchDir.resolve("status-trace.csv");
      try (var w = Files.newBufferedWriter(trace)) {
        w.write("# leader " + leader + "\n# send_epoch_us,latency_us,changes,send_offset_ms\n");
        for (long[] e : all) {
          w.write(e[3] + "," + e[1] / 1_000 + "," + e[2] + "," + e[0] / 1_000_000 + "\n");
        }
      }
      System.out.println("per-entry trace: " + trace);
    }
  }

  private static void report(String what, List<long[]> window, long fromNanos, long toNanos) {
    long[] lat = window.stream().mapToLong(e -> e[1]).sorted().toArray();
    long changes = window.stream().mapToLong(e -> e[2]).sum();
    int n = lat.length;
    if (n == 0) {
      System.out.println(what + ": no entries");
      return;
    }
    double secs = (toNanos - fromNanos) / 1e9;
    System.out.printf("  %s: %d changes in %.2f s = %.0f updates/s; %d entries (%.0f changes/entry);"
        + " commit latency per entry p50 %.1f ms, p99 %.1f ms, max %.1f ms; %d entries > 50 ms%n",
        what, changes, secs, changes / secs, n, (double) changes / n, lat[n / 2] / 1e6,
        lat[Math.min(n - 1, n * 99 / 100)] / 1e6, lat[n - 1] / 1e6,
        java.util.Arrays.stream(lat).filter(l -> l > 50_000_000L).count());
  }

  /**
   * Latency per update, offer → its entry applied, in the measured window. Entries take the
   * batcher's pending changes in offer order (a flush takes all of them), so the k-th proposed
   * entry holds the updates offered after the first k-1 entries' changes; within one offer
   * (1 ms of load) a flush may split the nodes, which at worst credits a few updates with the
   * neighbouring entry's result. Skipped when a change was dropped or re-proposed after a split.
   */
  private static void perUpdate(List<long[]> offers, List<long[]> entries, long fromNanos, long dropped) {
    List<long[]> bySeq = new ArrayList<>(entries);
    bySeq.sort(java.util.Comparator.comparingLong(e -> e[4]));
    long offered = offers.isEmpty() ? 0 : offers.get(offers.size() - 1)[0];
    if (dropped > 0 || bySeq.isEmpty() || bySeq.size() != bySeq.get(bySeq.size() - 1)[4] + 1
        || bySeq.stream().mapToLong(x -> x[2]).sum() != offered) {
      System.out.println("  per update: not computed (changes dropped or entries split)");
      return;
    }
    List<long[]> segments = new ArrayList<>(); // {updates, latency ns}
    int e = 0;
    long entryEnd = bySeq.get(0)[2];
    long from = 0;
    for (long[] offer : offers) {
      while (from < offer[0]) {
        while (from >= entryEnd) {
          entryEnd += bySeq.get(++e)[2];
        }
        long upto = Math.min(offer[0], entryEnd);
        long[] entry = bySeq.get(e);
        if (offer[1] >= fromNanos) {
          segments.add(new long[] {upto - from, entry[0] + entry[1] - offer[1]});
        }
        from = upto;
      }
    }
    segments.sort(java.util.Comparator.comparingLong(x -> x[1]));
    long total = segments.stream().mapToLong(x -> x[0]).sum();
    long p50 = 0;
    long p99 = 0;
    long seen = 0;
    for (long[] x : segments) {
      seen += x[0];
      if (p50 == 0 && seen >= total / 2) {
        p50 = x[1];
      }
      if (p99 == 0 && seen >= total * 99 / 100) {
        p99 = x[1];
      }
    }
    System.out.printf("  per update (offered → its entry applied, incl. batching), %s: %d updates; p50 %.1f ms,"
        + " p99 %.1f ms, max %.1f ms%n", fromNanos > 0 ? "measured window" : "whole load", total, p50 / 1e6,
        p99 / 1e6, segments.get(segments.size() - 1)[1] / 1e6);
  }

  private static CompletableFuture<ApplyResult> send(RaftClient client, LogEntry e) {
    return client.async().send(Message.valueOf(UnsafeByteOperations.unsafeWrap(e.toByteArray())))
        .thenApply(reply -> {
          try {
            return ApplyResult.parseFrom(reply.getMessage().getContent().asReadOnlyByteBuffer());
          } catch (com.google.protobuf.InvalidProtocolBufferException x) {
            throw new IllegalStateException(x);
          }
        });
  }
}
