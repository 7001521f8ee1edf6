package dev.berth.net.vxlan;

/**
 * A task on another node: its overlay address and MAC, and the underlay address of the
 * node it runs on (the VXLAN tunnel endpoint).
 */
public record RemoteEndpoint(String networkId, String ip, String mac, String nodeUnderlayIp) {
  public RemoteEndpoint {
    ip = Cidr.hostOf(ip);
    Cidr.address(ip);
    Cidr.address(nodeUnderlayIp);
    mac = mac.toLowerCase();
  }
}
