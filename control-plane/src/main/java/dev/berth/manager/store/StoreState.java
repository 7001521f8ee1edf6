package dev.berth.manager.store;

import dev.berth.api.v1.Cluster;
import dev.berth.api.v1.Network;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.Task;
import dev.berth.internal.v1.StoreSnapshot;
import dev.berth.manager.ipam.Ipam;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The mutable objects of the store plus their secondary indexes (tasks by service and by
 * node, services and networks by name, addresses by network in {@link Ipam}, reservations by
 * node in {@link NodeReservations}), with an undo journal so that one log entry's
 * commands apply all-or-nothing.
 *
 * <p>Thread model: not thread-safe; {@link ClusterStore} guards it with a read-write lock
 * (apply holds the write lock). Primary maps are sorted by id so iteration order, and
 * therefore snapshots and digests, are identical on every replica.
 */
final class StoreState implements StoreView {
  private long index;
  private Cluster cluster;
  private final TreeMap<String, Node> nodes = new TreeMap<>();
  private final TreeMap<String, Service> services = new TreeMap<>();
  private final TreeMap<String, Task> tasks = new TreeMap<>();
  private final TreeMap<String, Network> networks = new TreeMap<>();
  private final Map<String, String> serviceIdByName = new HashMap<>();
  private final Map<String, String> networkIdByName = new HashMap<>();
  // Secondary indexes hold the tasks themselves (id -> task), not ids to look up in the sorted
  // primary map: the reconcilers read a service's or node's tasks every round, and 50,000
  // TreeMap look-ups per read were most of a round's time (docs/benchmarks.md, "Control plane").
  private final Map<String, Map<String, Task>> tasksByService = new HashMap<>();
  private final Map<String, Map<String, Task>> tasksByNode = new HashMap<>();
  /** What each node's unended tasks reserve, for apply's capacity checks: kept with the task indexes. */
  final NodeReservations reservations = new NodeReservations();
  /** Address index over networks, tasks and nodes: maintained with them, never written apart. */
  private Ipam ipam = new Ipam();
  final DedupeTable dedupe;

  /** Undo actions of the entry being applied, newest first; null outside an entry. */
  private Deque<Runnable> journal;

  StoreState(int dedupeCapacity) {
    this.dedupe = new DedupeTable(dedupeCapacity);
  }

  // ---------------------------------------------------------------- transactions

  void begin() {
    journal = new ArrayDeque<>();
  }

  void commit() {
    journal = null;
  }

  void rollback() {
    Deque<Runnable> undo = journal;
    journal = null;
    while (!undo.isEmpty()) {
      undo.pop().run();
    }
  }

  private void record(Runnable undo) {
    if (journal != null) {
      journal.push(undo);
    }
  }

  void setIndex(long newIndex) {
    index = newIndex;
  }

  // ---------------------------------------------------------------- writes

  void putCluster(Cluster c) {
    Cluster old = cluster;
    record(() -> cluster = old);
    cluster = c;
  }

  void putNode(Node n) {
    Node old = nodes.put(n.getMeta().getId(), n);
    unindexNode(old);
    indexNode(n);
    record(() -> {
      unindexNode(n);
      restore(nodes, n.getMeta().getId(), old);
      indexNode(old);
    });
  }

  void removeNode(String id) {
    Node old = nodes.remove(id);
    unindexNode(old);
    record(() -> {
      restore(nodes, id, old);
      indexNode(old);
    });
  }

  private void indexNode(Node n) {
    if (n != null && n.hasIngressAttachment()) {
      ipam.hold(Ipam.nodeOwner(n.getMeta().getId()), List.of(n.getIngressAttachment()));
    }
  }

  private void unindexNode(Node n) {
    if (n != null && n.hasIngressAttachment()) {
      ipam.release(Ipam.nodeOwner(n.getMeta().getId()), List.of(n.getIngressAttachment()));
    }
  }

  void putService(Service s) {
    String id = s.getMeta().getId();
    Service old = services.put(id, s);
    if (old != null) {
      serviceIdByName.remove(old.getSpec().getName());
    }
    serviceIdByName.put(s.getSpec().getName(), id);
    record(() -> {
      serviceIdByName.remove(s.getSpec().getName());
      restore(services, id, old);
      if (old != null) {
        serviceIdByName.put(old.getSpec().getName(), id);
      }
    });
  }

