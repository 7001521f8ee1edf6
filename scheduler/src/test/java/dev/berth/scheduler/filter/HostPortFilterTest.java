package dev.berth.scheduler.filter;

import static dev.berth.scheduler.Fixtures.node;
import static dev.berth.scheduler.Fixtures.running;
import static dev.berth.scheduler.Fixtures.service;
import static dev.berth.scheduler.Fixtures.spec;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.PortBinding;
import dev.berth.api.v1.Protocol;
import dev.berth.scheduler.ClusterView;
import java.util.List;
import org.junit.jupiter.api.Test;

class HostPortFilterTest {

  private static PortBinding port(Protocol p, int n) {
    return PortBinding.newBuilder().setProtocol(p).setPort(n).build();
  }

  @Test
  void portInUseOnTheSameProtocolRejectsTheNode() {
    ClusterView view = new ClusterView();
    view.upsertNode(node("n1"));
    Filter f = new HostPortFilter(List.of(port(Protocol.TCP, 80), port(Protocol.TCP, 443)));
    assertThat(f.capacity(view.node("n1"))).isEqualTo(1);

    view.upsertTask(running("t1", service("s", spec(0, 0)), "n1").toBuilder()
        .addHostPorts(port(Protocol.UDP, 443)).build());
    assertThat(f.check(view.node("n1"))).as("udp/443 does not clash with tcp/443").isTrue();

    view.upsertTask(running("t2", service("s", spec(0, 0)), "n1").toBuilder()
        .addHostPorts(port(Protocol.TCP, 443)).build());
    assertThat(f.check(view.node("n1"))).isFalse();
    assertThat(f.capacity(view.node("n1"))).isZero();

    view.removeTask("t2");
    assertThat(f.check(view.node("n1"))).isTrue();
    assertThat(f.isStatic()).isFalse();
  }

  @Test
  void explanationListsThePorts() {
    assertThat(new HostPortFilter(List.of(port(Protocol.TCP, 8080))).explain(3))
        .isEqualTo("host port 8080/tcp in use on 3 nodes");
    assertThat(new HostPortFilter(List.of(port(Protocol.TCP, 80), port(Protocol.UDP, 53))).explain(1))
        .isEqualTo("host ports 80/tcp, 53/udp in use on 1 node");
  }
}
