package dev.berth.net.vxlan;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The pure core of the data plane: desired state + what the kernel has → the commands
 * that make the kernel match. No I/O; same inputs, same commands.
 *
 * <p>Layout, per node (in the node's own namespace, see docs/overlay.md for why not a
 * namespace per network): per network a bridge and a VXLAN device (dstport 4789,
 * nolearning, proxy) enslaved to it, no address on either (so the host never routes
 * between overlays); per container a veth to each of its networks' bridges and one to
 * the node's gateway bridge, whose port is "isolated" (containers cannot talk to each
 * other through it, only to the host, which routes and masquerades them out).
 *
 * <p>Remote endpoints become a static FDB entry (MAC → remote node's underlay address),
 * an all-zeros flood entry per remote node, and a permanent neighbour entry on the VXLAN
 * device, which "proxy" uses to answer containers' ARP requests locally. The bridge does
 * not learn on the VXLAN port; it gets a static entry per remote MAC instead, so frames to
 * remote tasks go straight to the VXLAN port (never flooded to local containers) and a
 * departed task's MAC disappears at once rather than after the learning timeout.
 *
 * <p>Thread model: stateless, thread-safe. Error contract: none beyond the records'
 * own validation.
 */
public final class Planner {
  static final String ZERO_MAC = "00:00:00:00:00:00";
  static final int VXLAN_PORT = 4789;

  private static final Comparator<ActualState.Fdb> FDB_ORDER =
      Comparator.comparing(ActualState.Fdb::mac).thenComparing(ActualState.Fdb::dst);

  private Planner() {}

  /** What the kernel holds comes in hash order; commands must not (same inputs, same commands). */
  private static <T> List<T> sorted(Collection<T> items, Comparator<T> order) {
    return items.stream().sorted(order).toList();
  }

  /**
   * @param reapplySandboxes also re-issue the (idempotent) configuration inside every
   *     container namespace, not only for interfaces created now (after an agent restart)
   */
  public static List<Step> plan(DesiredState d, ActualState a, boolean reapplySandboxes) {
    NodeConfig node = d.node();
    String id = node.nodeId();
    String alias = Names.alias(id);
    int mtu = node.overlayMtu();
    List<String> ip = new ArrayList<>();
    List<String> br = new ArrayList<>();
    Map<String, List<String>> inSandbox = new LinkedHashMap<>();
    Map<String, Sandbox> sandboxes = new HashMap<>();
    d.sandboxes().forEach(s -> sandboxes.put(s.id(), s));

    // Desired links, by name, with kind and VNI.
    Map<String, ActualState.Link> want = new LinkedHashMap<>();
    String gwBridge = Names.gatewayBridge(id);
    want.put(gwBridge, new ActualState.Link(gwBridge, "bridge", 0));
    for (OverlayNetwork n : d.networks()) {
      want.put(Names.bridge(id, n.id()), new ActualState.Link(Names.bridge(id, n.id()), "bridge", 0));
      want.put(Names.vxlan(id, n.id()), new ActualState.Link(Names.vxlan(id, n.id()), "vxlan", n.vni()));
    }
    for (LocalEndpoint e : d.endpoints()) {
      String v = Names.endpointVeth(id, e.sandboxId(), e.networkId());
      want.put(v, new ActualState.Link(v, "veth", 0));
    }
    for (Sandbox s : d.sandboxes()) {
      want.put(Names.gatewayVeth(id, s.id()), new ActualState.Link(Names.gatewayVeth(id, s.id()), "veth", 0));
    }

    // 1. Remove what is ours but not wanted (or wrong, e.g. a VXLAN with another VNI): veths
    // first so their bridges are empty, VXLAN devices take their FDB/neighbour entries along.
    Set<String> present = new LinkedHashSet<>();
    for (String kind : List.of("veth", "vxlan", "bridge")) {
      for (ActualState.Link l : sorted(a.links().values(), Comparator.comparing(ActualState.Link::name))) {
        if (!l.kind().equals(kind)) {
          continue;
        }
        if (l.equals(want.get(l.name()))) {
          present.add(l.name());
        } else {
          ip.add("link del dev " + l.name());
        }
      }
    }

    // 2. Create what is missing.
    if (!present.contains(gwBridge)) {
      ip.add("link add name " + gwBridge + " mtu " + node.underlayMtu() + " type bridge");
      ip.add("link set dev " + gwBridge + " alias " + alias);
      ip.add("addr replace " + node.gatewayBridgeAddress() + " dev " + gwBridge);
      ip.add("link set dev " + gwBridge + " up");
    }
    for (OverlayNetwork n : d.networks()) {
      String b = Names.bridge(id, n.id());
      String x = Names.vxlan(id, n.id());
      if (!present.contains(b)) {
        ip.add("link add name " + b + " mtu " + mtu + " type bridge");
        ip.add("link set dev " + b + " alias " + alias);
        ip.add("link set dev " + b + " up");
      }
      if (n.hostAddress() != null && (!present.contains(b) || reapplySandboxes)) {
        // The node's ingress address, with the MAC the IPAM derives for it, as other nodes'
        // FDB/neighbour entries for this node expect.
        ip.add("link set dev " + b + " address " + macOf(Cidr.hostOf(n.hostAddress())));
        ip.add("addr replace " + n.hostAddress() + " dev " + b);
      }
      if (!present.contains(x)) {
        ip.add("link add name " + x + " mtu " + mtu + " type vxlan id " + n.vni() + " dstport " + VXLAN_PORT
            + " local " + node.underlayIp() + " dev " + node.underlayDev() + " nolearning proxy");
        ip.add("link set dev " + x + " alias " + alias);
        ip.add("link set dev " + x + " master " + b);
        ip.add("link set dev " + x + " up");
        br.add("link set dev " + x + " learning off");
      }
    }
    for (LocalEndpoint e : d.endpoints()) {
      Sandbox s = sandboxes.get(e.sandboxId());
      if (s == null) {
        throw new IllegalArgumentException("endpoint on " + e.networkId() + " names unknown sandbox " + e.sandboxId());
      }
      String v = Names.endpointVeth(id, e.sandboxId(), e.networkId());
      boolean fresh = !present.contains(v);
      if (fresh) {
        ip.add("link add name " + v + " mtu " + mtu + " type veth peer name " + e.ifname() + " mtu " + mtu
            + " address " + e.mac() + " netns " + s.netns().moveArg());
        ip.add("link set dev " + v + " alias " + alias);
        ip.add("link set dev " + v + " master " + Names.bridge(id, e.networkId()));
        ip.add("link set dev " + v + " up");
      }
      if (fresh || reapplySandboxes) {
        List<String> lines = inSandbox.computeIfAbsent(s.id(), k -> new ArrayList<>());
        lines.add("link set dev " + e.ifname() + " address " + e.mac() + " mtu " + mtu);
        lines.add("addr replace " + e.address() + " dev " + e.ifname());
        lines.add("link set dev " + e.ifname() + " up");
      }
    }
    for (Sandbox s : d.sandboxes()) {
      String w = Names.gatewayVeth(id, s.id());
      boolean fresh = !present.contains(w);
      if (fresh) {
        ip.add("link add name " + w + " mtu " + node.underlayMtu() + " type veth peer name " + s.gatewayIf()
            + " mtu " + node.underlayMtu() + " netns " + s.netns().moveArg());
        ip.add("link set dev " + w + " alias " + alias);
        ip.add("link set dev " + w + " master " + gwBridge);
        ip.add("link set dev " + w + " up");
        br.add("link set dev " + w + " isolated on");
      }
      if (fresh || reapplySandboxes) {
        List<String> lines = inSandbox.computeIfAbsent(s.id(), k -> new ArrayList<>());
        lines.add("link set dev lo up");
        lines.add("addr replace " + s.gatewayAddress() + " dev " + s.gatewayIf());
        lines.add("link set dev " + s.gatewayIf() + " up");
        lines.add("route replace default via " + node.gatewayRouter() + " dev " + s.gatewayIf());
      }
    }

    // 3. Remote endpoints: neighbour entries (ip) and FDB entries (bridge), per VXLAN device.
    List<String> fdbDel = new ArrayList<>();
    List<String> fdbAdd = new ArrayList<>();
    for (OverlayNetwork n : d.networks()) {
      String x = Names.vxlan(id, n.id());
      boolean fresh = !present.contains(x);
      Set<ActualState.Neigh> wantNeigh = new LinkedHashSet<>();
      Set<ActualState.Fdb> wantFdb = new LinkedHashSet<>();
      Set<ActualState.Fdb> flood = new LinkedHashSet<>();
      for (RemoteEndpoint r : d.remotes()) {
        if (r.networkId().equals(n.id())) {
          wantNeigh.add(new ActualState.Neigh(r.ip(), r.mac()));
          wantFdb.add(new ActualState.Fdb(r.mac(), r.nodeUnderlayIp()));
          wantFdb.add(ActualState.Fdb.master(r.mac()));
          flood.add(new ActualState.Fdb(ZERO_MAC, r.nodeUnderlayIp()));
        }
      }
      wantFdb.addAll(flood);
      Set<ActualState.Neigh> haveNeigh = fresh ? Set.of() : a.neigh().getOrDefault(x, Set.of());
      Set<ActualState.Fdb> haveFdb = fresh ? Set.of() : a.fdb().getOrDefault(x, Set.of());
      Set<String> wantIps = new LinkedHashSet<>();
      wantNeigh.forEach(w -> wantIps.add(w.ip()));
      for (ActualState.Neigh h : sorted(haveNeigh, Comparator.comparing(ActualState.Neigh::ip))) {
        if (!wantIps.contains(h.ip())) {
          ip.add("neigh del " + h.ip() + " dev " + x);
        }
      }
      for (ActualState.Neigh w : wantNeigh) {
        if (!haveNeigh.contains(w)) {
          ip.add("neigh replace " + w.ip() + " lladdr " + w.mac() + " dev " + x + " nud permanent");
        }
      }
      for (ActualState.Fdb h : sorted(haveFdb, FDB_ORDER)) {
        if (!wantFdb.contains(h)) {
          fdbDel.add("fdb del " + h.mac() + " dev " + x + (h.isMaster() ? " master" : " dst " + h.dst() + " self"));
        }
      }
      for (ActualState.Fdb w : wantFdb) {
        if (!haveFdb.contains(w)) {
          // The all-zeros entry may have one destination per remote node, hence append;
          // a unicast MAC has exactly one, hence replace.
          if (w.isMaster()) {
            fdbAdd.add("fdb replace " + w.mac() + " dev " + x + " master static");
          } else {
            fdbAdd.add("fdb " + (w.mac().equals(ZERO_MAC) ? "append " : "replace ") + w.mac() + " dev " + x
                + " dst " + w.dst() + " self permanent");
          }
        }
      }
    }
    br.addAll(fdbDel);
    br.addAll(fdbAdd);

    // 4. Source NAT for the gateway bridge.
    String chain = Names.natChain(id);
    String masquerade = "-A " + chain + " -s " + Cidr.parse(node.gatewaySubnet()) + " ! -o " + gwBridge
        + " -j MASQUERADE";

    List<Step> steps = new ArrayList<>();
    if (!ip.isEmpty()) {
      steps.add(new Step(Step.Tool.IP, node.host(), ip));
    }
    if (!br.isEmpty()) {
      steps.add(new Step(Step.Tool.BRIDGE, node.host(), br));
    }
    inSandbox.forEach((sid, lines) -> steps.add(new Step(Step.Tool.IP, sandboxes.get(sid).netns(), lines)));
    if (!Set.of("-N " + chain, masquerade).equals(a.natRules()) || !a.natJump()) {
      steps.add(new Step(Step.Tool.SYSCTL, node.host(), List.of("net.ipv4.ip_forward=1")));
      List<String> script = new ArrayList<>();
      script.add("*nat");
      script.add(":" + chain + " - [0:0]"); // declaring the chain flushes it, even with --noflush
      script.add(masquerade);
      if (!a.natJump()) {
        script.add("-A POSTROUTING -j " + chain);
      }
      script.add("COMMIT");
      steps.add(new Step(Step.Tool.IPTABLES, node.host(), script));
    }
    return steps;
  }

  /** 02:42 followed by the address's four octets, as the cluster IPAM derives MACs. */
  static String macOf(String ip) {
    int a = Cidr.address(ip);
    return String.format("02:42:%02x:%02x:%02x:%02x", (a >>> 24) & 0xff, (a >>> 16) & 0xff, (a >>> 8) & 0xff,
        a & 0xff);
  }

  /** Commands removing everything of this node's: its links (with their entries) and its NAT chain. */
  public static List<Step> teardown(NodeConfig node, ActualState a) {
    List<Step> steps = new ArrayList<>();
    List<String> ip = new ArrayList<>();
    for (String kind : List.of("veth", "vxlan", "bridge")) {
      sorted(a.links().values(), Comparator.comparing(ActualState.Link::name)).stream()
          .filter(l -> l.kind().equals(kind)).forEach(l -> ip.add("link del dev " + l.name()));
    }
    if (!ip.isEmpty()) {
      steps.add(new Step(Step.Tool.IP, node.host(), ip));
    }
    String chain = Names.natChain(node.nodeId());
    if (a.natJump() || !a.natRules().isEmpty()) {
      List<String> script = new ArrayList<>(List.of("*nat"));
      if (a.natJump()) {
        script.add("-D POSTROUTING -j " + chain);
      }
      script.add("-F " + chain);
      script.add("-X " + chain);
      script.add("COMMIT");
      steps.add(new Step(Step.Tool.IPTABLES, node.host(), script));
    }
    return steps;
  }
}
