package dev.berth.net.vxlan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.v1.Meta;
import dev.berth.api.v1.NetworkAttachment;
import dev.berth.api.v1.Task;
import org.junit.jupiter.api.Test;

class EndpointsTest {
  static final Task TASK = Task.newBuilder().setMeta(Meta.newBuilder().setId("t1"))
      .addNetworks(NetworkAttachment.newBuilder().setNetworkId("front").setAddress("10.20.0.5/24")
          .setMac("02:42:0a:14:00:05"))
      .addNetworks(NetworkAttachment.newBuilder().setNetworkId("back").setAddress("10.20.1.9/24")
          .setMac("02:42:0a:14:01:09"))
      .build();

  @Test
  void tasksBecomeLocalAndRemoteEndpointsInAttachmentOrder() {
    assertThat(Endpoints.local(TASK)).containsExactly(
        new LocalEndpoint("t1", "front", "eth0", "10.20.0.5/24", "02:42:0a:14:00:05"),
        new LocalEndpoint("t1", "back", "eth1", "10.20.1.9/24", "02:42:0a:14:01:09"));
    assertThat(Endpoints.gatewayIf(TASK)).isEqualTo("eth2");
    assertThat(Endpoints.remote(TASK, "192.0.2.7")).containsExactly(
        new RemoteEndpoint("front", "10.20.0.5", "02:42:0a:14:00:05", "192.0.2.7"),
        new RemoteEndpoint("back", "10.20.1.9", "02:42:0a:14:01:09", "192.0.2.7"));
  }

  @Test
  void gatewayAddressesAreLowestFreeStableAndRestorable() {
    GatewayAddresses g = new GatewayAddresses("172.18.0.0/29");
    assertThat(g.allocate("a")).isEqualTo("172.18.0.2/29");
    assertThat(g.allocate("b")).isEqualTo("172.18.0.3/29");
    assertThat(g.allocate("a")).isEqualTo("172.18.0.2/29");
    g.restore("c", "172.18.0.5/29");
    g.release("a");
    assertThat(g.allocate("d")).isEqualTo("172.18.0.2/29");
    assertThat(g.allocate("e")).isEqualTo("172.18.0.4/29");
    assertThat(g.allocate("f")).isEqualTo("172.18.0.6/29");
    assertThatThrownBy(() -> g.allocate("g")).hasMessageContaining("172.18.0.0/29 is full");
  }
}
