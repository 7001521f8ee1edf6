package dev.berth.net.vxlan;

/**
 * This node's place on the underlay: the device and address VXLAN runs over, its MTU
 * (overlay links get MTU - 50, the VXLAN/UDP/IP/Ethernet overhead), and the node-local
 * subnet of the gateway bridge (first address on the bridge; containers' gateway legs
 * get the others).
 *
 * @param host the namespace the agent's host side lives in (CURRENT on a real node)
 */
public record NodeConfig(String nodeId, NetnsRef host, String underlayDev, String underlayIp, int underlayMtu,
    String gatewaySubnet) {
  /** VXLAN over IPv4 adds 50 bytes: outer Ethernet 14 + IP 20 + UDP 8 + VXLAN 8. */
  public static final int VXLAN_OVERHEAD = 50;

  public NodeConfig {
    if (nodeId == null || nodeId.isEmpty()) {
      throw new IllegalArgumentException("node id is empty");
    }
    if (underlayMtu < 576 + VXLAN_OVERHEAD) {
      throw new IllegalArgumentException("underlay MTU " + underlayMtu + " leaves no room for VXLAN");
    }
    Cidr.parse(gatewaySubnet);
  }

  public int overlayMtu() {
    return underlayMtu - VXLAN_OVERHEAD;
  }

  /** "a.b.c.d/n" of the gateway bridge itself: the subnet's first host. */
  public String gatewayBridgeAddress() {
    Cidr c = Cidr.parse(gatewaySubnet);
    return Cidr.format(c.base() + 1) + "/" + c.prefix();
  }

  public String gatewayRouter() {
    return Cidr.format(Cidr.parse(gatewaySubnet).base() + 1);
  }
}
