package dev.berth.scheduler;

import dev.berth.api.v1.PortBinding;
import java.util.List;

/**
 * One placement: the task goes to the node and binds these host ports (host-mode published ports with a fixed
 * published port; empty otherwise). The control plane sets {@code Task.node_id} and {@code Task.host_ports}
 * from it.
 */
public record Assignment(String taskId, String nodeId, List<PortBinding> hostPorts) {
  public Assignment {
    hostPorts = List.copyOf(hostPorts);
  }
}
