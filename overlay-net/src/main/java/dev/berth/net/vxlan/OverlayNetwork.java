package dev.berth.net.vxlan;

import dev.berth.api.v1.Network;

/**
 * One overlay network as the data plane needs it. Immutable.
 *
 * @param hostAddress null for task networks (their bridges carry no address, so the host
 *     never routes into them); for the ingress network, the node's own ingress address
 *     ("a.b.c.d/n" from the IPAM), put on the bridge so the node's routing mesh reaches
 *     tasks over the overlay
 */
public record OverlayNetwork(String id, int vni, String subnet, String hostAddress) {
  public OverlayNetwork(String id, int vni, String subnet) {
    this(id, vni, subnet, null);
  }

  public OverlayNetwork {
    if (hostAddress != null) {
      Cidr.parse(hostAddress);
    }
    if (vni < 1 || vni > (1 << 24) - 1) {
      throw new IllegalArgumentException("VNI " + vni + " of network " + id + " is outside 1..16777215");
    }
    Cidr.parse(subnet);
  }

  public static OverlayNetwork of(Network n) {
    return new OverlayNetwork(n.getMeta().getId(), n.getVni(), n.getSubnet());
  }
}
