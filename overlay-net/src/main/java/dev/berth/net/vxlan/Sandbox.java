package dev.berth.net.vxlan;

/**
 * A container's network namespace on this node, with its leg on the node's gateway
 * bridge (default route, source NAT).
 *
 * @param gatewayIf interface name inside the container for the gateway leg
 * @param gatewayAddress its address ("a.b.c.d/n") from the node's gateway subnet
 */
public record Sandbox(String id, NetnsRef netns, String gatewayIf, String gatewayAddress) {
  public Sandbox {
    if (netns.isCurrent()) {
      throw new IllegalArgumentException("sandbox " + id + " must name its own network namespace");
    }
    Cidr.parse(gatewayAddress);
  }
}
