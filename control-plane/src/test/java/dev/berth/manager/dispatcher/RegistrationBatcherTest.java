package dev.berth.manager.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.v1.Meta;
import dev.berth.api.v1.Node;
import dev.berth.internal.v1.ApplyResult;
import dev.berth.internal.v1.LogEntry;
import dev.berth.internal.v1.RegisterNode;
import dev.berth.internal.v1.RegisterNodes;
import dev.berth.manager.store.Proposer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RegistrationBatcherTest {
  /** Holds every proposal until the test completes it, as an uncommitted Raft entry. */
  final List<LogEntry> proposed = new CopyOnWriteArrayList<>();
  final List<CompletableFuture<ApplyResult>> pending = new CopyOnWriteArrayList<>();
  final Proposer proposer = new Proposer() {
    @Override
    public CompletableFuture<ApplyResult> propose(LogEntry entry) {
      proposed.add(entry);
      CompletableFuture<ApplyResult> f = new CompletableFuture<>();
      pending.add(f);
      return f;
    }

    @Override
    public boolean isLeader() {
      return true;
    }
  };

  static RegisterNodes.Item item(String id) {
    return RegisterNodes.Item.newBuilder().setRequestId("req-" + id).setRegister(RegisterNode.newBuilder()
        .setNode(Node.newBuilder().setMeta(Meta.newBuilder().setId(id)))).build();
  }

  static List<String> ids(LogEntry e) {
    return e.getCommands(0).getRegisterNodes().getItemsList().stream()
        .map(i -> i.getRegister().getNode().getMeta().getId()).toList();
  }

  static ApplyResult ok() {
    return ApplyResult.newBuilder().setCode("OK").build();
  }

  @Test
  void aLoneRegistrationIsProposedAtOnceAndThoseArrivingMeanwhileGoTogether() throws Exception {
    RegistrationBatcher batcher = new RegistrationBatcher(proposer, Clock.systemUTC(), 100);
    CompletableFuture<ApplyResult> first = batcher.submit(item("a"));
    assertThat(proposed).hasSize(1);
    List<CompletableFuture<ApplyResult>> later = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      later.add(batcher.submit(item("n" + i)));
    }
    assertThat(proposed).as("nothing more while the first is in flight").hasSize(1);
    pending.get(0).complete(ok());
    assertThat(first.get(5, TimeUnit.SECONDS).getCode()).isEqualTo("OK");
    assertThat(proposed).hasSize(2);
    assertThat(ids(proposed.get(1))).hasSize(50).startsWith("n0", "n1").endsWith("n49");
    assertThat(later).noneMatch(CompletableFuture::isDone);
    pending.get(1).complete(ok());
    for (CompletableFuture<ApplyResult> f : later) {
      assertThat(f.get(5, TimeUnit.SECONDS).getCode()).isEqualTo("OK");
    }
    assertThat(batcher.proposedEntries()).isEqualTo(2);
  }

  @Test
  void anEntryHoldsAtMostMaxItemsAndTheRestFollow() {
    RegistrationBatcher batcher = new RegistrationBatcher(proposer, Clock.systemUTC(), 3);
    batcher.submit(item("first"));
    for (int i = 0; i < 7; i++) {
      batcher.submit(item("n" + i));
    }
    pending.get(0).complete(ok());
    pending.get(1).complete(ok());
    pending.get(2).complete(ok());
    assertThat(proposed).hasSize(4);
    assertThat(proposed.subList(1, 4)).extracting(RegistrationBatcherTest::ids)
        .containsExactly(List.of("n0", "n1", "n2"), List.of("n3", "n4", "n5"), List.of("n6"));
  }

  @Test
  void aFailedEntryFailsItsWaitersAndTheNextBatchStillGoes() throws Exception {
    RegistrationBatcher batcher = new RegistrationBatcher(proposer, Clock.systemUTC(), 10);
    CompletableFuture<ApplyResult> lost = batcher.submit(item("a"));
    CompletableFuture<ApplyResult> next = batcher.submit(item("b"));
    pending.get(0).completeExceptionally(new IllegalStateException("leader lost"));
    assertThatThrownBy(() -> lost.get(5, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
        .hasMessageContaining("leader lost");
    assertThat(proposed).hasSize(2);
    pending.get(1).complete(ok());
    assertThat(next.get(5, TimeUnit.SECONDS).getCode()).isEqualTo("OK");
  }
}
