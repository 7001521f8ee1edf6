package dev.berth.net.vxlan;

import dev.berth.api.v1.Network;

/** One overlay network as the data plane needs it. Immutable. */
public record OverlayNetwork(String id, int vni, String subnet) {
  public OverlayNetwork {
    if (vni < 1 || vni > (1 << 24) - 1) {
      throw new IllegalArgumentException("VNI " + vni + " of network " + id + " is outside 1..16777215");
    }
    Cidr.parse(subnet);
  }

  public static OverlayNetwork of(Network n) {
    return new OverlayNetwork(n.getMeta().getId(), n.getVni(), n.getSubnet());
  }
}
