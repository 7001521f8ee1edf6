package dev.berth.manager.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.Heartbeat;
import dev.berth.api.v1.Meta;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeDescription;
import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.NodeStatus;
import dev.berth.api.v1.Resources;
import dev.berth.api.v1.TaskUsage;
import dev.berth.internal.v1.SetNodeStatus;
import dev.berth.manager.store.ClusterStore;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HeartbeatMonitorTest {
  final HeartbeatTracker tracker = new HeartbeatTracker();
  final HeartbeatMonitor monitor = new HeartbeatMonitor(tracker, 5_000);

  static Node node(String id, NodeState state) {
    return Node.newBuilder().setMeta(Meta.newBuilder().setId(id))
        .setStatus(NodeStatus.newBuilder().setState(state)).build();
  }

  /** The real store holding just these nodes, filled through its applier. */
  static ClusterStore store(Node... nodes) {
    ClusterStore store = new ClusterStore();
    long index = 1;
    for (Node n : nodes) {
      store.apply(dev.berth.internal.v1.LogEntry.newBuilder().setTimestampMs(1)
          .addCommands(dev.berth.internal.v1.Command.newBuilder().setRegisterNode(
              dev.berth.internal.v1.RegisterNode.newBuilder().setNode(n))).build(), index++);
    }
    return store;
  }

  List<SetNodeStatus.Change> changes(ClusterStore store, Map<String, NodeDescription> connected, long now) {
    return store.read(v -> monitor.changes(v, connected, now));
  }

  @Test
  void aNewLeaderGivesEveryNodeAFullGracePeriod() {
    ClusterStore v = store(node("a", NodeState.NODE_READY), node("b", NodeState.NODE_UNKNOWN));
    tracker.reset(100_000);

    assertThat(changes(v, Map.of(), 104_999)).isEmpty();
    assertThat(changes(v, Map.of(), 105_000)).as("exactly the grace is still fine").isEmpty();

    List<SetNodeStatus.Change> down = changes(v, Map.of(), 105_001);
    assertThat(down).extracting(SetNodeStatus.Change::getNodeId).containsExactly("a", "b");
    assertThat(down).allSatisfy(c -> {
      assertThat(c.getStatus().getState()).isEqualTo(NodeState.NODE_DOWN);
      assertThat(c.getStatus().getMessage()).contains("became leader");
    });
  }

  @Test
  void aManagerWithoutAnAgentIsNeverMarkedDownButAnAgentThatWentSilentIs() {
    Node manager = node("m", NodeState.NODE_UNKNOWN).toBuilder().setRole(dev.berth.api.v1.NodeRole.MANAGER).build();
    ClusterStore v = store(manager, node("w", NodeState.NODE_UNKNOWN));
    tracker.reset(0);

    assertThat(changes(v, Map.of(), 60_000)).extracting(SetNodeStatus.Change::getNodeId).containsExactly("w");
  }

  @Test
  void missedHeartbeatsMarkDownOnlyAfterTheGrace() {
    ClusterStore v = store(node("a", NodeState.NODE_READY));
    tracker.reset(0);
    tracker.heartbeat("a", 10_000, Heartbeat.getDefaultInstance());

    assertThat(changes(v, Map.of(), 14_000)).isEmpty();
    assertThat(changes(v, Map.of(), 15_500)).singleElement().satisfies(c -> {
      assertThat(c.getStatus().getState()).isEqualTo(NodeState.NODE_DOWN);
      assertThat(c.getStatus().getMessage()).isEqualTo("heartbeat missed for 5s");
      assertThat(c.getStatus().getChangedAtMs()).isEqualTo(15_500);
    });
  }

  @Test
  void anOpenSessionBringsANodeUpWithItsDescription() {
    ClusterStore v = store(node("a", NodeState.NODE_DOWN), node("b", NodeState.NODE_READY));
    tracker.reset(0);
    tracker.heartbeat("a", 1_000, Heartbeat.getDefaultInstance());
    tracker.heartbeat("b", 1_000, Heartbeat.getDefaultInstance());
    NodeDescription desc = NodeDescription.newBuilder().setHostname("h").build();

    List<SetNodeStatus.Change> changes =
        changes(v, Map.of("a", desc, "b", NodeDescription.getDefaultInstance()), 1_500);

    assertThat(changes).singleElement().satisfies(c -> {
      assertThat(c.getNodeId()).isEqualTo("a");
      assertThat(c.getStatus().getState()).isEqualTo(NodeState.NODE_READY);
      assertThat(c.getDescription().getHostname()).isEqualTo("h");
    });
    assertThat(changes(v, Map.of(), 9_000)).as("down nodes are not marked down again")
        .extracting(SetNodeStatus.Change::getNodeId).containsExactly("b");
  }

  @Test
  void keepsUsageReadingsInMemory() {
    tracker.reset(0);
    tracker.heartbeat("a", 7, Heartbeat.newBuilder()
        .setNodeUsage(Resources.newBuilder().setMemoryBytes(42))
        .putTaskUsage("t1", TaskUsage.newBuilder().setNanoCpus(5).build()).build());
    tracker.heartbeat("a", 8, Heartbeat.getDefaultInstance());

    assertThat(tracker.nodeUsage("a")).hasValueSatisfying(u -> assertThat(u.getUsed().getMemoryBytes()).isEqualTo(42));
    assertThat(tracker.taskUsage("a", "t1")).hasValueSatisfying(u -> assertThat(u.getNanoCpus()).isEqualTo(5));
    assertThat(tracker.taskUsage("a", "t2")).isEmpty();
    assertThat(tracker.lastSeenMs("a")).isEqualTo(8);
    tracker.reset(100);
    assertThat(tracker.nodeUsage("a")).isEmpty();
  }
}
