package dev.berth.net.vxlan;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PlannerTest {
  static final NodeConfig NODE = new NodeConfig("n1", NetnsRef.CURRENT, "eth9", "192.0.2.1", 1500, "172.18.0.0/16");
  static final OverlayNetwork NET = new OverlayNetwork("net", 4096, "10.20.0.0/24");
  static final Sandbox BOX = new Sandbox("t1", NetnsRef.ofPid(4242), "eth1", "172.18.0.2/16");
  static final LocalEndpoint EP = new LocalEndpoint("t1", "net", "eth0", "10.20.0.2/24", "02:42:0a:14:00:02");
  static final RemoteEndpoint R3 = new RemoteEndpoint("net", "10.20.0.3", "02:42:0a:14:00:03", "192.0.2.2");
  static final RemoteEndpoint R4 = new RemoteEndpoint("net", "10.20.0.4/24", "02:42:0A:14:00:04", "192.0.2.3");
  static final String BX = Names.vxlan("n1", "net");
  static final String BB = Names.bridge("n1", "net");
  static final String BG = Names.gatewayBridge("n1");
  static final String CHAIN = Names.natChain("n1");
  static final ActualState EMPTY = new ActualState(Map.of(), Map.of(), Map.of(), Set.of(), false);

  static DesiredState desired(List<RemoteEndpoint> remotes) {
    return new DesiredState(NODE, List.of(NET), List.of(BOX), List.of(EP), remotes);
  }

  /** What the kernel holds once a desired state is fully applied. */
  static ActualState converged(List<RemoteEndpoint> remotes) {
    Map<String, ActualState.Link> links = new HashMap<>();
    for (ActualState.Link l : List.of(new ActualState.Link(BG, "bridge", 0), new ActualState.Link(BB, "bridge", 0),
        new ActualState.Link(BX, "vxlan", 4096), new ActualState.Link(Names.endpointVeth("n1", "t1", "net"), "veth", 0),
        new ActualState.Link(Names.gatewayVeth("n1", "t1"), "veth", 0))) {
      links.put(l.name(), l);
    }
    Set<ActualState.Fdb> fdb = new java.util.HashSet<>();
    Set<ActualState.Neigh> neigh = new java.util.HashSet<>();
    for (RemoteEndpoint r : remotes) {
      fdb.add(new ActualState.Fdb(r.mac(), r.nodeUnderlayIp()));
      fdb.add(ActualState.Fdb.master(r.mac()));
      fdb.add(new ActualState.Fdb(Planner.ZERO_MAC, r.nodeUnderlayIp()));
      neigh.add(new ActualState.Neigh(r.ip(), r.mac()));
    }
    return new ActualState(links, Map.of(BX, fdb), Map.of(BX, neigh),
        Set.of("-N " + CHAIN, "-A " + CHAIN + " -s 172.18.0.0/16 ! -o " + BG + " -j MASQUERADE"), true);
  }

  static List<String> lines(List<Step> steps, Step.Tool tool) {
    return steps.stream().filter(s -> s.tool() == tool).flatMap(s -> s.lines().stream()).toList();
  }

  @Test
  void fromNothingCreatesTheWholeLayout() {
    List<Step> steps = Planner.plan(desired(List.of(R3)), EMPTY, false);
    List<String> ip = lines(steps, Step.Tool.IP);
    assertThat(ip).contains("link add name " + BX + " mtu 1450 type vxlan id 4096 dstport 4789 local 192.0.2.1"
        + " dev eth9 nolearning proxy");
    assertThat(ip).contains("link set dev " + BX + " master " + BB);
    assertThat(ip).contains("link add name " + Names.endpointVeth("n1", "t1", "net")
        + " mtu 1450 type veth peer name eth0 mtu 1450 address 02:42:0a:14:00:02 netns 4242");
    assertThat(ip).contains("addr replace 172.18.0.1/16 dev " + BG);
    assertThat(ip).contains("neigh replace 10.20.0.3 lladdr 02:42:0a:14:00:03 dev " + BX + " nud permanent");
    assertThat(ip).contains("addr replace 10.20.0.2/24 dev eth0", "route replace default via 172.18.0.1 dev eth1");
    assertThat(lines(steps, Step.Tool.BRIDGE)).contains(
        "fdb append 00:00:00:00:00:00 dev " + BX + " dst 192.0.2.2 self permanent",
        "fdb replace 02:42:0a:14:00:03 dev " + BX + " dst 192.0.2.2 self permanent",
        "fdb replace 02:42:0a:14:00:03 dev " + BX + " master static",
        "link set dev " + BX + " learning off",
        "link set dev " + Names.gatewayVeth("n1", "t1") + " isolated on");
    assertThat(lines(steps, Step.Tool.IPTABLES)).contains(
        "-A " + CHAIN + " -s 172.18.0.0/16 ! -o " + BG + " -j MASQUERADE", "-A POSTROUTING -j " + CHAIN);
    // container-side commands run in the container's namespace, not the host's
    assertThat(steps.stream().filter(s -> s.netns().equals(NetnsRef.ofPid(4242))).flatMap(s -> s.lines().stream()))
        .contains("addr replace 10.20.0.2/24 dev eth0").noneMatch(l -> l.contains("vxlan"));
  }

  @Test
  void convergedStateNeedsNothing() {
    assertThat(Planner.plan(desired(List.of(R3, R4)), converged(List.of(R3, R4)), false)).isEmpty();
  }

  @Test
  void departedRemoteLosesItsEntriesAndItsNodesFloodEntry() {
    List<Step> steps = Planner.plan(desired(List.of(R3)), converged(List.of(R3, R4)), false);
    assertThat(lines(steps, Step.Tool.IP)).containsExactly("neigh del 10.20.0.4 dev " + BX);
    assertThat(lines(steps, Step.Tool.BRIDGE)).containsExactlyInAnyOrder(
        "fdb del 02:42:0a:14:00:04 dev " + BX + " dst 192.0.2.3 self",
        "fdb del 02:42:0a:14:00:04 dev " + BX + " master",
        "fdb del 00:00:00:00:00:00 dev " + BX + " dst 192.0.2.3 self");
  }

  @Test
  void taskMovedToAnotherNodeRepointsItsMac() {
    RemoteEndpoint moved = new RemoteEndpoint("net", "10.20.0.3", "02:42:0a:14:00:03", "192.0.2.3");
    List<Step> steps = Planner.plan(desired(List.of(moved)), converged(List.of(R3)), false);
    List<String> br = lines(steps, Step.Tool.BRIDGE);
    // deletions (in a fixed order) come before additions, so re-pointing the MAC is safe
    assertThat(br).containsExactly(
        "fdb del 00:00:00:00:00:00 dev " + BX + " dst 192.0.2.2 self",
        "fdb del 02:42:0a:14:00:03 dev " + BX + " dst 192.0.2.2 self",
        "fdb replace 02:42:0a:14:00:03 dev " + BX + " dst 192.0.2.3 self permanent",
        "fdb append 00:00:00:00:00:00 dev " + BX + " dst 192.0.2.3 self permanent");
  }

  @Test
  void vxlanWithAnotherVniIsRecreatedAndStaleLinksGoFirst() {
    Map<String, ActualState.Link> links = new HashMap<>(converged(List.of()).links());
    links.put(BX, new ActualState.Link(BX, "vxlan", 9999));
    links.put("bxstale", new ActualState.Link("bxstale", "vxlan", 4097));
    ActualState a = new ActualState(links, Map.of(), Map.of(), converged(List.of()).natRules(), true);
    List<String> ip = lines(Planner.plan(desired(List.of()), a, false), Step.Tool.IP);
    assertThat(ip).contains("link del dev bxstale", "link del dev " + BX);
    assertThat(ip.indexOf("link del dev " + BX)).isLessThan(ip.indexOf(
        "link add name " + BX + " mtu 1450 type vxlan id 4096 dstport 4789 local 192.0.2.1 dev eth9 nolearning proxy"));
  }

  @Test
  void restartReappliesContainerConfigurationIdempotently() {
    List<Step> steps = Planner.plan(desired(List.of()), converged(List.of()), true);
    assertThat(steps).hasSize(1);
    assertThat(steps.get(0).netns()).isEqualTo(NetnsRef.ofPid(4242));
    assertThat(steps.get(0).lines()).allMatch(l -> l.contains("replace") || l.startsWith("link set"));
  }

  @Test
  void teardownRemovesLinksAndTheNatChain() {
    List<Step> steps = Planner.teardown(NODE, converged(List.of(R3)));
    assertThat(lines(steps, Step.Tool.IP)).hasSize(5).allMatch(l -> l.startsWith("link del dev "));
    assertThat(lines(steps, Step.Tool.IPTABLES)).contains("-D POSTROUTING -j " + CHAIN, "-X " + CHAIN);
  }
}
