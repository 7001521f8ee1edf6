package dev.berth.manager.store;

import dev.berth.api.v1.Cluster;
import dev.berth.api.v1.Network;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.Task;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A {@link StoreView} that stays valid after the store's lock is released: the objects (immutable
 * protobuf messages) of one applied index, copied by reference under the read lock, with the
 * look-ups and indexes rebuilt from the copy, lazily and outside the lock.
 *
 * <p>Why: a reconciler scans every task of the store; run inside {@link Store#read} the scan
 * held the read lock for 100-700 ms on a loaded 2-core host with 50,000 tasks, and apply (the
 * write lock) waited behind it, which showed as the commit latency of every entry in flight
 * (docs/benchmarks.md, "Control plane"). Copying the references holds the lock for a few ms.
 * Iteration orders are the store's (objects by id), so what a reconciler plans from this view is
 * what it planned inside the lock.
 *
 * <p>Thread model: built under the read lock, then used by one thread (not synchronized).
 */
public final class DetachedView implements StoreView {
  private final long index;
  private final Cluster cluster;
  private final Map<String, Node> nodes;
  private final Map<String, Service> services;
  private final Map<String, Network> networks;
  private final List<Task> tasks;
  private final Set<String> nodeIdsWithTasks;
  private Map<String, Task> taskById;
  private Map<String, List<Task>> byService;
  private Map<String, List<Task>> byNode;

  private DetachedView(StoreView v) {
    index = v.index();
    cluster = v.cluster().orElse(null);
    nodes = byId(v.nodes(), n -> n.getMeta().getId());
    services = byId(v.services(), s -> s.getMeta().getId());
    networks = byId(v.networks(), n -> n.getMeta().getId());
    tasks = new ArrayList<>(v.tasks());
    nodeIdsWithTasks = Set.copyOf(v.nodeIdsWithTasks());
  }

  /** Copies {@code view}; call it inside {@link Store#read}. */
  public static DetachedView of(StoreView view) {
    return new DetachedView(view);
  }

  private static <T> Map<String, T> byId(Collection<T> objects, java.util.function.Function<T, String> id) {
    Map<String, T> m = new LinkedHashMap<>(); // keeps the store's order for the collections
    for (T o : objects) {
      m.put(id.apply(o), o);
    }
    return m;
  }

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
    return services.values().stream().filter(s -> s.getSpec().getName().equals(name)).findFirst();
  }

  @Override
  public Collection<Service> services() {
    return Collections.unmodifiableCollection(services.values());
  }

  @Override
  public Optional<Task> task(String id) {
    if (taskById == null) {
      taskById = new HashMap<>(tasks.size() * 2);
      for (Task t : tasks) {
        taskById.put(t.getMeta().getId(), t);
      }
    }
    return Optional.ofNullable(taskById.get(id));
  }

  @Override
  public Collection<Task> tasks() {
    return Collections.unmodifiableList(tasks);
  }

  @Override
  public List<Task> tasksOfService(String serviceId) {
    if (byService == null) {
      byService = group(false);
    }
    // unmodifiable, not copied: the reconcilers only read it, and a copy of a 50,000-task
    // service per call was garbage every round
    return Collections.unmodifiableList(byService.getOrDefault(serviceId, List.of()));
  }

  @Override
  public List<Task> tasksOfNode(String nodeId) {
    if (byNode == null) {
      byNode = group(true);
    }
    return Collections.unmodifiableList(byNode.getOrDefault(nodeId, List.of()));
  }

  private Map<String, List<Task>> group(boolean node) {
    Map<String, List<Task>> m = new HashMap<>();
    for (Task t : tasks) {
      String key = node ? t.getNodeId() : t.getServiceId();
      if (!node || !key.isEmpty()) {
        m.computeIfAbsent(key, k -> new ArrayList<>()).add(t);
      }
    }
    return m;
  }

  @Override
  public Set<String> nodeIdsWithTasks() {
    return nodeIdsWithTasks;
  }

  @Override
  public Optional<Network> network(String id) {
    return Optional.ofNullable(networks.get(id));
  }

  @Override
  public Optional<Network> networkByName(String name) {
    return networks.values().stream().filter(n -> n.getSpec().getName().equals(name)).findFirst();
  }

  @Override
  public Collection<Network> networks() {
    return Collections.unmodifiableCollection(networks.values());
  }
}
