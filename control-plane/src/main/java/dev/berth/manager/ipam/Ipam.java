package dev.berth.manager.ipam;

import dev.berth.api.v1.Network;
import dev.berth.api.v1.NetworkAttachment;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Cluster IPAM: VNIs and subnets for networks, addresses for tasks, ingress addresses
 * for nodes.
 *
 * <p>The store's objects are the one source of truth; this class is an index over them
 * plus the pure decision functions that read it. The store calls the index side
 * ({@link #putNetwork}, {@link #removeNetwork}, {@link #hold}, {@link #release}) from its
 * own put/remove of networks, tasks and nodes, so the index follows every write, every
 * rollback and every snapshot load exactly. Apply then asks the decision side
 * ({@link #allocateNetwork}, {@link #nextAddress}, {@link #checkAvailable}) and writes the
 * answer into the objects (the task's {@link NetworkAttachment}, the node's ingress
 * attachment, the network's next-fit {@code ipam_cursor}). No I/O, no clock, no
 * randomness, no hash order: every manager decides the same from the same log, and a
 * manager restored from a snapshot decides as one that replayed the log.
 *
 * <p>A task holds its addresses while {@link #holdsAddresses} is true: until its agent
 * confirmed it finished, or it left the store. A task the manager merely gave up on
 * (ORPHANED, desired REMOVE) keeps them: its container may still run behind a partition,
 * and handing its address to another task would make a duplicate.
 *
 * <p>Thread model: not thread-safe; owned by the apply thread (the store's write lock).
 * Error contract: decisions throw {@link IpamException} and change nothing; the index side
 * throws {@link IllegalStateException} for inconsistent stored objects (a corrupt store).
 */
public final class Ipam {
  /** Agent-reported terminal states: the container is known to be gone. */
  private static final Set<TaskState> CONFIRMED_FINISHED =
      EnumSet.of(TaskState.COMPLETE, TaskState.SHUTDOWN, TaskState.FAILED, TaskState.REJECTED);
  private static final int MIN_PREFIX = 8;
  private static final int MAX_PREFIX = 29;

  /** Ordered by id so every scan over networks is deterministic. */
  private final TreeMap<String, AddressPool> pools = new TreeMap<>();
  private final TreeMap<String, Integer> vnis = new TreeMap<>();
  private String ingressId;

  /** Whether a stored task holds its addresses (it has some and is not confirmed finished). */
  public static boolean holdsAddresses(Task task) {
    return task.getNetworksCount() > 0 && !CONFIRMED_FINISHED.contains(task.getStatus().getState());
  }

  /** Owner key of a task's addresses, as {@link #holderOf} reports it. */
  public static String taskOwner(String taskId) {
    return "task/" + taskId;
  }

  /** Owner key of a node's ingress address. */
  public static String nodeOwner(String nodeId) {
    return "node/" + nodeId;
  }

  /** The index over stored objects (what the store maintains incrementally). */
  public static Ipam rebuild(Collection<Network> networks, Collection<Task> tasks, Collection<Node> nodes) {
    Ipam ipam = new Ipam();
    networks.forEach(ipam::putNetwork);
    for (Task t : tasks) {
      if (holdsAddresses(t)) {
        ipam.hold(taskOwner(t.getMeta().getId()), t.getNetworksList());
      }
    }
    for (Node n : nodes) {
      if (n.hasIngressAttachment()) {
        ipam.hold(nodeOwner(n.getMeta().getId()), List.of(n.getIngressAttachment()));
      }
    }
    return ipam;
  }

  // ---------------------------------------------------------------- index (called by the store)

  /** Adds a stored network or refreshes it (cursor, name); its holders are kept. */
  public void putNetwork(Network n) {
    String id = n.getMeta().getId();
    AddressPool old = pools.get(id);
    AddressPool pool;
    try {
      pool = new AddressPool(id, n.getSpec().getName(), Ipv4Subnet.parse(n.getSubnet()),
          Ipv4Subnet.parseAddress(n.getGateway()), Integer.toUnsignedLong(n.getIpamCursor()));
    } catch (IpamException e) {
      throw new IllegalStateException("stored network " + n.getSpec().getName() + ": " + e.getMessage(), e);
    }
    if (old != null) {
      pool.adopt(old);
    }
    pools.put(id, pool);
    vnis.put(id, n.getVni());
    if (n.getSpec().getIngress()) {
      ingressId = id;
    } else if (id.equals(ingressId)) {
      ingressId = null;
    }
  }

  /** Forgets a network and whatever it still indexed (the store removed it). */
  public void removeNetwork(String networkId) {
    pools.remove(networkId);
    vnis.remove(networkId);
    if (networkId.equals(ingressId)) {
      ingressId = null;
    }
  }

  /** Records that {@code owner} holds these addresses (a stored task or node). */
  public void hold(String owner, List<NetworkAttachment> attachments) {
    for (NetworkAttachment a : attachments) {
      AddressPool pool = pools.get(a.getNetworkId());
      if (pool == null) {
        throw new IllegalStateException(owner + " holds an address on unknown network " + a.getNetworkId());
      }
      pool.restore(storedAddress(owner, a), owner);
    }
  }

  /** Records that {@code owner} no longer holds these addresses. */
  public void release(String owner, List<NetworkAttachment> attachments) {
    for (NetworkAttachment a : attachments) {
      AddressPool pool = pools.get(a.getNetworkId());
      if (pool != null) {
        pool.free(storedAddress(owner, a), owner);
      }
    }
  }

  private static int storedAddress(String owner, NetworkAttachment a) {
    try {
      return Ipv4Subnet.parseAddress(stripPrefix(a.getAddress()));
    } catch (IpamException e) {
      throw new IllegalStateException(owner + ": " + e.getMessage(), e);
    }
  }

  // ---------------------------------------------------------------- decisions (pure)

  /**
   * A new network with its VNI, subnet (the spec's, validated, or the first free one carved
   * from the default pool) and gateway set. Does not index it: the caller stores it.
   */
  public Network allocateNetwork(Network network, IpamConfig config) throws IpamException {
    String id = network.getMeta().getId();
    String name = network.getSpec().getName();
    if (pools.containsKey(id)) {
      throw new IpamException(IpamException.Reason.CONFLICT, "network id " + id + " already exists");
    }
    if (network.getSpec().getIngress() && ingressId != null) {
      throw new IpamException(IpamException.Reason.CONFLICT,
          "an ingress network already exists: " + pools.get(ingressId).networkName);
    }
    Ipv4Subnet subnet = network.getSpec().getSubnet().isEmpty()
        ? carveFromPool(name, config, network.getSpec().getIngress()
            ? config.ingressSubnetPrefix() : config.defaultSubnetPrefix())
        : userSubnet(network);
    int gateway = gatewayOf(network, subnet);
    return network.toBuilder().setVni(nextVni(config)).setSubnet(subnet.toString())
        .setGateway(Ipv4Subnet.formatAddress(gateway)).setIpamCursor(0).build();
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

  private Ipv4Subnet carveFromPool(String name, IpamConfig config, int prefix) throws IpamException {
    Ipv4Subnet pool = config.defaultPool();
    long step = 1L << (32 - prefix);
    for (long off = 0; off < pool.size(); off += step) {
      Ipv4Subnet candidate = new Ipv4Subnet(pool.address(off), prefix);
      if (pools.values().stream().noneMatch(p -> p.subnet.overlaps(candidate))) {
        return candidate;
      }
    }
    throw new IpamException(IpamException.Reason.EXHAUSTED, "default address pool " + pool
        + " has no free /" + prefix + " left for network " + name
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
  private int nextVni(IpamConfig config) throws IpamException {
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
   * The next free address of a network after its cursor (next-fit, wrapping), as an
   * attachment. Takes nothing: the caller stores the holder and {@link #cursorAfter}.
   */
  public NetworkAttachment nextAddress(String networkId) throws IpamException {
    AddressPool pool = pool(networkId);
    Integer addr = pool.nextFree();
    if (addr == null) {
      throw new IpamException(IpamException.Reason.EXHAUSTED,
          "network " + pool.networkName + " (" + pool.subnet + ") has no free address");
    }
    return attachment(pool, addr);
  }

  /**
   * Checks an address chosen elsewhere (a plan computed on a stale snapshot) before it is
   * stored, and returns it normalised (CIDR form, derived MAC).
   */
  public NetworkAttachment checkAvailable(String owner, NetworkAttachment a) throws IpamException {
    AddressPool pool = pool(a.getNetworkId());
    int addr = Ipv4Subnet.parseAddress(stripPrefix(a.getAddress()));
    if (!pool.usable(addr)) {
      throw IpamException.invalid("address " + a.getAddress() + " is not a usable host address of network "
          + pool.networkName + " (" + pool.subnet + ", gateway " + Ipv4Subnet.formatAddress(pool.gateway) + ")");
    }
    String holder = pool.ownerOf(addr);
    if (holder != null && !holder.equals(owner)) {
      throw new IpamException(IpamException.Reason.CONFLICT, "address " + Ipv4Subnet.formatAddress(addr)
          + " on network " + pool.networkName + " is already held by " + holder);
    }
    return attachment(pool, addr).toBuilder().addAllAliases(a.getAliasesList()).build();
  }

  /** The cursor value a network gets once {@code a} (an address on it) has been handed out. */
  public int cursorAfter(NetworkAttachment a) throws IpamException {
    AddressPool pool = pool(a.getNetworkId());
    return (int) pool.subnet.offsetOf(Ipv4Subnet.parseAddress(stripPrefix(a.getAddress())));
  }

  private static NetworkAttachment attachment(AddressPool pool, int addr) {
    return NetworkAttachment.newBuilder().setNetworkId(pool.networkId)
        .setAddress(pool.subnet.cidrOf(addr)).setMac(Ipv4Subnet.macOf(addr)).build();
  }

  public Optional<String> ingressNetworkId() {
    return Optional.ofNullable(ingressId);
  }

  /** Holder ("task/ID" or "node/ID") of an address ("a.b.c.d" or CIDR) on a network. */
  public Optional<String> holderOf(String networkId, String address) throws IpamException {
    return Optional.ofNullable(pool(networkId).ownerOf(Ipv4Subnet.parseAddress(stripPrefix(address))));
  }

  /** Every holder of an address on a network, sorted; empty for an unknown network. */
  public SortedSet<String> holders(String networkId) {
    AddressPool pool = pools.get(networkId);
    return pool == null ? new TreeSet<>() : new TreeSet<>(pool.owners().values());
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

  /** Equal when every network, VNI, cursor and holder is the same (rebuild vs incremental). */
  @Override
  public boolean equals(Object o) {
    return o instanceof Ipam i && pools.equals(i.pools) && vnis.equals(i.vnis)
        && Objects.equals(ingressId, i.ingressId);
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
