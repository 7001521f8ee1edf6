package dev.berth.scheduler.filter;

import dev.berth.api.v1.PortBinding;
import dev.berth.scheduler.NodeInfo;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Host-mode published ports are free on the node. A task binding host ports can run at most once per node,
 * so the capacity is 1 or 0.
 */
public final class HostPortFilter implements Filter {

  private final List<PortBinding> ports;

  public HostPortFilter(List<PortBinding> ports) {
    if (ports.isEmpty()) {
      throw new IllegalArgumentException("host port filter needs at least one port");
    }
    this.ports = List.copyOf(ports);
  }

  @Override
  public boolean check(NodeInfo node) {
    for (PortBinding p : ports) {
      if (node.hostPortInUse(p.getProtocol(), p.getPort())) {
        return false;
      }
    }
    return true;
  }

  @Override
  public int capacity(NodeInfo node) {
    return check(node) ? 1 : 0;
  }

  @Override
  public boolean isStatic() {
    return false;
  }

  @Override
  public String reason() {
    String list = ports.stream()
        .map(p -> p.getPort() + "/" + p.getProtocol().name().toLowerCase(Locale.ROOT))
        .collect(Collectors.joining(", "));
    return (ports.size() == 1 ? "host port " : "host ports ") + list + " in use";
  }
}
