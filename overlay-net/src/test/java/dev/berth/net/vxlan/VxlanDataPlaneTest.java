package dev.berth.net.vxlan;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.berth.testhosts.TestHosts;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The real data plane on three test hosts (network namespaces on an underlay bridge),
 * with "containers" that are namespaces of their own.
 */
class VxlanDataPlaneTest {
  static TestHosts hosts;
  static String hostA;
  static String hostB;
  static String hostC;
  static final String N1 = "net-one";
  static final String N2 = "net-two";
  static final OverlayNetwork ONE = new OverlayNetwork(N1, 5001, "10.20.0.0/24");
  static final OverlayNetwork TWO = new OverlayNetwork(N2, 5002, "10.20.1.0/24");
  final List<DataPlane> planes = new ArrayList<>();
  final List<String> containers = new ArrayList<>();

  @BeforeAll
  static void topology() throws IOException {
    String why = TestHosts.unsupportedReason();
    assumeTrue(why == null, why);
    hosts = new TestHosts();
    hostA = hosts.addHost("hA", 1);
    hostB = hosts.addHost("hB", 2);
    hostC = hosts.addHost("hC", 3);
  }

  @AfterAll
  static void removeTopology() {
    if (hosts != null) {
      hosts.close();
    }
  }

  @AfterEach
  void cleanUp() throws IOException {
    for (DataPlane p : planes) {
      p.teardown();
    }
    for (String c : containers) {
      hosts.deleteNamespace(c);
    }
  }

  DataPlane plane(String hostNs, int n) {
    DataPlane p = new DataPlane(node(hostNs, n));
    planes.add(p);
    return p;
  }

  static NodeConfig node(String hostNs, int n) {
    return new NodeConfig("node-" + hostNs, NetnsRef.named(hostNs), "u0", "192.0.2." + n, 1500, "172.18.0.0/16");
  }

  /** A container on a host's plane, on one network, at 10.20.X.last. */
  String container(DataPlane plane, String name, OverlayNetwork net, int last, int gw) throws IOException {
    String ns = hosts.addNamespace(name);
    containers.add(ns);
    String ip = addr(net, last);
    plane.attach(new Sandbox(name, NetnsRef.named(ns), "eth1", "172.18.0." + gw + "/16"),
        List.of(new LocalEndpoint(name, net.id(), "eth0", ip + "/24", mac(ip))));
    return ns;
  }

  static String addr(OverlayNetwork net, int last) {
    return net.subnet().replace("0/24", Integer.toString(last));
  }

  static String mac(String ip) {
    String[] o = ip.split("\\.");
    return String.format("02:42:%02x:%02x:%02x:%02x", Integer.parseInt(o[0]), Integer.parseInt(o[1]),
        Integer.parseInt(o[2]), Integer.parseInt(o[3]));
  }

  static RemoteEndpoint remote(OverlayNetwork net, int last, int hostN) {
    String ip = addr(net, last);
    return new RemoteEndpoint(net.id(), ip, mac(ip), "192.0.2." + hostN);
  }

