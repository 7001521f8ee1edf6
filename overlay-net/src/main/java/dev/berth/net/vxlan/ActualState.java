package dev.berth.net.vxlan;

import java.util.Map;
import java.util.Set;

/**
 * What the kernel has, as read back by {@link KernelReader}: this node's links (those
 * carrying its alias), the static FDB and permanent neighbour entries of its VXLAN
 * devices, and its NAT chain's rules.
 *
 * @param links interface name -> link; only links with this node's alias
 * @param fdb VXLAN device name -> its "self" entries with a remote destination, and the
 *     bridge's static entries on that port (dst empty)
 * @param neigh VXLAN device name -> its permanent neighbour entries
 * @param natRules the node's nat chain as `iptables -S` prints it ("-N CHAIN", "-A CHAIN ..."),
 *     empty when absent
 * @param natJump whether POSTROUTING jumps to the chain
 */
public record ActualState(Map<String, Link> links, Map<String, Set<Fdb>> fdb, Map<String, Set<Neigh>> neigh,
    Set<String> natRules, boolean natJump) {

  /** @param vni VXLAN id, 0 for other kinds */
  public record Link(String name, String kind, int vni) {}

  /** @param dst remote underlay address; empty for the bridge's ("master") entry on the port */
  public record Fdb(String mac, String dst) {
    static Fdb master(String mac) {
      return new Fdb(mac, "");
    }

    boolean isMaster() {
      return dst.isEmpty();
    }
  }

  public record Neigh(String ip, String mac) {}
}
