package dev.berth.manager.store;

import dev.berth.api.v1.Cluster;
import dev.berth.api.v1.Network;
import dev.berth.api.v1.NetworkAttachmentConfig;
import dev.berth.api.v1.NetworkSpec;
import dev.berth.api.v1.NodeRole;
import dev.berth.api.v1.Service;
import dev.berth.internal.v1.CreateNetwork;
import dev.berth.internal.v1.InitCluster;
import dev.berth.internal.v1.RemoveNetwork;
import dev.berth.internal.v1.RotateToken;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Pattern;

/** Apply of cluster-wide commands: cluster init, join-token rotation, networks. */
final class ClusterCommands {
  static final String DEFAULT_POOL = "10.10.0.0/16";
  static final int DEFAULT_SUBNET_SIZE = 24;
  static final int DEFAULT_HISTORY_LIMIT = 5;
  /** VNIs below this are left to the operator's other VXLAN users. */
  static final int FIRST_VNI = 4096;
  static final int MAX_VNI = (1 << 24) - 1;
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
      b.setDefaultAddressPool(DEFAULT_POOL);
    }
    Cidr.parse("cluster.default_address_pool", b.getDefaultAddressPool());
    if (b.getDefaultSubnetSize() == 0) {
      b.setDefaultSubnetSize(DEFAULT_SUBNET_SIZE);
    }
    ctx.putCluster(b.build());
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
    Cidr subnet;
    if (spec.getSubnet().isEmpty()) {
      subnet = allocateSubnet(ctx);
    } else {
      subnet = Cidr.parse("spec.subnet", spec.getSubnet());
      for (Network n : ctx.state.networks()) {
        if (subnet.overlaps(Cidr.parse("subnet", n.getSubnet()))) {
          throw ApplyException.precondition("spec.subnet: " + subnet + " overlaps network \""
              + n.getSpec().getName() + "\" (" + n.getSubnet() + ")");
        }
      }
    }
    String gateway = spec.getGateway().isEmpty() ? Cidr.format(subnet.base() + 1) : spec.getGateway();
    Network n = Network.newBuilder().setMeta(ctx.newMeta(cmd.getId()))
        .setSpec(spec.getDriver().isEmpty() ? spec.toBuilder().setDriver("overlay").build() : spec)
        .setVni(allocateVni(ctx)).setSubnet(subnet.toString()).setGateway(gateway).build();
    ctx.putNetwork(n);
    ctx.createdIds.add(cmd.getId());
  }

  private static int allocateVni(ApplyContext ctx) {
    Set<Integer> used = new HashSet<>();
    ctx.state.networks().forEach(n -> used.add(n.getVni()));
    for (int vni = FIRST_VNI; vni <= MAX_VNI; vni++) {
      if (!used.contains(vni)) {
        return vni;
      }
    }
    throw ApplyException.precondition("no free VXLAN network identifier");
  }

  private static Cidr allocateSubnet(ApplyContext ctx) {
    String poolText = ctx.state.cluster().map(Cluster::getDefaultAddressPool).orElse(DEFAULT_POOL);
    int size = ctx.state.cluster().map(Cluster::getDefaultSubnetSize).orElse(DEFAULT_SUBNET_SIZE);
    Cidr pool = Cidr.parse("cluster.default_address_pool", poolText);
    if (size < pool.bits() || size > 30) {
      throw ApplyException.precondition("cluster.default_subnet_size " + size
          + " does not fit the pool " + pool);
    }
    long step = 1L << (32 - size);
    for (long base = pool.base(); base < pool.base() + pool.size(); base += step) {
      Cidr candidate = new Cidr(base, size);
      boolean free = ctx.state.networks().stream()
          .noneMatch(n -> candidate.overlaps(Cidr.parse("subnet", n.getSubnet())));
      if (free) {
        return candidate;
      }
    }
    throw ApplyException.precondition("spec.subnet: the address pool " + pool + " is exhausted");
  }

  static void removeNetwork(ApplyContext ctx, RemoveNetwork cmd) {
    Network n = ctx.state.network(cmd.getId())
        .or(() -> ctx.state.networkByName(cmd.getId()))
        .orElseThrow(() -> ApplyException.notFound("network \"" + cmd.getId() + "\" not found"));
    for (Service s : ctx.state.services()) {
      for (NetworkAttachmentConfig a : s.getSpec().getTask().getNetworksList()) {
        if (a.getTarget().equals(n.getMeta().getId()) || a.getTarget().equals(n.getSpec().getName())) {
          throw ApplyException.precondition("network \"" + n.getSpec().getName()
              + "\" is in use by service \"" + s.getSpec().getName() + "\"");
        }
      }
    }
    ctx.removeNetwork(n);
  }
}
