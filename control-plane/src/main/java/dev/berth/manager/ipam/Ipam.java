package dev.berth.manager.ipam;

import dev.berth.api.v1.Network;
import dev.berth.api.v1.NetworkAttachment;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Cluster IPAM: VNIs and subnets for networks, addresses for tasks, ingress addresses
 * for nodes.
 *
 * <p>A pure, deterministic core: no I/O, no clock, no randomness, and no dependence on
 * hash iteration order. The Raft state machine calls it during apply, so every manager
 * makes the same decisions from the same log. Its whole state can be rebuilt from the
 * store's objects ({@link #rebuild}): the networks (VNI, subnet, gateway and the next-fit
 * {@code ipam_cursor}, which the caller writes back with {@link #stamp} after each
 * allocation), the tasks' {@link NetworkAttachment}s and the nodes' ingress attachments.
 *
 * <p>Caller contract: call {@link #allocateTask} when a task is created, and
 * {@link #releaseTask} exactly when {@link #holdsAddresses} becomes false for it (its
 * agent confirmed it finished) or it is deleted from the store. Marking a task failed or
 * orphaned on the manager's side must NOT release it: its container may still run behind
 * a partition, and handing its address to another task would make a duplicate.
 *
 * <p>Thread model: not thread-safe; owned by the apply thread. Error contract: a refused
 * request throws {@link IpamException} and leaves the state exactly as it was.
 */
public final class Ipam {
  /** Agent-reported terminal states: the container is known to be gone. */
  private static final Set<TaskState> CONFIRMED_FINISHED =
      EnumSet.of(TaskState.COMPLETE, TaskState.SHUTDOWN, TaskState.FAILED, TaskState.REJECTED);
  private static final int MIN_PREFIX = 8;
  private static final int MAX_PREFIX = 29;

  private final IpamConfig config;
  /** Ordered by id so every scan over networks is deterministic. */
  private final TreeMap<String, AddressPool> pools = new TreeMap<>();
  private final TreeMap<String, Integer> vnis = new TreeMap<>();
  /** owner key ("task/ID", "node/ID") -> network id -> address, in allocation order. */
  private final Map<String, LinkedHashMap<String, Integer>> held = new HashMap<>();
  private String ingressId;

  public Ipam(IpamConfig config) {
    this.config = Objects.requireNonNull(config);
  }

  /** Whether a stored task still holds its addresses (it has some and is not confirmed finished). */
  public static boolean holdsAddresses(Task task) {
    return task.getNetworksCount() > 0 && !CONFIRMED_FINISHED.contains(task.getStatus().getState());
  }

  /**
   * Rebuilds the allocator from stored objects. Yields the same state as the incremental
   * calls that produced those objects.
   *
   * @throws IllegalStateException when the objects are inconsistent (two holders of one
   *     address, an attachment to an unknown network): the store itself is corrupt
   */
  public static Ipam rebuild(IpamConfig config, Collection<Network> networks, Collection<Task> tasks,
      Collection<Node> nodes) {
    Ipam ipam = new Ipam(config);
    for (Network n : networks) {
      try {
        Ipv4Subnet subnet = Ipv4Subnet.parse(n.getSubnet());
        int gw = Ipv4Subnet.parseAddress(n.getGateway());
        ipam.pools.put(n.getMeta().getId(),
            new AddressPool(n.getMeta().getId(), n.getSpec().getName(), subnet, gw, n.getIpamCursor()));
      } catch (IpamException e) {
        throw new IllegalStateException("stored network " + n.getSpec().getName() + ": " + e.getMessage(), e);
      }
      ipam.vnis.put(n.getMeta().getId(), n.getVni());
      if (n.getSpec().getIngress()) {
        ipam.ingressId = n.getMeta().getId();
      }
    }
    for (Task t : tasks) {
      if (holdsAddresses(t)) {
        for (NetworkAttachment a : t.getNetworksList()) {
          ipam.restore(taskKey(t.getMeta().getId()), a);
        }
      }
    }
    for (Node n : nodes) {
      if (n.hasIngressAttachment()) {
        ipam.restore(nodeKey(n.getMeta().getId()), n.getIngressAttachment());
      }
    }
    return ipam;
  }

  private void restore(String owner, NetworkAttachment a) {
    AddressPool pool = pools.get(a.getNetworkId());
    if (pool == null) {
      throw new IllegalStateException(owner + " is attached to unknown network " + a.getNetworkId());
    }
    int addr;
    try {
      addr = Ipv4Subnet.parseAddress(stripPrefix(a.getAddress()));
    } catch (IpamException e) {
      throw new IllegalStateException(owner + ": " + e.getMessage(), e);
    }
    pool.restore(addr, owner);
    held.computeIfAbsent(owner, k -> new LinkedHashMap<>()).put(pool.networkId, addr);
  }

  // ---------------------------------------------------------------- networks

  /**
   * Gives a new network its VNI, subnet (the spec's, validated, or one carved from the
   * default pool) and gateway. Returns the network with those fields set, to be stored.
   */
  public Network createNetwork(Network network) throws IpamException {
    String id = network.getMeta().getId();
    String name = network.getSpec().getName();
    if (id.isEmpty()) {
      throw IpamException.invalid("network '" + name + "' has no id");
    }
    if (pools.containsKey(id)) {
      throw new IpamException(IpamException.Reason.CONFLICT, "network id " + id + " already has addresses");
    }
    if (network.getSpec().getIngress() && ingressId != null) {
      throw new IpamException(IpamException.Reason.CONFLICT,
          "an ingress network already exists: " + pools.get(ingressId).networkName);
    }
    Ipv4Subnet subnet = network.getSpec().getSubnet().isEmpty() ? carveFromPool(name) : userSubnet(network);
    int gateway = gatewayOf(network, subnet);
    int vni = nextVni();
    pools.put(id, new AddressPool(id, name, subnet, gateway, 0));
    vnis.put(id, vni);
    if (network.getSpec().getIngress()) {
      ingressId = id;
    }
    return stamp(network);
  }

  private Ipv4Subnet userSubnet(Network network) throws IpamException {
    String name = network.getSpec().getName();
    Ipv4Subnet s = Ipv4Subnet.parse(network.getSpec().getSubnet());
    if (s.prefix() < MIN_PREFIX || s.prefix() > MAX_PREFIX) {
      throw IpamException.invalid("subnet " + s + " of network " + name + ": prefix length must be /"
          + MIN_PREFIX + " to /" + MAX_PREFIX);
    }
    for (AddressPool p : pools.values()) {
      if (p.subnet.overlaps(s)) {
        throw new IpamException(IpamException.Reason.CONFLICT,
            "subnet " + s + " overlaps " + p.subnet + " of network " + p.networkName);
      }
    }
    return s;
  }

  private Ipv4Subnet carveFromPool(String name) throws IpamException {
    Ipv4Subnet pool = config.defaultPool();
    long step = 1L << (32 - config.defaultSubnetPrefix());
    for (long off = 0; off < pool.size(); off += step) {
      Ipv4Subnet candidate = new Ipv4Subnet(pool.address(off), config.defaultSubnetPrefix());
      if (pools.values().stream().noneMatch(p -> p.subnet.overlaps(candidate))) {
        return candidate;
      }
    }
    throw new IpamException(IpamException.Reason.EXHAUSTED, "default address pool " + pool
        + " has no free /" + config.defaultSubnetPrefix() + " left for network " + name
        + "; give a --subnet or remove unused networks");
  }

  private static int gatewayOf(Network network, Ipv4Subnet subnet) throws IpamException {
    String gw = network.getSpec().getGateway();
    if (gw.isEmpty()) {
      return subnet.address(1);
    }
    int addr = Ipv4Subnet.parseAddress(gw);
    long off = subnet.offsetOf(addr);
    if (!subnet.contains(addr) || off == 0 || off == subnet.size() - 1) {
      throw IpamException.invalid("gateway " + gw + " of network " + network.getSpec().getName()
          + " is not a host address of its subnet " + subnet);
    }
    return addr;
  }

  /** Lowest VNI of the range not used by an existing network: a function of the stored set. */
  private int nextVni() throws IpamException {
    Set<Integer> used = Set.copyOf(vnis.values());
    for (long v = config.vniMin(); v <= config.vniMax(); v++) {
      if (!used.contains((int) v)) {
        return (int) v;
      }
    }
    throw new IpamException(IpamException.Reason.EXHAUSTED,
        "no VNI left in " + config.vniMin() + ".." + config.vniMax());
  }

  /**
   * Forgets a network. Refused while any task or node still holds an address on it
   * (names up to five holders).
   */
  public void removeNetwork(String networkId) throws IpamException {
    AddressPool pool = pool(networkId);
    if (!pool.owners().isEmpty()) {
      String holders = new TreeMap<>(pool.owners()).values().stream().limit(5).collect(Collectors.joining(", "));
      throw new IpamException(IpamException.Reason.CONFLICT, "network " + pool.networkName + " still has "
          + pool.owners().size() + " address(es) in use, by " + holders);
    }
    pools.remove(networkId);
    vnis.remove(networkId);
    if (networkId.equals(ingressId)) {
      ingressId = null;
    }
  }

  /** The network with its IPAM fields (vni, subnet, gateway, cursor) set from this state. */
  public Network stamp(Network network) {
    AddressPool pool = pools.get(network.getMeta().getId());
    if (pool == null) {
      return network;
    }
    return network.toBuilder()
        .setVni(vnis.get(pool.networkId))
        .setSubnet(pool.subnet.toString())
        .setGateway(Ipv4Subnet.formatAddress(pool.gateway))
        .setIpamCursor((int) pool.cursor)
        .build();
  }

  // ---------------------------------------------------------------- addresses

  /**
   * Gives a task one address on each network, all or nothing. Idempotent: a task that
   * already holds addresses gets the same ones back (a retried log entry).
   *
   * @return one attachment per network, in the order given (aliases left for the caller)
   */
  public List<NetworkAttachment> allocateTask(String taskId, List<String> networkIds) throws IpamException {
    return allocate(taskKey(taskId), networkIds);
  }

  /** Frees every address of a task; no-op for a task holding none. */
  public void releaseTask(String taskId) {
    release(taskKey(taskId));
  }

  /** Gives a node its address on the ingress network (idempotent). */
  public NetworkAttachment allocateNode(String nodeId) throws IpamException {
    if (ingressId == null) {
      throw new IpamException(IpamException.Reason.NOT_FOUND, "there is no ingress network");
    }
    return allocate(nodeKey(nodeId), List.of(ingressId)).get(0);
  }

  public void releaseNode(String nodeId) {
    release(nodeKey(nodeId));
  }

  public Optional<String> ingressNetworkId() {
    return Optional.ofNullable(ingressId);
  }

  /** Holder ("task/ID" or "node/ID") of an address ("a.b.c.d" or CIDR) on a network. */
  public Optional<String> holderOf(String networkId, String address) throws IpamException {
    return Optional.ofNullable(pool(networkId).ownerOf(Ipv4Subnet.parseAddress(stripPrefix(address))));
  }

  private List<NetworkAttachment> allocate(String owner, List<String> networkIds) throws IpamException {
    if (Set.copyOf(networkIds).size() != networkIds.size()) {
      throw IpamException.invalid(owner + " names a network twice: " + networkIds);
    }
    for (String id : networkIds) {
      pool(id);
    }
    LinkedHashMap<String, Integer> mine = held.get(owner);
    if (mine != null) {
      if (!mine.keySet().equals(Set.copyOf(networkIds))) {
        throw new IpamException(IpamException.Reason.CONFLICT, owner + " already holds addresses on "
            + mine.keySet() + ", not " + networkIds);
      }
      return attachments(networkIds, mine);
    }
    // Choose everything before taking anything, so a full network leaves no partial allocation.
    LinkedHashMap<String, Integer> chosen = new LinkedHashMap<>();
    for (String id : networkIds) {
      AddressPool pool = pools.get(id);
      Integer addr = pool.nextFree();
      if (addr == null) {
        throw new IpamException(IpamException.Reason.EXHAUSTED,
            "network " + pool.networkName + " (" + pool.subnet + ") has no free address");
      }
      chosen.put(id, addr);
    }
    chosen.forEach((id, addr) -> pools.get(id).take(addr, owner));
    held.put(owner, chosen);
    return attachments(networkIds, chosen);
  }

  private List<NetworkAttachment> attachments(List<String> networkIds, Map<String, Integer> addrs) {
    List<NetworkAttachment> out = new ArrayList<>(networkIds.size());
    for (String id : networkIds) {
      int addr = addrs.get(id);
      out.add(NetworkAttachment.newBuilder()
          .setNetworkId(id)
          .setAddress(pools.get(id).subnet.cidrOf(addr))
          .setMac(Ipv4Subnet.macOf(addr))
          .build());
    }
    return out;
  }

  private void release(String owner) {
    LinkedHashMap<String, Integer> mine = held.remove(owner);
    if (mine != null) {
      mine.forEach((id, addr) -> {
        AddressPool pool = pools.get(id);
        if (pool != null) {
          pool.free(addr);
        }
      });
    }
  }

  private AddressPool pool(String networkId) throws IpamException {
    AddressPool pool = pools.get(networkId);
    if (pool == null) {
      throw new IpamException(IpamException.Reason.NOT_FOUND, "no network with id " + networkId);
    }
    return pool;
  }

  private static String stripPrefix(String address) {
    int slash = address.indexOf('/');
    return slash < 0 ? address : address.substring(0, slash);
  }

  private static String taskKey(String id) {
    return "task/" + id;
  }

  private static String nodeKey(String id) {
    return "node/" + id;
  }

  /** Equal when every network, VNI, cursor and holder is the same (rebuild vs incremental). */
  @Override
  public boolean equals(Object o) {
    return o instanceof Ipam i && config.equals(i.config) && pools.equals(i.pools) && vnis.equals(i.vnis)
        && held.equals(i.held) && Objects.equals(ingressId, i.ingressId);
  }

  @Override
  public int hashCode() {
    return Objects.hash(pools, vnis);
  }

  @Override
  public String toString() {
    return "Ipam" + pools.values();
  }
}