  @Test
  void containersOnDifferentHostsReachEachOtherAndRemovalClearsFdbAndNeighbours() throws IOException {
    DataPlane a = plane(hostA, 1);
    DataPlane b = plane(hostB, 2);
    DataPlane c = plane(hostC, 3);
    for (DataPlane p : List.of(a, b, c)) {
      p.addNetwork(ONE);
    }
    String ctrA = container(a, "ca", ONE, 2, 2);
    String ctrB = container(b, "cb", ONE, 3, 2);
    String ctrC = container(c, "cc", ONE, 4, 2);
    a.addRemote(remote(ONE, 3, 2));
    a.addRemote(remote(ONE, 4, 3));
    b.addRemote(remote(ONE, 2, 1));
    b.addRemote(remote(ONE, 4, 3));
    c.addRemote(remote(ONE, 2, 1));
    c.addRemote(remote(ONE, 3, 2));

    assertThat(TestHosts.ping(ctrA, "10.20.0.3")).as("A -> B over the overlay").isTrue();
    assertThat(TestHosts.ping(ctrB, "10.20.0.4")).as("B -> C over the overlay").isTrue();
    assertThat(TestHosts.ping(ctrC, "10.20.0.2")).as("C -> A over the overlay").isTrue();
    assertThat(TestHosts.exec(ctrA, "ip", "-o", "link", "show", "eth0").out()).contains("mtu 1450");
    assertThat(TestHosts.exec(ctrA, "ip", "-o", "link", "show", "eth0").out()).contains("02:42:0a:14:00:02");
    // the traffic went through the VXLAN device with the network's VNI on port 4789
    String vx = Names.vxlan("node-" + hostA, N1);
    String details = TestHosts.exec(hostA, "ip", "-d", "-o", "link", "show", vx).out();
    assertThat(details).contains("vxlan id 5001").contains("dstport 4789").contains("nolearning").contains("proxy");

    String fdb = TestHosts.exec(hostA, "bridge", "fdb", "show", "dev", vx).out();
    assertThat(fdb).contains("02:42:0a:14:00:03 dst 192.0.2.2 self permanent")
        .containsPattern("02:42:0a:14:00:03 master \\S+ static")
        .contains("00:00:00:00:00:00 dst 192.0.2.2 self permanent")
        .contains("00:00:00:00:00:00 dst 192.0.2.3 self permanent");

    // B's task leaves: A and C forget it
    a.removeRemote(N1, "10.20.0.3");
    c.removeRemote(N1, "10.20.0.3");
    b.detach("cb");
    fdb = TestHosts.exec(hostA, "bridge", "fdb", "show", "dev", vx).out();
    String neigh = TestHosts.exec(hostA, "ip", "neigh", "show", "dev", vx).out();
    assertThat(fdb).doesNotContain("02:42:0a:14:00:03").doesNotContain("dst 192.0.2.2")
        .contains("02:42:0a:14:00:04 dst 192.0.2.3");
    assertThat(neigh).doesNotContain("10.20.0.3 ").contains("10.20.0.4");
    assertThat(TestHosts.exec(hostB, "ip", "link", "show", Names.endpointVeth("node-" + hostB, "cb", N1)).code())
        .isNotZero();
    assertThat(TestHosts.ping(ctrA, "10.20.0.3")).isFalse();
    assertThat(TestHosts.ping(ctrA, "10.20.0.4")).isTrue();
  }

  @Test
  void twoNetworksAreIsolated() throws IOException {
    DataPlane a = plane(hostA, 1);
    DataPlane b = plane(hostB, 2);
    for (DataPlane p : List.of(a, b)) {
      p.addNetwork(ONE);
      p.addNetwork(TWO);
    }
    String a1 = container(a, "a1", ONE, 2, 2);
    String a2 = container(a, "a2", TWO, 2, 3);
    String b1 = container(b, "b1", ONE, 3, 2);
    String b2 = container(b, "b2", TWO, 3, 3);
    a.addRemote(remote(ONE, 3, 2));
    a.addRemote(remote(TWO, 3, 2));
    b.addRemote(remote(ONE, 2, 1));
    b.addRemote(remote(TWO, 2, 1));

    assertThat(TestHosts.ping(a1, "10.20.0.3")).isTrue();
    assertThat(TestHosts.ping(a2, "10.20.1.3")).isTrue();
    assertThat(TestHosts.ping(a1, "10.20.1.3")).as("network one -> two across hosts").isFalse();
    assertThat(TestHosts.ping(b2, "10.20.0.2")).as("network two -> one across hosts").isFalse();
    assertThat(TestHosts.ping(a1, "10.20.1.2")).as("network one -> two on one host").isFalse();
    // nor through the gateway bridge: its ports are isolated from each other
    assertThat(TestHosts.ping(a1, "172.18.0.3")).as("container -> container via gateway bridge").isFalse();
    assertThat(TestHosts.ping(b1, "172.18.0.1")).as("container -> its gateway").isTrue();
  }

