package dev.berth.net.mesh;

import dev.berth.net.vxlan.Names;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Plans the routing mesh's kernel data path: the published ports of one node and the tasks behind
 * them become one nftables table, the way kube-proxy (nftables mode) and Swarm's ingress sandbox
 * (IPVS + iptables) do it. A user-space relay (even a bare C splice relay) cannot keep 0.8× of
 * direct throughput here because every byte crosses a second TCP connection; with DNAT the node
 * only rewrites addresses and forwards, so the client's one connection reaches the task.
 *
 * <p>The table ({@link Names#meshTable}: one per node, so agents sharing a namespace in tests keep
 * apart):
 * <ul>
 *   <li>{@code prerouting}/{@code output} (nat, dstnat): connections to any local address of this
 *       node ({@code fib daddr type local}, incl. 127.0.0.1) on a published port jump to the port's
 *       chain; {@code output} serves connections the node opens itself.
 *   <li>{@code port_P}: {@code numgen inc mod N} over per-task chains {@code port_P_i} that DNAT to
 *       the task. The order is {@link BackendPool#interleave}, so consecutive connections alternate
 *       across nodes as the user-space mesh's round-robin does. Only the first packet of a connection
 *       passes nat chains: the choice holds for the connection's life (conntrack).
 *   <li>{@code postrouting} (nat, srcnat): connections DNATed to a task are masqueraded to the
 *       address of the device they leave by (the node's ingress address on the ingress bridge, the
 *       gateway address for HOST-mode tasks), so replies come back through this node, as in Swarm's
 *       mesh; it also makes loopback clients work (their 127.0.0.1 source cannot leave the host).
 *   <li>{@code refuse} (filter, input): a published port with no healthy task answers a TCP reset
 *       instead of leaving clients to time out.
 * </ul>
 * The table carries a comment with a hash of its rules, so an applier can tell what the kernel holds
 * (also after an agent restart) without parsing nft's listing.
 *
 * <p>Thread model: stateless, pure. Error contract: a port out of range or a task address that is not
 * an IPv4 literal throws {@link IllegalArgumentException} naming it.
 */
public final class NatPlanner {
  private static final Pattern HASH = Pattern.compile("comment \"berth routing mesh sha256:([0-9a-f]+)\"");

  private NatPlanner() {}

  /**
   * One node's table.
   *
   * @param table the nftables table name
   * @param rules the full {@code table ip NAME { ... }} definition, empty when no port is published
   * @param hash hash of {@code rules} as the table's comment carries it ("" when there is no table)
   */
  public record Plan(String table, String rules, String hash) {
    /**
     * One {@code nft -f} transaction replacing whatever the table holds by this plan: adding the table
     * first makes the delete succeed when it is absent; all of it applies atomically or not at all, so
     * no connection ever sees a half-written table.
     */
    public String script() {
      return "table ip " + table + "\ndelete table ip " + table + "\n" + rules;
    }
  }

  /** The table for these published ports (port to its tasks, healthy or not). */
  public static Plan plan(String nodeId, SortedMap<Integer, List<Backend>> ports) {
    String table = Names.meshTable(nodeId);
    if (ports.isEmpty()) {
      return new Plan(table, "", "");
    }
    StringBuilder chains = new StringBuilder();
    List<String> dispatch = new ArrayList<>();
    TreeSet<String> masquerade = new TreeSet<>();
    List<Integer> refused = new ArrayList<>();
    for (Map.Entry<Integer, List<Backend>> e : ports.entrySet()) {
      int port = checkPort(e.getKey());
      List<Backend> rotation = BackendPool.interleave(e.getValue());
      if (rotation.isEmpty()) {
        refused.add(port);
        continue;
      }
      String chain = "port_" + port;
      dispatch.add(port + " : goto " + chain);
      List<String> picks = new ArrayList<>();
      for (int i = 0; i < rotation.size(); i++) {
        String target = ipv4(rotation.get(i)) + ":" + rotation.get(i).address().getPort();
        picks.add(i + " : goto " + chain + "_" + i);
        chain(chains, chain + "_" + i, "meta l4proto tcp dnat to " + target);
        masquerade.add(ipv4(rotation.get(i)) + " . " + rotation.get(i).address().getPort());
      }
      chain(chains, chain, "numgen inc mod " + rotation.size() + " vmap { " + String.join(", ", picks) + " }");
    }
    StringBuilder body = new StringBuilder();
    // priority -100 is "dstnat"; nft 1.0.6 accepts the name only on prerouting
    chain(body, "prerouting", "type nat hook prerouting priority dstnat; policy accept;",
        "fib daddr type local jump ports");
    chain(body, "output", "type nat hook output priority -100; policy accept;", "fib daddr type local jump ports");
    chain(body, "ports", dispatch.isEmpty() ? new String[0]
        : new String[] {"tcp dport vmap { " + String.join(", ", dispatch) + " }"});
    body.append(chains);
    chain(body, "postrouting", masquerade.isEmpty()
        ? new String[] {"type nat hook postrouting priority srcnat; policy accept;"}
        : new String[] {"type nat hook postrouting priority srcnat; policy accept;",
            "ct status dnat ip daddr . tcp dport { " + String.join(", ", masquerade) + " } masquerade"});
    if (!refused.isEmpty()) {
      chain(body, "refuse", "type filter hook input priority filter; policy accept;",
          "tcp dport { " + String.join(", ", refused.stream().map(String::valueOf).toList()) + " } reject with tcp reset");
    }
    String hash = Names.hash(body.toString(), 16);
    String rules = "table ip " + table + " {\n  comment \"berth routing mesh sha256:" + hash + "\"\n" + body + "}\n";
    return new Plan(table, rules, hash);
  }

  /** The rules hash a table listing ({@code nft list table ...}) carries, if it is one of these tables. */
  public static Optional<String> hashIn(String listing) {
    Matcher m = HASH.matcher(listing);
    return m.find() ? Optional.of(m.group(1)) : Optional.empty();
  }

  private static void chain(StringBuilder out, String name, String... lines) {
    out.append("  chain ").append(name).append(" {\n");
    for (String l : lines) {
      out.append("    ").append(l).append('\n');
    }
    out.append("  }\n");
  }

  private static int checkPort(int port) {
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("published port " + port + " is out of range 1-65535");
    }
    return port;
  }

  /** The backend's IPv4 literal; a name here would make nft resolve it at load time. */
  private static String ipv4(Backend b) {
    InetSocketAddress a = b.address();
    if (a.isUnresolved() || !(a.getAddress() instanceof Inet4Address) || a.getPort() < 1) {
      throw new IllegalArgumentException("task " + b.taskId() + ": routing mesh target " + a
          + " is not an IPv4 address with a port");
    }
    return a.getAddress().getHostAddress();
  }
}
