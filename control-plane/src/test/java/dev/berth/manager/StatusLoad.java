package dev.berth.manager;

import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import dev.berth.internal.v1.ApplyResult;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.LogEntry;
import dev.berth.internal.v1.SetNodeStatus;
import dev.berth.internal.v1.TaskStatusChange;
import dev.berth.manager.dispatcher.DispatcherConfig;
import dev.berth.manager.dispatcher.StatusBatcher;
import dev.berth.manager.store.Proposer;
import java.time.Clock;
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
 * the entry size is what the batcher makes of the offered load. Latency is per log entry, from
 * its proposal to its applied result.
 */
final class StatusLoad {
  private StatusLoad() {}

  static void run(RaftClient client, int tasks, int nodes, long ts, int ratePerSec) throws Exception {
    ConcurrentLinkedQueue<long[]> entries = new ConcurrentLinkedQueue<>(); // {latency ns, changes}
    Proposer proposer = new Proposer() {
      @Override
      public CompletableFuture<ApplyResult> propose(LogEntry e) {
        long s = System.nanoTime();
        int changes = e.getCommandsList().stream().mapToInt(c -> c.getReportTaskStatus().getChangesCount()).sum();
        return send(client, e).whenComplete((r, err) -> entries.add(new long[] {System.nanoTime() - s, changes}));
      }

      @Override
      public boolean isLeader() {
        return true;
      }
    };
    ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
    DispatcherConfig d = DispatcherConfig.defaults();
    StatusBatcher batcher = new StatusBatcher(proposer, Clock.systemUTC(), executor, d.batchMaxChanges(),
        d.batchMaxDelayMs(), d.batchMaxInFlight());
    TaskState[] states = {TaskState.ACCEPTED, TaskState.PREPARING, TaskState.STARTING, TaskState.RUNNING};
    long total = (long) states.length * tasks;
    long sent = 0;
    long t0 = System.nanoTime();
    long nextKeep = 0;
    try {
      while (sent < total) {
        long now = System.nanoTime() - t0;
        if (now >= nextKeep) { // no agents here: keep the nodes READY past the leader's heartbeat grace
          keepReady(client, nodes);
          nextKeep = now + TimeUnit.SECONDS.toNanos(2);
        }
        long due = Math.min(total, now * ratePerSec / 1_000_000_000L);
        Map<String, List<TaskStatusChange>> byNode = new LinkedHashMap<>();
        for (; sent < due; sent++) {
          int i = (int) (sent % tasks);
          byNode.computeIfAbsent("node" + (i % nodes), n -> new ArrayList<>()).add(TaskStatusChange.newBuilder()
              .setTaskId("t" + i).setStatus(TaskStatus.newBuilder().setState(states[(int) (sent / tasks)])
                  .setTimestampMs(ts)).build());
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
    double secs = (System.nanoTime() - t0) / 1e9;
    long[] lat = entries.stream().mapToLong(e -> e[0]).sorted().toArray();
    long changes = entries.stream().mapToLong(e -> e[1]).sum();
    int n = lat.length;
    System.out.printf("status reports offered at %d/s through the dispatcher's StatusBatcher (window %d ms, max %d changes,"
        + " %d in flight): %d committed, %d dropped in %.2f s = %.0f updates/s; %d entries (%.0f changes/entry);"
        + " commit latency per entry p50 %.1f ms, p99 %.1f ms, max %.1f ms%n",
        ratePerSec, d.batchMaxDelayMs(), d.batchMaxChanges(), d.batchMaxInFlight(), batcher.committedChanges(),
        batcher.droppedChanges(), secs, batcher.committedChanges() / secs, n, (double) changes / Math.max(1, n),
        lat[n / 2] / 1e6, lat[Math.min(n - 1, n * 99 / 100)] / 1e6, lat[n - 1] / 1e6);
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

  private static void keepReady(RaftClient client, int nodes) {
    SetNodeStatus.Builder up = SetNodeStatus.newBuilder();
    for (int n = 0; n < nodes; n++) {
      up.addChanges(SetNodeStatus.Change.newBuilder().setNodeId("node" + n)
          .setStatus(ControlPlaneBench.ready(System.currentTimeMillis())));
    }
    send(client, LogEntry.newBuilder().setTimestampMs(System.currentTimeMillis())
        .addCommands(Command.newBuilder().setSetNodeStatus(up)).build());
  }
}
