package dev.berth.manager.store;

import dev.berth.api.v1.Cluster;
import dev.berth.api.v1.Network;
import dev.berth.api.v1.NetworkAttachmentConfig;
import dev.berth.api.v1.NetworkSpec;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeRole;
import dev.berth.api.v1.Service;
import dev.berth.internal.v1.CreateNetwork;
import dev.berth.internal.v1.InitCluster;
import dev.berth.internal.v1.RemoveNetwork;
import dev.berth.internal.v1.RotateToken;
import dev.berth.manager.ipam.Ipam;
import dev.berth.manager.ipam.IpamConfig;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/** Apply of cluster-wide commands: cluster init, join-token rotation, networks. */
final class ClusterCommands {
  static final int DEFAULT_HISTORY_LIMIT = 5;
  /** Name of the routing-mesh network init creates. */
  public static final String INGRESS_NAME = "ingress";
  private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");

  private ClusterCommands() {}

  static void requireId(String field, String id) {
    if (id.isEmpty() || id.length() > 64) {
      throw ApplyException.invalid(field + ": must be 1..64 characters");
    }
  }

  static void initCluster(ApplyContext ctx, InitCluster cmd) {
    if (ctx.state.cluster().isPresent()) {
      throw ApplyException.precondition("cluster is already initialized");
    }
    Cluster c = cmd.getCluster();
    requireId("cluster.meta.id", c.getMeta().getId());
    checkHash("cluster.worker_token_hash", c.getWorkerTokenHash());
    checkHash("cluster.manager_token_hash", c.getManagerTokenHash());
    Cluster.Builder b = c.toBuilder().setMeta(ctx.newMeta(c.getMeta().getId()));
    if (b.getTaskHistoryLimit() == 0) {
      b.setTaskHistoryLimit(DEFAULT_HISTORY_LIMIT);
    }
    if (b.getDefaultAddressPool().isEmpty()) {
      b.setDefaultAddressPool(IpamConfig.DEFAULT.defaultPool().toString());
    }
    if (b.getDefaultSubnetSize() == 0) {
      b.setDefaultSubnetSize(IpamConfig.DEFAULT.defaultSubnetPrefix());
    }
    Addresses.validatedConfig(b.build());
    ctx.putCluster(b.build());
    createIngress(ctx, c.getMeta().getId());
  }

  private static void checkHash(String field, String hash) {
    if (!SHA256_HEX.matcher(hash).matches()) {
      throw ApplyException.invalid(field + ": must be a lowercase hex SHA-256");
    }
  }

  static void rotateToken(ApplyContext ctx, RotateToken cmd) {
    Cluster c = ctx.state.cluster()
        .orElseThrow(() -> ApplyException.precondition("cluster is not initialized"));
    checkHash("token_hash", cmd.getTokenHash());
    Cluster.Builder b = c.toBuilder().setMeta(ctx.touch(c.getMeta()));
    if (cmd.getRole() == NodeRole.MANAGER) {
      b.setManagerTokenHash(cmd.getTokenHash());
    } else {
      b.setWorkerTokenHash(cmd.getTokenHash());
    }
    ctx.putCluster(b.build());
  }

  /**
   * The routing-mesh network every cluster starts with (as Swarm's), created by init; its
   * id is derived from the cluster's so that the init entry alone determines it.
   */
  static void createIngress(ApplyContext ctx, String clusterId) {
    String id = "ingress-" + clusterId;
    NetworkSpec spec = NetworkSpec.newBuilder().setName(INGRESS_NAME).setDriver("overlay")
        .setIngress(true).build();
    putNewNetwork(ctx, id, spec);
  }

