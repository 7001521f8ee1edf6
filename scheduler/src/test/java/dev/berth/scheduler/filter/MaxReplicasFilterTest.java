package dev.berth.scheduler.filter;

import static dev.berth.scheduler.Fixtures.node;
import static dev.berth.scheduler.Fixtures.running;
import static dev.berth.scheduler.Fixtures.service;
import static dev.berth.scheduler.Fixtures.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.v1.Service;
import dev.berth.scheduler.ClusterView;
import org.junit.jupiter.api.Test;

class MaxReplicasFilterTest {

  @Test
  void capacityIsTheRoomLeftForTheService() {
    ClusterView view = new ClusterView();
    view.upsertNode(node("n1"));
    Service web = service("web", spec(0, 0));
    Service db = service("db", spec(0, 0));
    Filter f = new MaxReplicasFilter("web", 2);
    assertThat(f.capacity(view.node("n1"))).isEqualTo(2);
    view.upsertTask(running("w1", web, "n1"));
    view.upsertTask(running("d1", db, "n1"));
    assertThat(f.capacity(view.node("n1"))).as("other services do not count").isEqualTo(1);
    assertThat(f.check(view.node("n1"))).isTrue();
    view.upsertTask(running("w2", web, "n1"));
    assertThat(f.capacity(view.node("n1"))).isZero();
    assertThat(f.check(view.node("n1"))).isFalse();
    assertThat(f.isStatic()).isFalse();
  }

  @Test
  void explanationAndValidation() {
    assertThat(new MaxReplicasFilter("web", 2).explain(5)).isEqualTo("max replicas per node (2) reached on 5 nodes");
    assertThatThrownBy(() -> new MaxReplicasFilter("web", 0)).isInstanceOf(IllegalArgumentException.class);
  }
}
