package dev.berth.net.vxlan;

import java.io.IOException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads back what the kernel holds for one node: its links (by alias), their static FDB
 * and permanent neighbour entries, and its NAT chain. Parses iproute2's one-line text
 * output (`-o`), whose shape has been stable for a decade; JSON output would need a JSON
 * library for three fields.
 *
 * <p>Thread model: stateless. Error contract: a tool failing throws {@link IOException}.
 */
public class KernelReader {
  private static final Pattern LINK = Pattern.compile("^\\d+: ([^:@]+)[:@]");
  private static final Pattern ALIAS = Pattern.compile("\\\\ +alias (\\S+)\\s*$");
  private static final Pattern VXLAN_ID = Pattern.compile(" vxlan id (\\d+) ");

  public ActualState read(NodeConfig node) throws IOException {
    NetnsRef ns = node.host();
    String alias = Names.alias(node.nodeId());
    Map<String, ActualState.Link> links = new HashMap<>();
    for (String line : Commands.run(ns.exec(List.of("ip", "-d", "-o", "link", "show")), null).split("\n")) {
      Matcher name = LINK.matcher(line);
      Matcher al = ALIAS.matcher(line);
      if (!name.find() || !al.find() || !al.group(1).equals(alias)) {
        continue;
      }
      Matcher vx = VXLAN_ID.matcher(line);
      String kind = vx.find() ? "vxlan" : line.contains("\\    bridge forward_delay") ? "bridge"
          : line.contains("\\    veth ") ? "veth" : "other";
      links.put(name.group(1), new ActualState.Link(name.group(1), kind, kind.equals("vxlan")
          ? Integer.parseInt(vx.group(1)) : 0));
    }
    Set<String> vxlans = new HashSet<>();
    links.values().stream().filter(l -> l.kind().equals("vxlan")).forEach(l -> vxlans.add(l.name()));

    Map<String, Set<ActualState.Fdb>> fdb = new HashMap<>();
    Map<String, Set<ActualState.Neigh>> neigh = new HashMap<>();
    if (!vxlans.isEmpty()) {
      // e.g. "02:42:0a:14:00:03 dev bx0123 dst 192.0.2.2 self permanent"
      for (String line : Commands.run(ns.exec(List.of("bridge", "fdb", "show")), null).split("\n")) {
        String[] t = line.trim().split("\\s+");
        String dev = after(t, "dev");
        String dst = after(t, "dst");
        if (dev == null || !vxlans.contains(dev)) {
          continue;
        }
        List<String> flags = List.of(t);
        if (dst != null && flags.contains("self")) {
          fdb.computeIfAbsent(dev, k -> new HashSet<>()).add(new ActualState.Fdb(t[0].toLowerCase(), dst));
        } else if (flags.contains("master") && flags.contains("static")) {
          // "02:42:0a:14:00:03 dev bx0123 master bb0123 static"
          fdb.computeIfAbsent(dev, k -> new HashSet<>()).add(ActualState.Fdb.master(t[0].toLowerCase()));
        }
      }
      // e.g. "10.20.0.3 dev bx0123 lladdr 02:42:0a:14:00:03 PERMANENT"
      for (String line : Commands.run(ns.exec(List.of("ip", "-4", "neigh", "show")), null).split("\n")) {
        String[] t = line.trim().split("\\s+");
        String dev = after(t, "dev");
        String mac = after(t, "lladdr");
        if (dev != null && mac != null && vxlans.contains(dev) && line.contains("PERMANENT")) {
          neigh.computeIfAbsent(dev, k -> new HashSet<>()).add(new ActualState.Neigh(t[0], mac.toLowerCase()));
        }
      }
    }

    String chain = Names.natChain(node.nodeId());
    Set<String> rules = new HashSet<>();
    boolean jump = false;
    for (String line : Commands.run(ns.exec(List.of("iptables", "-w", "-t", "nat", "-S")), null).split("\n")) {
      String l = line.trim();
      if (l.equals("-N " + chain) || l.startsWith("-A " + chain + " ")) {
        rules.add(l);
      } else if (l.equals("-A POSTROUTING -j " + chain)) {
        jump = true;
      }
    }
    return new ActualState(links, fdb, neigh, rules, jump);
  }

  private static String after(String[] tokens, String key) {
    for (int i = 0; i + 1 < tokens.length; i++) {
      if (tokens[i].equals(key)) {
        return tokens[i + 1];
      }
    }
    return null;
  }
}
