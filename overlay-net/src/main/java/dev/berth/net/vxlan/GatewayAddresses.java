package dev.berth.net.vxlan;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * Node-local addresses on the gateway bridge, one per container: lowest free host address
 * of the node's gateway subnet (the bridge itself holds the first). Node-local, so no
 * cluster coordination; rebuilt after an agent restart by {@link #restore}ing what the
 * running containers hold.
 *
 * <p>Thread model: not thread-safe; the agent's network executor owns it. Error contract:
 * {@link #allocate} throws {@link IllegalStateException} when the subnet is full.
 */
public final class GatewayAddresses {
  private final Cidr subnet;
  private final TreeSet<Integer> used = new TreeSet<>();
  private final Map<String, Integer> bySandbox = new HashMap<>();

  public GatewayAddresses(String gatewaySubnet) {
    this.subnet = Cidr.parse(gatewaySubnet);
  }

  /** "a.b.c.d/n" for a sandbox; the same one again if it already has one. */
  public String allocate(String sandboxId) {
    Integer have = bySandbox.get(sandboxId);
    if (have != null) {
      return format(have);
    }
    long size = 1L << (32 - subnet.prefix());
    for (long off = 2; off < size - 1; off++) {
      int a = subnet.base() + (int) off;
      if (!used.contains(a)) {
        used.add(a);
        bySandbox.put(sandboxId, a);
        return format(a);
      }
    }
    throw new IllegalStateException("gateway subnet " + subnet + " is full");
  }

  /** Marks an address a running container already holds (agent restart). */
  public void restore(String sandboxId, String cidr) {
    int a = Cidr.address(Cidr.hostOf(cidr));
    used.add(a);
    bySandbox.put(sandboxId, a);
  }

  public void release(String sandboxId) {
    Integer a = bySandbox.remove(sandboxId);
    if (a != null) {
      used.remove(a);
    }
  }

  private String format(int a) {
    return Cidr.format(a) + "/" + subnet.prefix();
  }
}