  @Test
  void reconcileAfterRestartRemovesStaleStateAndRestoresMissingState() throws IOException {
    DataPlane before = plane(hostA, 1);
    DataPlane b = plane(hostB, 2);
    before.addNetwork(ONE);
    before.addNetwork(TWO);
    b.addNetwork(ONE);
    String ctrA = container(before, "ra", ONE, 2, 2);
    container(b, "rb", ONE, 3, 2);
    before.addRemote(remote(ONE, 3, 2));
    before.addRemote(remote(ONE, 9, 2));
    b.addRemote(remote(ONE, 2, 1));
    String vx = Names.vxlan("node-" + hostA, N1);
    // While "down": the remote .3 lost its FDB entry, strangers appeared.
    TestHosts.check(TestHosts.exec(hostA, "bridge", "fdb", "del", "02:42:0a:14:00:03", "dev", vx, "dst",
        "192.0.2.2", "self"));
    TestHosts.check(TestHosts.exec(hostA, "bridge", "fdb", "append", "02:42:0a:14:00:63", "dev", vx, "dst",
        "192.0.2.7", "self", "permanent"));
    TestHosts.check(TestHosts.exec(hostA, "bridge", "fdb", "replace", "02:42:0a:14:00:63", "dev", vx, "master",
        "static"));
    TestHosts.check(TestHosts.exec(hostA, "ip", "neigh", "replace", "10.20.0.77", "lladdr", "02:42:0a:14:00:4d",
        "dev", vx, "nud", "permanent"));
    TestHosts.check(TestHosts.exec(ctrA, "ip", "addr", "flush", "dev", "eth0"));

    // The agent restarts: it re-declares what the cluster says (network two and remote .9 are gone).
    DataPlane after = new DataPlane(node(hostA, 1));
    planes.add(after);
    after.addNetwork(ONE);
    after.attach(new Sandbox("ra", NetnsRef.named(ctrA), "eth1", "172.18.0.2/16"),
        List.of(new LocalEndpoint("ra", N1, "eth0", "10.20.0.2/24", mac("10.20.0.2"))));
    after.addRemote(remote(ONE, 3, 2));
    after.reconcile();

    ActualState actual = new KernelReader().read(after.node());
    String id = "node-" + hostA;
    assertThat(actual.links().keySet()).containsExactlyInAnyOrder(Names.gatewayBridge(id), Names.bridge(id, N1),
        Names.vxlan(id, N1), Names.endpointVeth(id, "ra", N1), Names.gatewayVeth(id, "ra"));
    assertThat(actual.fdb()).isEqualTo(Map.of(vx, Set.of(new ActualState.Fdb("02:42:0a:14:00:03", "192.0.2.2"),
        ActualState.Fdb.master("02:42:0a:14:00:03"), new ActualState.Fdb(Planner.ZERO_MAC, "192.0.2.2"))));
    assertThat(actual.neigh()).isEqualTo(Map.of(vx, Set.of(new ActualState.Neigh("10.20.0.3", "02:42:0a:14:00:03"))));
    assertThat(Planner.plan(after.desired(), actual, false)).as("nothing left to do").isEmpty();
    assertThat(TestHosts.ping(ctrA, "10.20.0.3")).isTrue();
  }

  @Test
  void containersReachTheOutsideThroughTheGatewayWithSourceNat() throws Exception {
    assumeTrue(TestHosts.run("sh", "-c", "command -v iptables-restore").code() == 0,
        "iptables is not installed (apt-get install iptables)");
    DataPlane a = plane(hostA, 1);
    a.addNetwork(ONE);
    String ctrA = container(a, "ga", ONE, 2, 2);
    // A listener outside the overlay that tells each client the address it sees.
    Process server = new ProcessBuilder("ip", "netns", "exec", hosts.outside, "python3", "-c",
        "import socket\n"
            + "l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
            + "l.bind(('0.0.0.0', 7007)); l.listen(4); print('ready', flush=True)\n"
            + "s, peer = l.accept(); s.sendall(peer[0].encode()); s.close()\n")
        .redirectErrorStream(true).start();
    try {
      assertThat(new String(server.getInputStream().readNBytes(5))).isEqualTo("ready");
      TestHosts.Result r = TestHosts.exec(ctrA, "python3", "-c",
          "import socket\n"
              + "s = socket.create_connection(('" + TestHosts.OUTSIDE_IP + "', 7007), timeout=5)\n"
              + "print(s.recv(64).decode())\n");
      assertThat(r.code()).as(r.out()).isZero();
      assertThat(r.out().trim()).as("the outside sees the host's underlay address").isEqualTo("192.0.2.1");
      String nat = TestHosts.exec(hostA, "iptables", "-t", "nat", "-S", Names.natChain("node-" + hostA)).out();
      assertThat(nat).contains("MASQUERADE");
    } finally {
      server.destroy();
      server.waitFor(5, TimeUnit.SECONDS);
    }
  }
}
