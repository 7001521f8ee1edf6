package dev.berth.scheduler.filter;

import static dev.berth.scheduler.Fixtures.nodeBuilder;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeAvailability;
import dev.berth.api.v1.NodeState;
import dev.berth.scheduler.ClusterView;
import dev.berth.scheduler.NodeInfo;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NodeStateFilterTest {

  private static NodeInfo info(NodeState state, NodeAvailability availability) {
    Node.Builder b = nodeBuilder("n", 1, 1, Map.of());
    b.getStatusBuilder().setState(state);
    b.getSpecBuilder().setAvailability(availability);
    ClusterView view = new ClusterView();
    view.upsertNode(b.build());
    return view.node("n");
  }

  @Test
  void onlyReadyAndActiveNodesPass() {
    Filter f = NodeStateFilter.INSTANCE;
    assertThat(f.check(info(NodeState.NODE_READY, NodeAvailability.ACTIVE))).isTrue();
    assertThat(f.capacity(info(NodeState.NODE_READY, NodeAvailability.ACTIVE))).isEqualTo(Filter.UNLIMITED);
    assertThat(f.check(info(NodeState.NODE_READY, NodeAvailability.PAUSE))).isFalse();
    assertThat(f.check(info(NodeState.NODE_READY, NodeAvailability.DRAIN))).isFalse();
    assertThat(f.check(info(NodeState.NODE_DOWN, NodeAvailability.ACTIVE))).isFalse();
    assertThat(f.check(info(NodeState.NODE_UNKNOWN, NodeAvailability.ACTIVE))).isFalse();
    assertThat(f.capacity(info(NodeState.NODE_DISCONNECTED, NodeAvailability.ACTIVE))).isZero();
    assertThat(f.isStatic()).isTrue();
  }

  @Test
  void explanation() {
    assertThat(NodeStateFilter.INSTANCE.explain(1)).isEqualTo("node not ready or not active on 1 node");
    assertThat(NodeStateFilter.INSTANCE.explain(4)).isEqualTo("node not ready or not active on 4 nodes");
  }
}
