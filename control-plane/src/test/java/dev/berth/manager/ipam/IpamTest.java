package dev.berth.manager.ipam;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.v1.Meta;
import dev.berth.api.v1.Network;
import dev.berth.api.v1.NetworkAttachment;
import dev.berth.api.v1.NetworkSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

class IpamTest {
  private final Ipam ipam = new Ipam(IpamConfig.DEFAULT);

  static Network net(String id, String name, String subnet) {
    return Network.newBuilder().setMeta(Meta.newBuilder().setId(id))
        .setSpec(NetworkSpec.newBuilder().setName(name).setSubnet(subnet)).build();
  }

  @Test
  void networksWithoutSubnetAreCarvedFromTheDefaultPoolWithDistinctVnis() throws Exception {
    Network a = ipam.createNetwork(net("n1", "front", ""));
    Network b = ipam.createNetwork(net("n2", "back", ""));
    assertThat(a.getSubnet()).isEqualTo("10.20.0.0/24");
    assertThat(a.getGateway()).isEqualTo("10.20.0.1");
    assertThat(b.getSubnet()).isEqualTo("10.20.1.0/24");
    assertThat(a.getVni()).isEqualTo(4096);
    assertThat(b.getVni()).isEqualTo(4097);
  }

  @Test
  void carvingSkipsSubnetsTakenByUserNetworks() throws Exception {
    ipam.createNetwork(net("n1", "mine", "10.20.0.0/23"));
    assertThat(ipam.createNetwork(net("n2", "auto", "")).getSubnet()).isEqualTo("10.20.2.0/24");
  }

  @Test
  void overlappingUserSubnetIsRefusedNamingTheOtherNetworkAndChangesNothing() throws Exception {
    ipam.createNetwork(net("n1", "front", "10.30.0.0/16"));
    Ipam before = Ipam.rebuild(IpamConfig.DEFAULT, List.of(ipam.stamp(net("n1", "front", "10.30.0.0/16"))),
        List.of(), List.of());
    assertThatThrownBy(() -> ipam.createNetwork(net("n2", "back", "10.30.5.0/24")))
        .isInstanceOf(IpamException.class)
        .hasMessageContaining("10.30.5.0/24 overlaps 10.30.0.0/16 of network front")
        .extracting(e -> ((IpamException) e).reason()).isEqualTo(IpamException.Reason.CONFLICT);
    assertThat(ipam).isEqualTo(before);
  }

  @Test
  void malformedSubnetsAreRefusedWithTheReason() {
    assertThatThrownBy(() -> ipam.createNetwork(net("n1", "x", "10.30.0.5/24")))
        .hasMessageContaining("did you mean 10.30.0.0/24");
    assertThatThrownBy(() -> ipam.createNetwork(net("n1", "x", "10.300.0.0/24")))
        .hasMessageContaining("not an IPv4 address");
    assertThatThrownBy(() -> ipam.createNetwork(net("n1", "x", "10.30.0.0")))
        .hasMessageContaining("CIDR");
    assertThatThrownBy(() -> ipam.createNetwork(net("n1", "x", "10.30.0.0/31")))
        .hasMessageContaining("prefix length must be");
    Network badGw = net("n1", "x", "10.30.0.0/24").toBuilder()
        .setSpec(NetworkSpec.newBuilder().setName("x").setSubnet("10.30.0.0/24").setGateway("10.31.0.1")).build();
    assertThatThrownBy(() -> ipam.createNetwork(badGw)).hasMessageContaining("gateway 10.31.0.1");
  }

  @Test
  void addressesAreNextFitSkipTheGatewayAndCarryADerivedMac() throws Exception {
    ipam.createNetwork(net("n1", "front", "10.30.0.0/29")); // hosts .1-.6, .1 is the gateway
    NetworkAttachment a = ipam.allocateTask("a", List.of("n1")).get(0);
    NetworkAttachment b = ipam.allocateTask("b", List.of("n1")).get(0);
    assertThat(a.getAddress()).isEqualTo("10.30.0.2/29");
    assertThat(a.getMac()).isEqualTo("02:42:0a:1e:00:02");
    assertThat(b.getAddress()).isEqualTo("10.30.0.3/29");
    ipam.releaseTask("a");
    // next-fit: the freed .2 is not handed out again until the cursor wraps
    assertThat(ipam.allocateTask("c", List.of("n1")).get(0).getAddress()).isEqualTo("10.30.0.4/29");
    assertThat(ipam.allocateTask("d", List.of("n1")).get(0).getAddress()).isEqualTo("10.30.0.5/29");
    assertThat(ipam.allocateTask("e", List.of("n1")).get(0).getAddress()).isEqualTo("10.30.0.6/29");
    assertThat(ipam.allocateTask("f", List.of("n1")).get(0).getAddress()).isEqualTo("10.30.0.2/29");
    assertThatThrownBy(() -> ipam.allocateTask("g", List.of("n1")))
        .hasMessageContaining("network front (10.30.0.0/29) has no free address");
  }

  @Test
  void allocationIsIdempotentPerTaskAndAllOrNothingAcrossNetworks() throws Exception {
    ipam.createNetwork(net("n1", "big", "10.30.0.0/24"));
    ipam.createNetwork(net("n2", "tiny", "10.31.0.0/29"));
    for (int i = 0; i < 5; i++) {
      ipam.allocateTask("fill" + i, List.of("n2"));
    }
    List<NetworkAttachment> first = ipam.allocateTask("fill0", List.of("n2"));
    assertThat(ipam.allocateTask("fill0", List.of("n2"))).isEqualTo(first);
    assertThatThrownBy(() -> ipam.allocateTask("t", List.of("n1", "n2"))).isInstanceOf(IpamException.class);
    // n1 was not touched by the refused request
    assertThat(ipam.holderOf("n1", "10.30.0.2")).isEmpty();
    assertThat(ipam.allocateTask("u", List.of("n1")).get(0).getAddress()).isEqualTo("10.30.0.2/24");
  }

  @Test
  void networkRemovalIsRefusedWhileInUseAndFreesItsVni() throws Exception {
    ipam.createNetwork(net("n1", "front", ""));
    ipam.allocateTask("web.1", List.of("n1"));
    assertThatThrownBy(() -> ipam.removeNetwork("n1")).hasMessageContaining("task/web.1");
    ipam.releaseTask("web.1");
    ipam.removeNetwork("n1");
    assertThat(ipam.createNetwork(net("n3", "again", "")).getVni()).isEqualTo(4096);
    assertThatThrownBy(() -> ipam.removeNetwork("n1")).hasMessageContaining("no network with id n1");
  }

  @Test
  void nodesGetIngressAddressesOnlyOnTheSingleIngressNetwork() throws Exception {
    assertThatThrownBy(() -> ipam.allocateNode("node1")).hasMessageContaining("no ingress network");
    Network ingress = net("in", "ingress", "10.255.0.0/16").toBuilder()
        .setSpec(NetworkSpec.newBuilder().setName("ingress").setSubnet("10.255.0.0/16").setIngress(true)).build();
    ipam.createNetwork(ingress);
    assertThatThrownBy(() -> ipam.createNetwork(ingress.toBuilder().setMeta(Meta.newBuilder().setId("in2")).build()))
        .hasMessageContaining("an ingress network already exists: ingress");
    assertThat(ipam.allocateNode("node1").getAddress()).isEqualTo("10.255.0.2/16");
    assertThat(ipam.allocateNode("node2").getAddress()).isEqualTo("10.255.0.3/16");
    assertThat(ipam.holderOf("in", "10.255.0.2/16")).contains("node/node1");
  }
}
