package dev.berth.net.vxlan;

import java.util.List;

/**
 * One batch of kernel commands for one tool in one namespace, run in plan order.
 *
 * <p>IP and BRIDGE lines are iproute2 batch lines ({@code ip -batch -}); IPTABLES lines
 * are an iptables-restore --noflush script; SYSCTL lines are "key=value".
 */
public record Step(Tool tool, NetnsRef netns, List<String> lines) {
  public enum Tool { IP, BRIDGE, IPTABLES, SYSCTL }

  public Step {
    lines = List.copyOf(lines);
  }
}
