package dev.berth.net.vxlan;

import dev.berth.api.v1.NetworkAttachment;
import dev.berth.api.v1.Task;
import java.util.ArrayList;
import java.util.List;

/**
 * Translates the cluster's Task objects (with the IPAM's {@link NetworkAttachment}s) into
 * the data plane's records, so the agent wires a task in a few calls:
 * {@code plane.attach(sandbox(task, netns, gw), local(task))} for its own tasks and
 * {@code remote(task, underlayIp).forEach(plane::addRemote)} for other nodes' tasks.
 *
 * <p>Thread model: stateless. Error contract: a task without attachments yields no endpoints.
 */
public final class Endpoints {
  private Endpoints() {}

  /** The container's sandbox; gatewayAddress comes from {@link GatewayAddresses}. */
  public static Sandbox sandbox(Task task, NetnsRef netns, String gatewayIf, String gatewayAddress) {
    return new Sandbox(task.getMeta().getId(), netns, gatewayIf, gatewayAddress);
  }

  /** The task's overlay interfaces: eth0, eth1, ... in attachment order. */
  public static List<LocalEndpoint> local(Task task) {
    List<LocalEndpoint> out = new ArrayList<>();
    int i = 0;
    for (NetworkAttachment a : task.getNetworksList()) {
      out.add(new LocalEndpoint(task.getMeta().getId(), a.getNetworkId(), "eth" + i++, a.getAddress(), a.getMac()));
    }
    return out;
  }

  /** Name of the gateway leg inside the container: after the overlay interfaces. */
  public static String gatewayIf(Task task) {
    return "eth" + task.getNetworksCount();
  }

  /** A task running on another node, as FDB/neighbour entries pointing at that node. */
  public static List<RemoteEndpoint> remote(Task task, String nodeUnderlayIp) {
    List<RemoteEndpoint> out = new ArrayList<>();
    for (NetworkAttachment a : task.getNetworksList()) {
      out.add(new RemoteEndpoint(a.getNetworkId(), a.getAddress(), a.getMac(), nodeUnderlayIp));
    }
    return out;
  }
}
