package dev.berth.net.vxlan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** declare and restore, the agent's bulk entry points, against a kernel that starts empty. */
class DataPlaneDeclareTest {
  private static final NodeConfig NODE = new NodeConfig("n1", NetnsRef.CURRENT, "u0", "192.0.2.1", 1500, "172.18.0.0/16");
  private final List<List<Step>> runs = new ArrayList<>();
  private final DataPlane plane = new DataPlane(NODE, new KernelReader() {
    @Override
    public ActualState read(NodeConfig node) {
      return new ActualState(Map.of(), Map.of(), Map.of(), Set.of(), false);
    }
  }, new KernelExecutor() {
    @Override
    public void run(List<Step> steps) {
      runs.add(steps);
    }
  });

  @Test
  void declareReplacesNetworksAndRemotesInOneApply() throws Exception {
    OverlayNetwork a = new OverlayNetwork("a", 10, "10.1.0.0/24");
    OverlayNetwork b = new OverlayNetwork("b", 11, "10.2.0.0/24");
    plane.declare(List.of(a, b), List.of(new RemoteEndpoint("a", "10.1.0.5/24", "02:42:0A:01:00:05", "192.0.2.2")));
    assertThat(runs).hasSize(1);
    assertThat(plane.desired().networks()).containsExactly(a, b);
    assertThat(plane.desired().remotes()).extracting(RemoteEndpoint::ip).containsExactly("10.1.0.5");

    plane.declare(List.of(b), List.of());
    assertThat(plane.desired().networks()).containsExactly(b);
    assertThat(plane.desired().remotes()).isEmpty();
    assertThatThrownBy(() -> plane.declare(List.of(b), List.of(new RemoteEndpoint("a", "10.1.0.6", "02:42:0a:01:00:06",
        "192.0.2.2")))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown network a");
    assertThat(plane.desired().networks()).containsExactly(b); // refused: nothing changed
  }

  @Test
  void aNetworkWithAnAttachedContainerOutlivesADeclareWithoutIt() throws Exception {
    OverlayNetwork a = new OverlayNetwork("a", 10, "10.1.0.0/24");
    plane.declare(List.of(a), List.of());
    Sandbox s = new Sandbox("t1", NetnsRef.named("x"), "eth1", "172.18.0.2/16");
    plane.attach(s, List.of(new LocalEndpoint("t1", "a", "eth0", "10.1.0.2/24", "02:42:0a:01:00:02")));
    plane.declare(List.of(), List.of());
    assertThat(plane.desired().networks()).containsExactly(a);
  }

  @Test
  void restoreDeclaresSurvivingContainersWithoutTouchingTheKernel() {
    OverlayNetwork a = new OverlayNetwork("a", 10, "10.1.0.0/24");
    Sandbox s = new Sandbox("t1", NetnsRef.named("x"), "eth1", "172.18.0.2/16");
    plane.restore(List.of(a), Map.of(s, List.of(new LocalEndpoint("t1", "a", "eth0", "10.1.0.2/24", "02:42:0a:01:00:02"))));
    assertThat(runs).isEmpty();
    assertThat(plane.desired().sandboxes()).containsExactly(s);
    assertThatThrownBy(() -> plane.restore(List.of(), Map.of(s, List.of(new LocalEndpoint("t1", "a", "eth0",
        "10.1.0.2/24", "02:42:0a:01:00:02"))))).hasMessageContaining("unknown network a");
  }
}