  void removeService(String id) {
    Service old = services.remove(id);
    if (old == null) {
      return;
    }
    serviceIdByName.remove(old.getSpec().getName());
    record(() -> {
      services.put(id, old);
      serviceIdByName.put(old.getSpec().getName(), id);
    });
  }

  void putNetwork(Network n) {
    String id = n.getMeta().getId();
    Network old = networks.put(id, n);
    if (old != null) {
      networkIdByName.remove(old.getSpec().getName());
    }
    networkIdByName.put(n.getSpec().getName(), id);
    ipam.putNetwork(n);
    record(() -> {
      networkIdByName.remove(n.getSpec().getName());
      restore(networks, id, old);
      if (old != null) {
        networkIdByName.put(old.getSpec().getName(), id);
        ipam.putNetwork(old);
      } else {
        ipam.removeNetwork(id);
      }
    });
  }

  void removeNetwork(String id) {
    Network old = networks.remove(id);
    if (old == null) {
      return;
    }
    networkIdByName.remove(old.getSpec().getName());
    ipam.removeNetwork(id);
    record(() -> {
      networks.put(id, old);
      networkIdByName.put(old.getSpec().getName(), id);
      ipam.putNetwork(old);
    });
  }

  /** Returns the task it replaced, or null. */
  Task putTask(Task t) {
    String id = t.getMeta().getId();
    Task old = tasks.put(id, t);
    reindexTask(old, t);
    record(() -> {
      restore(tasks, id, old);
      reindexTask(t, old);
    });
    return old;
  }

  /**
   * Moves the indexes from {@code from} to {@code to} (either may be null). A status update
   * keeps the task's service, node and addresses, so it only swaps the index values in place:
   * no new map nodes or IPAM owner keys per update, which at 10,000 updates/s were a good part of
   * what each update left behind for the young collector to copy (docs/benchmarks.md).
   */
  private void reindexTask(Task from, Task to) {
    if (from == null || to == null || !from.getServiceId().equals(to.getServiceId())
        || !from.getNodeId().equals(to.getNodeId()) || !sameAddresses(from, to)) {
      unindexTask(from);
      indexTask(to);
      return;
    }
    String id = to.getMeta().getId();
    tasksByService.get(to.getServiceId()).put(id, to);
    if (!to.getNodeId().isEmpty()) {
      tasksByNode.get(to.getNodeId()).put(id, to);
    }
    reservations.move(from, to);
  }

  private static boolean sameAddresses(Task a, Task b) {
    boolean holds = Ipam.holdsAddresses(a);
    return holds == Ipam.holdsAddresses(b) && (!holds || a.getNetworksList().equals(b.getNetworksList()));
  }

  void removeTask(String id) {
    Task old = tasks.remove(id);
    if (old == null) {
      return;
    }
    unindexTask(old);
    record(() -> {
      tasks.put(id, old);
      indexTask(old);
    });
  }

  private void indexTask(Task t) {
    if (t == null) {
      return;
    }
    String id = t.getMeta().getId();
    tasksByService.computeIfAbsent(t.getServiceId(), k -> new HashMap<>()).put(id, t);
    if (!t.getNodeId().isEmpty()) {
      tasksByNode.computeIfAbsent(t.getNodeId(), k -> new HashMap<>()).put(id, t);
    }
    reservations.add(t);
    if (Ipam.holdsAddresses(t)) {
      ipam.hold(Ipam.taskOwner(id), t.getNetworksList());
    }
  }

  private void unindexTask(Task t) {
    if (t == null) {
      return;
    }
    String id = t.getMeta().getId();
    removeFromIndex(tasksByService, t.getServiceId(), id);
    if (!t.getNodeId().isEmpty()) {
      removeFromIndex(tasksByNode, t.getNodeId(), id);
    }
    reservations.remove(t);
    if (Ipam.holdsAddresses(t)) {
      ipam.release(Ipam.taskOwner(id), t.getNetworksList());
    }
  }

  private static void removeFromIndex(Map<String, Map<String, Task>> idx, String key, String id) {
    Map<String, Task> ids = idx.get(key);
    if (ids != null) {
      ids.remove(id);
      if (ids.isEmpty()) {
        idx.remove(key);
      }
    }
  }

  private static <V> void restore(Map<String, V> map, String id, V old) {
    if (old == null) {
      map.remove(id);
    } else {
      map.put(id, old);
    }
  }

  /** The address index (read by apply's decisions; written only through the puts above). */
  Ipam ipam() {
    return ipam;
  }

  // ---------------------------------------------------------------- StoreView

  @Override
  public long index() {
    return index;
  }

