package dev.berth.manager.ipam;

import dev.berth.api.v1.Cluster;

/**
 * Cluster-wide IPAM settings: the VNI range networks draw from, the default address pool
 * and the size of subnets carved from it, and the name of the routing-mesh network.
 *
 * <p>Thread model: immutable. Error contract: the constructor and {@link #fromCluster}
 * throw {@link IllegalArgumentException} naming an inconsistent setting.
 */
public record IpamConfig(int vniMin, int vniMax, Ipv4Subnet defaultPool, int defaultSubnetPrefix) {

  /** 10.20.0.0/16 carved into /24s; VNIs 4096..16777215 (low VNIs are left to hand-built setups). */
  public static final IpamConfig DEFAULT = new IpamConfig(4096, (1 << 24) - 1, new Ipv4Subnet(0x0a140000, 16), 24);

  public IpamConfig {
    if (vniMin < 1 || vniMax > (1 << 24) - 1 || vniMin > vniMax) {
      throw new IllegalArgumentException("VNI range " + vniMin + ".." + vniMax + " must lie within 1..16777215");
    }
    if (defaultSubnetPrefix < defaultPool.prefix() || defaultSubnetPrefix > 30) {
      throw new IllegalArgumentException("default subnet size /" + defaultSubnetPrefix
          + " must be between the pool's /" + defaultPool.prefix() + " and /30");
    }
  }

  /**
   * Prefix of the ingress network carved at init: a sixteenth of the pool, no larger than a /20,
   * never smaller than the default subnet (the default pool gives 10.20.0.0/20). Every node holds
   * an ingress address, beside each task of a service publishing through the mesh, so a /24 (as
   * Swarm's 10.0.0.0/24) refused the 254th node's registration; a /20 holds 4,093.
   */
  public int ingressSubnetPrefix() {
    return Math.min(defaultSubnetPrefix, Math.max(defaultPool.prefix() + 4, 20));
  }

  /** Settings from the stored Cluster object, falling back to {@link #DEFAULT} for unset fields. */
  public static IpamConfig fromCluster(Cluster cluster) {
    Ipv4Subnet pool = DEFAULT.defaultPool;
    if (!cluster.getDefaultAddressPool().isEmpty()) {
      try {
        pool = Ipv4Subnet.parse(cluster.getDefaultAddressPool());
      } catch (IpamException e) {
        throw new IllegalArgumentException("cluster default address pool: " + e.getMessage(), e);
      }
    }
    int size = cluster.getDefaultSubnetSize() == 0 ? DEFAULT.defaultSubnetPrefix : cluster.getDefaultSubnetSize();
    return new IpamConfig(DEFAULT.vniMin, DEFAULT.vniMax, pool, size);
  }
}
