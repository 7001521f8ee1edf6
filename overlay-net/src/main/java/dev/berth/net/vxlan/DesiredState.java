package dev.berth.net.vxlan;

import java.util.List;

/**
 * What this node's data plane should look like. Immutable value; {@link DataPlane}
 * derives a new one on every change.
 */
public record DesiredState(NodeConfig node, List<OverlayNetwork> networks, List<Sandbox> sandboxes,
    List<LocalEndpoint> endpoints, List<RemoteEndpoint> remotes) {
  public DesiredState {
    networks = List.copyOf(networks);
    sandboxes = List.copyOf(sandboxes);
    endpoints = List.copyOf(endpoints);
    remotes = List.copyOf(remotes);
  }
}