  @Override
  public Optional<Cluster> cluster() {
    return Optional.ofNullable(cluster);
  }

  @Override
  public Optional<Node> node(String id) {
    return Optional.ofNullable(nodes.get(id));
  }

  @Override
  public Collection<Node> nodes() {
    return Collections.unmodifiableCollection(nodes.values());
  }

  @Override
  public Optional<Service> service(String id) {
    return Optional.ofNullable(services.get(id));
  }

  @Override
  public Optional<Service> serviceByName(String name) {
    String id = serviceIdByName.get(name);
    return id == null ? Optional.empty() : service(id);
  }

  @Override
  public Collection<Service> services() {
    return Collections.unmodifiableCollection(services.values());
  }

  @Override
  public Optional<Task> task(String id) {
    return Optional.ofNullable(tasks.get(id));
  }

  /** {@link #task} without the {@code Optional}, for apply's per-change look-ups. */
  Task taskOrNull(String id) {
    return tasks.get(id);
  }

  @Override
  public Collection<Task> tasks() {
    return Collections.unmodifiableCollection(tasks.values());
  }

  @Override
  public List<Task> tasksOfService(String serviceId) {
    return copy(tasksByService.get(serviceId));
  }

  @Override
  public List<Task> tasksOfNode(String nodeId) {
    return copy(tasksByNode.get(nodeId));
  }

  @Override
  public Set<String> nodeIdsWithTasks() {
    return Collections.unmodifiableSet(tasksByNode.keySet());
  }

  private static List<Task> copy(Map<String, Task> byId) {
    return byId == null ? List.of() : new ArrayList<>(byId.values());
  }

  @Override
  public Optional<Network> network(String id) {
    return Optional.ofNullable(networks.get(id));
  }

  @Override
  public Optional<Network> networkByName(String name) {
    String id = networkIdByName.get(name);
    return id == null ? Optional.empty() : network(id);
  }

  @Override
  public Collection<Network> networks() {
    return Collections.unmodifiableCollection(networks.values());
  }

  // ---------------------------------------------------------------- snapshots

  /**
   * The objects as they are at one index, by reference (they are immutable messages): taken
   * under the store's read lock and built into a {@link StoreSnapshot} outside it. Building the
   * message under the lock held apply up 22-44 ms per snapshot of 100,000 tasks; copying the
   * references is a few ms (docs/benchmarks.md, "Control plane").
   */
  record Capture(long index, Cluster cluster, List<Node> nodes, List<Service> services, List<Task> tasks,
      List<Network> networks, List<Map.Entry<String, dev.berth.internal.v1.ApplyResult>> dedupe) {
    StoreSnapshot build() {
      StoreSnapshot.Builder b = StoreSnapshot.newBuilder().setIndex(index);
      if (cluster != null) {
        b.setCluster(cluster);
      }
      return b.addAllNodes(nodes).addAllServices(services).addAllTasks(tasks).addAllNetworks(networks)
          .addAllDedupe(DedupeTable.entries(dedupe)).build();
    }
  }

  Capture capture() {
    return new Capture(index, cluster, new ArrayList<>(nodes.values()), new ArrayList<>(services.values()),
        new ArrayList<>(tasks.values()), new ArrayList<>(networks.values()), dedupe.copy());
  }

  StoreSnapshot toSnapshot() {
    return capture().build();
  }

  void load(StoreSnapshot s) {
    cluster = s.hasCluster() ? s.getCluster() : null;
    nodes.clear();
    services.clear();
    tasks.clear();
    networks.clear();
    serviceIdByName.clear();
    networkIdByName.clear();
    tasksByService.clear();
    tasksByNode.clear();
    reservations.clear();
    ipam = new Ipam();
    journal = null;
    // Networks first: the address index needs them before the tasks and nodes holding addresses.
    s.getNetworksList().forEach(this::putNetwork);
    s.getNodesList().forEach(this::putNode);
    s.getServicesList().forEach(this::putService);
    s.getTasksList().forEach(this::putTask);
    dedupe.load(s.getDedupeList());
    index = s.getIndex();
  }

  /**
   * SHA-256 (hex) of the canonical serialization of the objects and the de-duplication
   * table. The applied index is left out: it also counts Raft-internal entries, which a
   * replica restored from a snapshot may have skipped.
   */
  String digest() {
    byte[] bytes = toSnapshot().toBuilder().clearIndex().build().toByteArray();
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 missing from the JDK", e);
    }
  }
}
