package dev.berth.manager.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import dev.berth.internal.v1.ApplyResult;
import dev.berth.internal.v1.LogEntry;
import dev.berth.internal.v1.TaskStatusChange;
import dev.berth.manager.store.Proposer;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class StatusBatcherTest {
  final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
  final List<LogEntry> proposed = new CopyOnWriteArrayList<>();
  /** Refuses any entry containing a change for task "bad" (all-or-nothing, like the applier). */
  final Proposer proposer = new Proposer() {
    @Override
    public CompletableFuture<ApplyResult> propose(LogEntry entry) {
      proposed.add(entry);
      boolean bad = entry.getCommandsList().stream()
          .flatMap(c -> c.getReportTaskStatus().getChangesList().stream())
          .anyMatch(c -> c.getTaskId().equals("bad"));
      return CompletableFuture.supplyAsync(() ->
          ApplyResult.newBuilder().setCode(bad ? "FAILED_PRECONDITION" : "OK").build());
    }

    @Override
    public boolean isLeader() {
      return true;
    }
  };

  @AfterEach
  void stop() {
    executor.shutdownNow();
  }

  static TaskStatusChange change(String task) {
    return TaskStatusChange.newBuilder().setTaskId(task)
        .setStatus(TaskStatus.newBuilder().setState(TaskState.RUNNING)).build();
  }

  @Test
  void manyNodesReportsGoIntoOneEntryWhenTheSizeIsReached() {
    StatusBatcher batcher = new StatusBatcher(proposer, Clock.systemUTC(), executor, 6, 60_000, 1);
    for (int node = 0; node < 3; node++) {
      batcher.submit("n" + node, List.of(change("a" + node), change("b" + node)));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> batcher.committedChanges() == 6);
    assertThat(proposed).singleElement().satisfies(e -> {
      assertThat(e.getCommandsList()).extracting(c -> c.getReportTaskStatus().getNodeId())
          .containsExactly("n0", "n1", "n2");
      assertThat(e.getTimestampMs()).isPositive();
    });
  }

  @Test
  void aSmallBatchIsFlushedAfterTheDelay() {
    StatusBatcher batcher = new StatusBatcher(proposer, Clock.systemUTC(), executor, 1000, 20, 1);
    batcher.submit("n", List.of(change("x")));
    await().atMost(Duration.ofSeconds(10)).until(() -> batcher.committedChanges() == 1);
    assertThat(proposed).hasSize(1);
  }

  @Test
  void aRejectedBatchIsSplitSoOnlyTheBadChangeIsLost() {
    StatusBatcher batcher = new StatusBatcher(proposer, Clock.systemUTC(), executor, 5, 60_000, 2);
    batcher.submit("n1", List.of(change("ok1"), change("bad"), change("ok2")));
    batcher.submit("n2", List.of(change("ok3"), change("ok4")));
    await().atMost(Duration.ofSeconds(10))
        .until(() -> batcher.committedChanges() + batcher.droppedChanges() == 5);
    assertThat(batcher.committedChanges()).isEqualTo(4);
    assertThat(batcher.droppedChanges()).isEqualTo(1);
    // whole batch, then per node (n1 fails, n2 ok), then n1 per change
    assertThat(proposed).hasSize(1 + 2 + 3);
  }
}
