package dev.berth.scheduler.filter;

import static dev.berth.scheduler.Fixtures.CORE;
import static dev.berth.scheduler.Fixtures.MB;
import static dev.berth.scheduler.Fixtures.node;
import static dev.berth.scheduler.Fixtures.running;
import static dev.berth.scheduler.Fixtures.service;
import static dev.berth.scheduler.Fixtures.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.scheduler.ClusterView;
import dev.berth.scheduler.NodeInfo;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ResourceFilterTest {

  private final ClusterView view = new ClusterView();

  @Test
  void capacityCountsWholeTasksThatFitAfterReservations() {
    view.upsertNode(node("n1", 4 * CORE, 1024 * MB, Map.of()));
    NodeInfo n1 = view.node("n1");
    Filter cpu = ResourceFilter.cpu(CORE + CORE / 2);
    Filter mem = ResourceFilter.memory(300 * MB);
    assertThat(cpu.capacity(n1)).isEqualTo(2);
    assertThat(mem.capacity(n1)).isEqualTo(3);

    view.upsertTask(running("t1", service("s", spec(2 * CORE, 500 * MB)), "n1"));
    assertThat(cpu.capacity(n1)).isEqualTo(1);
    assertThat(mem.capacity(n1)).isEqualTo(1);
    view.upsertTask(running("t2", service("s", spec(CORE, 300 * MB)), "n1"));
    assertThat(cpu.check(n1)).isFalse();
    assertThat(mem.check(n1)).isFalse();
    assertThat(cpu.isStatic()).isFalse();
  }

  @Test
  void overcommittedNodeHasNoCapacity() {
    view.upsertNode(node("n1", CORE, 100 * MB, Map.of()));
    view.upsertTask(running("t1", service("s", spec(2 * CORE, 200 * MB)), "n1"));
    assertThat(ResourceFilter.cpu(1).capacity(view.node("n1"))).isZero();
    assertThat(ResourceFilter.memory(1).capacity(view.node("n1"))).isZero();
  }

  @Test
  void explanationSaysWhichResource() {
    assertThat(ResourceFilter.memory(1).explain(7)).isEqualTo("insufficient memory on 7 nodes");
    assertThat(ResourceFilter.cpu(1).explain(1)).isEqualTo("insufficient cpu on 1 node");
    assertThatThrownBy(() -> ResourceFilter.cpu(0)).isInstanceOf(IllegalArgumentException.class);
  }
}
