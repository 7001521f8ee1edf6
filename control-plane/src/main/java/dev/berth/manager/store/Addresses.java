package dev.berth.manager.store;

import dev.berth.api.v1.Cluster;
import dev.berth.api.v1.Network;
import dev.berth.api.v1.NetworkAttachment;
import dev.berth.api.v1.PortConfig;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.Task;
import dev.berth.manager.ipam.Ipam;
import dev.berth.manager.ipam.IpamConfig;
import dev.berth.manager.ipam.IpamException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Apply's use of the IPAM: asks {@link Ipam}'s decisions against the store's address index
 * and writes the answers into the objects (attachments, cursors), so the store stays the
 * one source of truth. Every choice happens here, in apply, so all replicas agree.
 */
final class Addresses {
  private Addresses() {}

  static IpamConfig config(ApplyContext ctx) {
    return ctx.state.cluster().map(IpamConfig::fromCluster).orElse(IpamConfig.DEFAULT);
  }

  /** Whether a service publishes a port through the routing mesh (so its tasks join ingress). */
  static boolean publishesIngress(ServiceSpec spec) {
    for (PortConfig p : spec.getEndpoint().getPortsList()) {
      if (p.getPublishMode() == PortConfig.PublishMode.INGRESS && p.getPublishedPort() != 0) {
        return true;
      }
    }
    return false;
  }

  /**
   * The addresses of a new task: one per network it names (an address it already carries,
   * from a plan, is re-validated; an empty one is chosen next-fit), plus ingress when its
   * service publishes ports through the mesh. All or nothing: a refusal fails the entry.
   */
  static List<NetworkAttachment> forTask(ApplyContext ctx, String f, Task t, ServiceSpec service) {
    Map<String, NetworkAttachment> wanted = new LinkedHashMap<>();
    for (int i = 0; i < t.getNetworksCount(); i++) {
      NetworkAttachment a = t.getNetworks(i);
      String nf = f + ".networks[" + i + "]";
      if (ctx.state.network(a.getNetworkId()).isEmpty()) {
        throw ApplyException.notFound(nf + ".network_id: network " + a.getNetworkId() + " not found");
      }
      if (wanted.put(a.getNetworkId(), a) != null) {
        throw ApplyException.invalid(nf + ".network_id: network " + a.getNetworkId() + " is attached twice");
      }
    }
    Optional<String> ingress = ctx.state.ipam().ingressNetworkId();
    if (ingress.isPresent() && publishesIngress(service) && !wanted.containsKey(ingress.get())) {
      wanted.put(ingress.get(), NetworkAttachment.newBuilder().setNetworkId(ingress.get()).build());
    }
    String owner = Ipam.taskOwner(t.getMeta().getId());
    List<NetworkAttachment> out = new ArrayList<>(wanted.size());
    for (NetworkAttachment a : wanted.values()) {
      out.add(take(ctx, f + ".networks", owner, a));
    }
    return out;
  }

  /** The ingress address a node gets, if there is an ingress network. */
  static Optional<NetworkAttachment> forNode(ApplyContext ctx, String nodeId) {
    return ctx.state.ipam().ingressNetworkId().map(id -> take(ctx, "ingress_attachment",
        Ipam.nodeOwner(nodeId), NetworkAttachment.newBuilder().setNetworkId(id).build()));
  }

  /** Chooses (or re-validates) one address and moves its network's cursor past it. */
  private static NetworkAttachment take(ApplyContext ctx, String f, String owner, NetworkAttachment a) {
    Ipam ipam = ctx.state.ipam();
    try {
      NetworkAttachment chosen = a.getAddress().isEmpty()
          ? ipam.nextAddress(a.getNetworkId()).toBuilder().addAllAliases(a.getAliasesList()).build()
          : ipam.checkAvailable(owner, a);
      Network n = ctx.state.network(a.getNetworkId()).orElseThrow();
      ctx.moveCursor(n.toBuilder().setIpamCursor(ipam.cursorAfter(chosen)).build());
      return chosen;
    } catch (IpamException e) {
      throw refused(f, e);
    }
  }

  /** A new network with VNI, subnet and gateway from the IPAM. */
  static Network allocate(ApplyContext ctx, Network n) {
    try {
      return ctx.state.ipam().allocateNetwork(n, config(ctx));
    } catch (IpamException e) {
      throw refused("spec", e);
    }
  }

  static ApplyException refused(String field, IpamException e) {
    String message = field + ": " + e.getMessage();
    return switch (e.reason()) {
      case INVALID_ARGUMENT -> ApplyException.invalid(message);
      case NOT_FOUND -> ApplyException.notFound(message);
      case EXHAUSTED -> new ApplyException("RESOURCE_EXHAUSTED", message);
      case CONFLICT -> ApplyException.precondition(message);
    };
  }

  static IpamConfig validatedConfig(Cluster c) {
    try {
      return IpamConfig.fromCluster(c);
    } catch (IllegalArgumentException e) {
      throw ApplyException.invalid("cluster: " + e.getMessage());
    }
  }
}