  static void createNetwork(ApplyContext ctx, CreateNetwork cmd) {
    requireId("id", cmd.getId());
    NetworkSpec spec = cmd.getSpec();
    SpecValidator.validateNetwork(spec);
    if (ctx.state.network(cmd.getId()).isPresent()) {
      throw ApplyException.exists("network id " + cmd.getId() + " already exists");
    }
    if (ctx.state.networkByName(spec.getName()).isPresent()) {
      throw ApplyException.exists("network \"" + spec.getName() + "\" already exists");
    }
    putNewNetwork(ctx, cmd.getId(),
        spec.getDriver().isEmpty() ? spec.toBuilder().setDriver("overlay").build() : spec);
    ctx.createdIds.add(cmd.getId());
  }

  /** Stores a new network with its IPAM fields; an ingress network gives every node an address. */
  private static void putNewNetwork(ApplyContext ctx, String id, NetworkSpec spec) {
    Network n = Addresses.allocate(ctx, Network.newBuilder().setMeta(ctx.newMeta(id)).setSpec(spec).build());
    ctx.putNetwork(n);
    if (spec.getIngress()) {
      for (Node node : List.copyOf(ctx.state.nodes())) {
        Addresses.forNode(ctx, node.getMeta().getId()).ifPresent(a -> ctx.putNode(node.toBuilder()
            .setMeta(ctx.touch(node.getMeta())).setIngressAttachment(a).build()));
      }
    }
  }

  /**
   * Removes a network. Refused while a service names it, while tasks still hold addresses on
   * it (they have not confirmed they finished), and for ingress while a service publishes
   * ports; the refusal names them. Removing ingress takes the nodes' addresses back.
   */
  static void removeNetwork(ApplyContext ctx, RemoveNetwork cmd) {
    Network n = ctx.state.network(cmd.getId())
        .or(() -> ctx.state.networkByName(cmd.getId()))
        .orElseThrow(() -> ApplyException.notFound("network \"" + cmd.getId() + "\" not found"));
    String id = n.getMeta().getId();
    String name = n.getSpec().getName();
    Set<String> users = new TreeSet<>();
    Set<String> publishers = new TreeSet<>();
    for (Service s : ctx.state.services()) {
      for (NetworkAttachmentConfig a : s.getSpec().getTask().getNetworksList()) {
        if (a.getTarget().equals(id) || a.getTarget().equals(name)) {
          users.add(s.getSpec().getName());
        }
      }
      if (Addresses.publishesIngress(s.getSpec())) {
        publishers.add(s.getSpec().getName());
      }
    }
    if (!users.isEmpty()) {
      throw ApplyException.precondition("network \"" + name + "\" is in use by " + services(users));
    }
    if (n.getSpec().getIngress() && !publishers.isEmpty()) {
      throw ApplyException.precondition("network \"" + name + "\" carries the published ports of "
          + services(publishers) + "; unpublish them first");
    }
    Set<String> holders = new TreeSet<>();
    for (String owner : ctx.state.ipam().holders(id)) {
      if (owner.startsWith(Ipam.taskOwner(""))) {
        ctx.state.task(owner.substring(Ipam.taskOwner("").length()))
            .ifPresent(t -> holders.add(t.getServiceName() + " (task " + t.getMeta().getId() + ")"));
      }
    }
    if (!holders.isEmpty()) {
      throw ApplyException.precondition("network \"" + name + "\" still has addresses held by tasks that "
          + "have not finished yet: " + String.join(", ", holders.stream().limit(5).toList())
          + (holders.size() > 5 ? " and " + (holders.size() - 5) + " more" : ""));
    }
    for (Node node : List.copyOf(ctx.state.nodes())) {
      if (node.hasIngressAttachment() && node.getIngressAttachment().getNetworkId().equals(id)) {
        ctx.putNode(node.toBuilder().setMeta(ctx.touch(node.getMeta())).clearIngressAttachment().build());
      }
    }
    ctx.removeNetwork(n);
  }

  private static String services(Set<String> names) {
    return (names.size() == 1 ? "service " : "services ")
        + String.join(", ", names.stream().map(x -> "\"" + x + "\"").toList());
  }
}
