package dev.berth.manager.dispatcher;

import dev.berth.api.v1.Endpoint;
import dev.berth.api.v1.Network;
import dev.berth.api.v1.NetworkAttachment;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.PortConfig;
import dev.berth.api.v1.PublishedService;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.WatchEvent;
import dev.berth.manager.orchestrator.TaskStates;
import dev.berth.manager.store.StoreView;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The leader's picture of what agents are told: tasks by node, endpoint records by network,
 * services published through the routing mesh. Built once from the store, then kept current
 * from applied changes; each change yields a {@link Changes} that sessions turn into their
 * incremental Assignments, so no change rescans the store (an endpoint change touches only
 * its network's records and the sessions serving that network).
 *
 * <p>An endpoint exists for every address of a task that is assigned to a node and not
 * ended (ORPHANED counts as ended: its node is gone); {@code healthy} means RUNNING, still
 * desired running, and not reported unhealthy by its health check.
 *
 * <p>Thread model: not thread-safe; used only on the dispatcher's fan-out thread.
 */
final class AssignmentFeed {
  /** What one applied entry changed, in terms sessions care about. */
  static final class Changes {
    /** Task events per node the task is assigned to, in log order. */
    final Map<String, List<WatchEvent>> taskEvents = new HashMap<>();
    /** Per network: keys of changed endpoint records, and whether each existed before. */
    final Map<String, Map<String, Boolean>> endpoints = new HashMap<>();
    /** Published services changed (true) or no longer published (false). */
    final Map<String, Boolean> published = new LinkedHashMap<>();
    /** Nodes whose ingress attachment changed. */
    final Set<String> ingress = new HashSet<>();
    /** A network was created or removed (what nodes serve may change). */
    boolean networksChanged;

    boolean isEmpty() {
      return taskEvents.isEmpty() && endpoints.isEmpty() && published.isEmpty() && ingress.isEmpty()
          && !networksChanged;
    }
  }

  private long index;
  private final Map<String, Node> nodes = new HashMap<>();
  private final Map<String, Network> networks = new HashMap<>();
  /** Tasks assigned to each node (every state), by id. */
  private final Map<String, Map<String, Task>> tasksByNode = new HashMap<>();
  /** network id -> "task_id/network_id" -> record. Sorted so full sets are in a stable order. */
  private final Map<String, TreeMap<String, Endpoint>> endpointsByNetwork = new HashMap<>();
  private final TreeMap<String, PublishedService> published = new TreeMap<>();
  private String ingressId;

  /** The feed at the view's index. */
  static AssignmentFeed build(StoreView v) {
    AssignmentFeed f = new AssignmentFeed();
    f.index = v.index();
    Changes ignored = new Changes();
    v.networks().forEach(n -> f.putNetwork(n));
    v.nodes().forEach(n -> f.nodes.put(n.getMeta().getId(), n));
    v.nodes().forEach(n -> f.putNodeRecord(n.getMeta().getId(), n, ignored));
    v.services().forEach(s -> f.putService(s.getMeta().getId(), s, ignored));
    for (Task t : v.tasks()) {
      if (!t.getNodeId().isEmpty()) {
        f.putTask(t.getMeta().getId(), t.getNodeId(), t, ignored);
      }
    }
    return f;
  }

  long index() {
    return index;
  }

  static String key(String taskId, String networkId) {
    return taskId + "/" + networkId;
  }

  /** Applies one entry's changes (an entry at or below the feed's index is ignored). */
  Changes apply(long entryIndex, List<WatchEvent> events) {
    Changes c = new Changes();
    if (entryIndex <= index) {
      return c;
    }
    index = entryIndex;
    for (WatchEvent e : events) {
      boolean removed = e.getAction() == WatchEvent.Action.REMOVE;
      switch (e.getKind()) {
        case KIND_TASK -> {
          Task t = e.getTask();
          if (!t.getNodeId().isEmpty()) {
            putTask(t.getMeta().getId(), t.getNodeId(), removed ? null : t, c);
            c.taskEvents.computeIfAbsent(t.getNodeId(), k -> new ArrayList<>()).add(e);
          }
        }
        case KIND_NODE -> putNode(e.getNode(), removed, c);
        case KIND_NETWORK -> {
          c.networksChanged |= e.getAction() != WatchEvent.Action.UPDATE;
          if (removed) {
            networks.remove(e.getNetwork().getMeta().getId());
            if (e.getNetwork().getMeta().getId().equals(ingressId)) {
              ingressId = null;
            }
            endpointsByNetwork.remove(e.getNetwork().getMeta().getId());
          } else {
            boolean wasIngress = ingressId != null;
            putNetwork(e.getNetwork());
            if (!wasIngress && ingressId != null) {
              nodes.values().forEach(n -> putNodeRecord(n.getMeta().getId(), n, c));
            }
          }
        }
        case KIND_SERVICE -> putService(e.getService().getMeta().getId(), removed ? null : e.getService(), c);
        default -> { }
      }
    }
    return c;
  }

  private void putNetwork(Network n) {
    networks.put(n.getMeta().getId(), n);
    if (n.getSpec().getIngress()) {
      ingressId = n.getMeta().getId();
    }
  }

  private void putNode(Node n, boolean removed, Changes c) {
    String id = n.getMeta().getId();
    Node old = removed ? nodes.remove(id) : nodes.put(id, n);
    Node now = removed ? null : n;
    String oldAddr = old == null ? "" : old.getDescription().getAddr();
    String newAddr = now == null ? "" : now.getDescription().getAddr();
    if (!oldAddr.equals(newAddr)) {
      for (Task t : List.copyOf(tasksOfNode(id))) {
        putTask(t.getMeta().getId(), id, t, c); // node_addr of its endpoints changed
      }
    }
    if (now != null && !Objects.equals(attachment(old), attachment(now))) {
      c.ingress.add(id);
    }
    putNodeRecord(id, now, c);
  }

  /** Key of a node's own ingress-address record on the ingress network. */
  static String nodeKey(String nodeId, String networkId) {
    return key(NODE_PREFIX + nodeId, networkId);
  }

  static final String NODE_PREFIX = "node-";

  /**
   * Keeps the record of a node's own ingress address (null node: gone): other nodes need its
   * MAC and underlay address in their VXLAN neighbour/FDB tables, else the routing mesh's
   * connections from that address get no ARP answer back. It names no service, so agents
   * program it into the data plane only (never DNS or the mesh); an agent skips its own. A node
   * that is down has no record until it is up again: nothing answers at its address meanwhile,
   * and its next address may differ.
   */
  private void putNodeRecord(String id, Node n, Changes c) {
    if (ingressId == null) {
      return;
    }
    NetworkAttachment a = attachment(n);
    String addr = n == null ? "" : n.getDescription().getAddr();
    boolean down = n != null && n.getStatus().getState() == NodeState.NODE_DOWN;
    Endpoint next = down || a == null || addr.isEmpty() || a.getAddress().isEmpty() ? null
        : Endpoint.newBuilder().setTaskId(NODE_PREFIX + id).setNetworkId(ingressId)
            .setAddress(a.getAddress()).setMac(a.getMac()).setNodeId(id).setNodeAddr(addr)
            .setHealthy(true).build();
    String key = nodeKey(id, ingressId);
    TreeMap<String, Endpoint> records = endpointsByNetwork.get(ingressId);
    Endpoint prev = records == null ? null : records.get(key);
    if (Objects.equals(prev, next)) {
      return;
    }
    if (next == null) {
      records.remove(key);
      if (records.isEmpty()) {
        endpointsByNetwork.remove(ingressId);
      }
    } else {
      endpointsByNetwork.computeIfAbsent(ingressId, k -> new TreeMap<>()).put(key, next);
    }
    c.endpoints.computeIfAbsent(ingressId, k -> new HashMap<>()).putIfAbsent(key, prev != null);
  }

  private static NetworkAttachment attachment(Node n) {
    return n == null || !n.hasIngressAttachment() ? null : n.getIngressAttachment();
  }

  private void putService(String id, Service s, Changes c) {
    PublishedService next = s == null ? null : publishedOf(s);
    PublishedService prev = next == null ? published.remove(id) : published.put(id, next);
    if (next != null && !next.equals(prev)) {
      c.published.put(id, true);
    } else if (next == null && prev != null) {
      c.published.put(id, false);
    }
  }

  private static PublishedService publishedOf(Service s) {
    PublishedService.Builder b = PublishedService.newBuilder().setServiceId(s.getMeta().getId())
        .setServiceName(s.getSpec().getName());
    for (PortConfig p : s.getSpec().getEndpoint().getPortsList()) {
      if (p.getPublishMode() == PortConfig.PublishMode.INGRESS && p.getPublishedPort() != 0) {
        b.addPorts(p);
      }
    }
    return b.getPortsCount() == 0 ? null : b.build();
  }

  /** Replaces a task of a node (null: gone) and records how its endpoint records changed. */
  private void putTask(String taskId, String nodeId, Task now, Changes c) {
    Map<String, Task> mine = tasksByNode.computeIfAbsent(nodeId, k -> new HashMap<>());
    Task old = now == null ? mine.remove(taskId) : mine.put(taskId, now);
    if (mine.isEmpty()) {
      tasksByNode.remove(nodeId);
    }
    Map<String, Endpoint> before = endpointsOf(old);
    Map<String, Endpoint> after = endpointsOf(now);
    for (Map.Entry<String, Endpoint> e : before.entrySet()) {
      if (!after.containsKey(e.getKey())) {
        String net = e.getValue().getNetworkId();
        TreeMap<String, Endpoint> records = endpointsByNetwork.get(net);
        if (records != null && records.remove(e.getKey()) != null && records.isEmpty()) {
          endpointsByNetwork.remove(net);
        }
        c.endpoints.computeIfAbsent(net, k -> new HashMap<>()).putIfAbsent(e.getKey(), true);
      }
    }
    for (Map.Entry<String, Endpoint> e : after.entrySet()) {
      Endpoint prev = before.get(e.getKey());
      if (!e.getValue().equals(prev)) {
        String net = e.getValue().getNetworkId();
        endpointsByNetwork.computeIfAbsent(net, k -> new TreeMap<>()).put(e.getKey(), e.getValue());
        c.endpoints.computeIfAbsent(net, k -> new HashMap<>()).putIfAbsent(e.getKey(), prev != null);
      }
    }
  }

  private Map<String, Endpoint> endpointsOf(Task t) {
    if (t == null || TaskStates.isTerminal(t) || t.getNodeId().isEmpty() || t.getNetworksCount() == 0) {
      return Map.of();
    }
    Node node = nodes.get(t.getNodeId());
    String nodeAddr = node == null ? "" : node.getDescription().getAddr();
    boolean healthy = t.getStatus().getState() == TaskState.RUNNING
        && t.getDesiredState().getNumber() <= TaskState.RUNNING_VALUE
        && !"unhealthy".equals(t.getStatus().getContainer().getHealth());
    Map<String, Endpoint> out = new LinkedHashMap<>();
    for (NetworkAttachment a : t.getNetworksList()) {
      if (a.getAddress().isEmpty()) {
        continue;
      }
      out.put(key(t.getMeta().getId(), a.getNetworkId()), Endpoint.newBuilder()
          .setTaskId(t.getMeta().getId()).setServiceId(t.getServiceId()).setServiceName(t.getServiceName())
          .setNetworkId(a.getNetworkId()).setAddress(a.getAddress()).setMac(a.getMac())
          .addAllAliases(a.getAliasesList()).setNodeId(t.getNodeId()).setNodeAddr(nodeAddr)
          .setHealthy(healthy).build());
    }
    return out;
  }

  // ---------------------------------------------------------------- reads for sessions

  Collection<Task> tasksOfNode(String nodeId) {
    return tasksByNode.getOrDefault(nodeId, Map.of()).values();
  }

  /** Networks a node serves: those its live tasks attach to, plus ingress (every node runs the mesh). */
  Set<String> servedBy(String nodeId) {
    Set<String> served = new TreeSet<>();
    if (ingressId != null && networks.containsKey(ingressId)) {
      served.add(ingressId);
    }
    for (Task t : tasksOfNode(nodeId)) {
      if (!TaskStates.isTerminal(t)) {
        t.getNetworksList().forEach(a -> served.add(a.getNetworkId()));
      }
    }
    return served;
  }

  Collection<Endpoint> endpointsOn(String networkId) {
    return endpointsByNetwork.getOrDefault(networkId, new TreeMap<>()).values();
  }

  Optional<Endpoint> endpoint(String networkId, String key) {
    TreeMap<String, Endpoint> records = endpointsByNetwork.get(networkId);
    return Optional.ofNullable(records == null ? null : records.get(key));
  }

  Optional<Network> network(String id) {
    return Optional.ofNullable(networks.get(id));
  }

  Collection<PublishedService> published() {
    return published.values();
  }

  Optional<PublishedService> published(String serviceId) {
    return Optional.ofNullable(published.get(serviceId));
  }

  Optional<NetworkAttachment> ingressAttachment(String nodeId) {
    return Optional.ofNullable(attachment(nodes.get(nodeId)));
  }
}
