package dev.berth.scheduler.filter;

import static dev.berth.scheduler.Fixtures.node;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.scheduler.ClusterView;
import dev.berth.scheduler.Constraint;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConstraintFilterTest {

  @Test
  void checksTheConstraintAgainstTheNode() {
    ClusterView view = new ClusterView();
    view.upsertNode(node("a1", 1, 1, Map.of("zone", "a")));
    view.upsertNode(node("b1", 1, 1, Map.of("zone", "b")));
    view.upsertNode(node("x1", 1, 1, Map.of()));
    Filter f = new ConstraintFilter(Constraint.parse("node.labels.zone==a"));
    assertThat(f.check(view.node("a1"))).isTrue();
    assertThat(f.check(view.node("b1"))).isFalse();
    assertThat(f.check(view.node("x1"))).isFalse();
    assertThat(f.capacity(view.node("b1"))).isZero();
    assertThat(f.isStatic()).isTrue();
  }

  @Test
  void explanationNamesTheConstraint() {
    Filter f = new ConstraintFilter(Constraint.parse("node.labels.zone == a"));
    assertThat(f.explain(3)).isEqualTo("constraint node.labels.zone==a unmet on 3 nodes");
  }
}
