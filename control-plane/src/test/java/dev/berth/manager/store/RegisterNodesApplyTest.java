package dev.berth.manager.store;

import static dev.berth.manager.store.Fixtures.entry;
import static dev.berth.manager.store.Fixtures.init;
import static dev.berth.manager.store.Fixtures.registerNode;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.Node;
import dev.berth.internal.v1.ApplyResult;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.LogEntry;
import dev.berth.internal.v1.RegisterNodes;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Batched registrations: each applies on its own and is recorded under its request id. */
class RegisterNodesApplyTest {
  private ClusterStore store;
  private long index;

  @BeforeEach
  void setUp() {
    store = new ClusterStore(100, 1000);
    apply(entry("", init()));
  }

  private ApplyResult apply(LogEntry e) {
    return store.apply(e, ++index).result();
  }

  private static RegisterNodes.Item item(String nodeId, String requestId) {
    return RegisterNodes.Item.newBuilder().setRequestId(requestId)
        .setRegister(registerNode(nodeId, 1_000_000_000L, 1L << 30).getRegisterNode()).build();
  }

  private static LogEntry batch(RegisterNodes.Item... items) {
    return entry("", Command.newBuilder().setRegisterNodes(RegisterNodes.newBuilder()
        .addAllItems(java.util.List.of(items))).build());
  }

  private int nodes() {
    return store.read(v -> v.nodes().size());
  }

  @Test
  void registersEveryNodeOfTheBatchAndRecordsEachOutcome() {
    ApplyResult r = apply(batch(item("n1", "req-1"), item("n2", "req-2"), item("n3", "")));
    assertThat(r.getCode()).isEqualTo("OK");
    assertThat(r.getCreatedIdsList()).containsExactly("n1", "n2", "n3");
    assertThat(nodes()).isEqualTo(3);
    assertThat(store.requestOutcome("req-2")).get().extracting(ApplyResult::getCode).isEqualTo("OK");
    assertThat(store.requestOutcome("req-2").get().getCreatedIdsList()).containsExactly("n2");
    Node n1 = store.read(v -> v.node("n1")).orElseThrow();
    assertThat(n1.getMeta().getVersion()).isEqualTo(index);
  }

  @Test
  void aTakenIdIsSkippedWithoutFailingTheOthers() {
    apply(batch(item("n1", "req-1")));
    String n1Before = store.read(v -> v.node("n1")).orElseThrow().toString();
    ApplyResult r = apply(batch(item("n1", "req-x"), item("n2", "req-2"), item("", "req-bad")));
    assertThat(r.getCode()).isEqualTo("OK");
    assertThat(r.getCreatedIdsList()).containsExactly("n2");
    assertThat(store.requestOutcome("req-x").orElseThrow().getCode()).isEqualTo("ALREADY_EXISTS");
    assertThat(store.requestOutcome("req-bad").orElseThrow().getCode()).isEqualTo("INVALID_ARGUMENT");
    assertThat(store.read(v -> v.node("n1")).orElseThrow().toString()).isEqualTo(n1Before);
    assertThat(nodes()).isEqualTo(2);
  }

  @Test
  void aRetriedRequestIdRegistersOnceEvenUnderAnotherNodeId() {
    apply(batch(item("first-id", "req-1")));
    // the retry reached a manager that generated a different id; in the same batch twice too
    ApplyResult r = apply(batch(item("second-id", "req-1"), item("n9", "req-9"), item("third-id", "req-9")));
    assertThat(r.getCreatedIdsList()).containsExactly("n9");
    assertThat(store.read((StoreView v) -> v.node("second-id"))).isEmpty();
    assertThat(store.read((StoreView v) -> v.node("third-id"))).isEmpty();
    assertThat(store.requestOutcome("req-1").orElseThrow().getCreatedIdsList()).containsExactly("first-id");
  }

  @Test
  void aFailingCommandBesideTheBatchRollsItBackAndRecordsNothing() {
    String before = store.digest();
    ApplyResult r = apply(LogEntry.newBuilder().setTimestampMs(1)
        .addCommands(Command.newBuilder().setRegisterNodes(RegisterNodes.newBuilder().addItems(item("n1", "req-1"))))
        .addCommands(registerNode("", 1, 1)).build());
    assertThat(r.getCode()).isEqualTo("INVALID_ARGUMENT");
    assertThat(store.digest()).isEqualTo(before);
    assertThat(store.requestOutcome("req-1")).isEmpty();
  }

  @Test
  void replicasReplayingTheSameLogHoldTheSameState() {
    ClusterStore other = new ClusterStore(100, 1000);
    LogEntry[] log = {entry("", init()), batch(item("n1", "req-1"), item("n1", "req-2")),
        batch(item("n2", "req-1"), item("n3", "req-3"))};
    ClusterStore first = new ClusterStore(100, 1000);
    for (int i = 0; i < log.length; i++) {
      first.apply(log[i], i + 1);
      other.apply(log[i], i + 1);
    }
    assertThat(other.digest()).isEqualTo(first.digest());
    assertThat(other.requestOutcome("req-2").orElseThrow().getCode()).isEqualTo("ALREADY_EXISTS");
  }
}
