package dev.berth.net.vxlan;

/**
 * A container's attachment to an overlay network on this node.
 *
 * @param ifname interface name inside the container (eth0, eth1, ...)
 * @param address "a.b.c.d/n" from the cluster IPAM
 * @param mac derived from the address by the IPAM (02:42:...)
 */
public record LocalEndpoint(String sandboxId, String networkId, String ifname, String address, String mac) {
  public LocalEndpoint {
    Cidr.parse(address);
  }
}
