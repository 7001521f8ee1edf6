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
  private final Ipam ipam = new Ipam();

  static Network net(String id, String name, String subnet) {
    return Network.newBuilder().setMeta(Meta.newBuilder().setId(id))
        .setSpec(NetworkSpec.newBuilder().setName(name).setSubnet(subnet)).build();
  }

  /** Allocates and stores a network, as apply does. */
  private Network create(Network n) throws IpamException {
    Network stored = ipam.allocateNetwork(n, IpamConfig.DEFAULT);
    ipam.putNetwork(stored);
    return stored;
  }

  /** Chooses the next address on a network and stores its holder and the moved cursor. */
  private NetworkAttachment take(Network[] net, String owner) throws IpamException {
    NetworkAttachment a = ipam.nextAddress(net[0].getMeta().getId());
    ipam.hold(owner, List.of(a));
    net[0] = net[0].toBuilder().setIpamCursor(ipam.cursorAfter(a)).build();
    ipam.putNetwork(net[0]);
    return a;
  }

  @Test
  void networksWithoutSubnetAreCarvedFromTheDefaultPoolWithDistinctVnis() throws Exception {
    Network a = create(net("n1", "front", ""));
    Network b = create(net("n2", "back", ""));
    assertThat(a.getSubnet()).isEqualTo("10.20.0.0/24");
    assertThat(a.getGateway()).isEqualTo("10.20.0.1");
    assertThat(b.getSubnet()).isEqualTo("10.20.1.0/24");
    assertThat(a.getVni()).isEqualTo(4096);
    assertThat(b.getVni()).isEqualTo(4097);
  }

  @Test
  void ingressTakesASixteenthOfThePoolAtMostASlash20AndNeverLessThanTheDefaultSize() throws Exception {
    assertThat(IpamConfig.DEFAULT.ingressSubnetPrefix()).isEqualTo(20);
    assertThat(new IpamConfig(4096, 5000, Ipv4Subnet.parse("10.0.0.0/8"), 24).ingressSubnetPrefix()).isEqualTo(20);
    assertThat(new IpamConfig(4096, 5000, Ipv4Subnet.parse("10.9.0.0/18"), 24).ingressSubnetPrefix()).isEqualTo(22);
    assertThat(new IpamConfig(4096, 5000, Ipv4Subnet.parse("10.9.0.0/22"), 24).ingressSubnetPrefix()).isEqualTo(24);
    Network in = create(net("in", "ingress", "").toBuilder()
        .setSpec(net("in", "ingress", "").getSpec().toBuilder().setIngress(true)).build());
    assertThat(in.getSubnet()).isEqualTo("10.20.0.0/20");
    assertThat(create(net("n2", "auto", "")).getSubnet()).as("carved past ingress").isEqualTo("10.20.16.0/24");
  }

  @Test
  void carvingSkipsSubnetsTakenByUserNetworks() throws Exception {
    create(net("n1", "mine", "10.20.0.0/23"));
    assertThat(create(net("n2", "auto", "")).getSubnet()).isEqualTo("10.20.2.0/24");
  }

  @Test
  void overlappingUserSubnetIsRefusedNamingTheOtherNetworkAndChangesNothing() throws Exception {
    Network front = create(net("n1", "front", "10.30.0.0/16"));
    Ipam before = Ipam.rebuild(List.of(front), List.of(), List.of());
    assertThatThrownBy(() -> create(net("n2", "back", "10.30.5.0/24")))
        .isInstanceOf(IpamException.class)
        .hasMessageContaining("10.30.5.0/24 overlaps 10.30.0.0/16 of network front")
        .extracting(e -> ((IpamException) e).reason()).isEqualTo(IpamException.Reason.CONFLICT);
    assertThat(ipam).isEqualTo(before);
  }

  @Test
  void malformedSubnetsAreRefusedWithTheReason() {
    assertThatThrownBy(() -> create(net("n1", "x", "10.30.0.5/24")))
        .hasMessageContaining("did you mean 10.30.0.0/24");
    assertThatThrownBy(() -> create(net("n1", "x", "10.300.0.0/24")))
        .hasMessageContaining("not an IPv4 address");
    assertThatThrownBy(() -> create(net("n1", "x", "10.30.0.0")))
        .hasMessageContaining("CIDR");
    assertThatThrownBy(() -> create(net("n1", "x", "10.30.0.0/31")))
        .hasMessageContaining("prefix length must be");
    Network badGw = net("n1", "x", "10.30.0.0/24").toBuilder()
        .setSpec(NetworkSpec.newBuilder().setName("x").setSubnet("10.30.0.0/24").setGateway("10.31.0.1")).build();
    assertThatThrownBy(() -> create(badGw)).hasMessageContaining("gateway 10.31.0.1");
  }

  @Test
  void addressesAreNextFitSkipTheGatewayAndCarryADerivedMac() throws Exception {
    Network[] n = {create(net("n1", "front", "10.30.0.0/29"))}; // hosts .1-.6, .1 is the gateway
    NetworkAttachment a = take(n, "task/a");
    assertThat(a.getAddress()).isEqualTo("10.30.0.2/29");
    assertThat(a.getMac()).isEqualTo("02:42:0a:1e:00:02");
    assertThat(take(n, "task/b").getAddress()).isEqualTo("10.30.0.3/29");
    ipam.release("task/a", List.of(a));
    // next-fit: the freed .2 is not handed out again until the cursor wraps
    assertThat(take(n, "task/c").getAddress()).isEqualTo("10.30.0.4/29");
    assertThat(take(n, "task/d").getAddress()).isEqualTo("10.30.0.5/29");
    assertThat(take(n, "task/e").getAddress()).isEqualTo("10.30.0.6/29");
    assertThat(take(n, "task/f").getAddress()).isEqualTo("10.30.0.2/29");
    assertThatThrownBy(() -> take(n, "task/g"))
        .hasMessageContaining("network front (10.30.0.0/29) has no free address");
  }

  @Test
  void anAddressChosenElsewhereIsCheckedAgainstHoldersAndTheSubnet() throws Exception {
    Network[] n = {create(net("n1", "front", "10.30.0.0/24"))};
    NetworkAttachment a = take(n, "task/a");
    assertThatThrownBy(() -> ipam.checkAvailable("task/b", a))
        .hasMessageContaining("address 10.30.0.2 on network front is already held by task/a")
        .extracting(e -> ((IpamException) e).reason()).isEqualTo(IpamException.Reason.CONFLICT);
    assertThat(ipam.checkAvailable("task/a", a)).isEqualTo(a);
    NetworkAttachment gateway = a.toBuilder().setAddress("10.30.0.1/24").build();
    assertThatThrownBy(() -> ipam.checkAvailable("task/b", gateway)).hasMessageContaining("not a usable host address");
    assertThat(ipam.checkAvailable("task/b", a.toBuilder().setAddress("10.30.0.9").setMac("").build()))
        .isEqualTo(a.toBuilder().setAddress("10.30.0.9/24").setMac("02:42:0a:1e:00:09").build());
  }

  @Test
  void storedObjectsHoldingOneAddressTwiceAreACorruptStore() throws Exception {
    Network[] n = {create(net("n1", "front", "10.30.0.0/24"))};
    NetworkAttachment a = take(n, "task/a");
    assertThatThrownBy(() -> ipam.hold("task/b", List.of(a))).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("held by both task/a and task/b");
  }

  @Test
  void onlyOneIngressNetwork() throws Exception {
    Network ingress = net("in", "ingress", "10.255.0.0/16").toBuilder()
        .setSpec(NetworkSpec.newBuilder().setName("ingress").setSubnet("10.255.0.0/16").setIngress(true)).build();
    create(ingress);
    assertThat(ipam.ingressNetworkId()).contains("in");
    assertThatThrownBy(() -> create(ingress.toBuilder().setMeta(Meta.newBuilder().setId("in2")).build()))
        .hasMessageContaining("an ingress network already exists: ingress");
    ipam.removeNetwork("in");
    assertThat(ipam.ingressNetworkId()).isEmpty();
  }
}
