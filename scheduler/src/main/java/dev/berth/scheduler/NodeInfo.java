package dev.berth.scheduler;

import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeAvailability;
import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.Protocol;
import java.util.HashMap;
import java.util.Map;

/**
 * What the scheduler knows about one node: the {@link Node} object plus the reservations, host ports and
 * per-service task counts of the tasks the {@link ClusterView} counts on it (including placements made by the
 * scheduler that the control plane has not written back yet).
 *
 * <p>Owned by its {@link ClusterView} and mutated only through it; not thread-safe. Filters and scorers read
 * it through the public getters.
 */
public final class NodeInfo {

  private final String id;
  private final long idHash;
  /** Null while the node is unknown to the view (removed, or only referenced by tasks so far). */
  private Node node;
  /** Cached from the node object: read for every (group, node) pair, so kept off the proto's pointer chain. */
  private boolean ready;
  private boolean active;
  /** Position in the view's list of known nodes, or -1. */
  int index = -1;
  private long totalCpu;
  private long totalMemory;
  private long reservedCpu;
  private long reservedMemory;
  private int taskCount;
  /** Service id -> number of counted tasks of that service here. int[1] as a mutable counter. */
  private final Map<String, int[]> serviceTasks = new HashMap<>(4);
  /** Encoded host port ({@link #portKey}) -> number of counted tasks binding it; allocated on first use. */
  private Map<Integer, int[]> hostPorts;

  NodeInfo(String id) {
    this.id = id;
    this.idHash = fnv1a64(id);
  }

  /** Stable 64-bit hash of the id; input of the seeded tie-breaker. */
  public long idHash() {
    return idHash;
  }

  public String id() {
    return id;
  }

  /** The node object, or null when the view has no node with this id (it has only tasks referring to it). */
  public Node node() {
    return node;
  }

  void setNode(Node node) {
    this.node = node;
    ready = node != null && node.getStatus().getState() == NodeState.NODE_READY;
    active = node != null && node.getSpec().getAvailability() == NodeAvailability.ACTIVE;
    if (node == null) {
      totalCpu = 0;
      totalMemory = 0;
    } else {
      totalCpu = node.getDescription().getResources().getNanoCpus();
      totalMemory = node.getDescription().getResources().getMemoryBytes();
    }
  }

  /** Heartbeating ({@code NODE_READY}). */
  public boolean isReady() {
    return ready;
  }

  /** Availability {@code ACTIVE} (not paused or drained). */
  public boolean isActive() {
    return active;
  }

  public long totalCpu() {
    return totalCpu;
  }

  public long totalMemory() {
    return totalMemory;
  }

  public long reservedCpu() {
    return reservedCpu;
  }

  public long reservedMemory() {
    return reservedMemory;
  }

  /** Capacity minus reservations; negative when the node shrank below what its tasks reserve. */
  public long freeCpu() {
    return totalCpu - reservedCpu;
  }

  public long freeMemory() {
    return totalMemory - reservedMemory;
  }

  /** Fraction of the node's CPU or memory reserved, whichever is larger (0 when it reports no capacity). */
  public double utilization() {
    double cpu = totalCpu > 0 ? (double) reservedCpu / totalCpu : 0;
    double mem = totalMemory > 0 ? (double) reservedMemory / totalMemory : 0;
    return Math.max(cpu, mem);
  }

  /** Counted tasks on this node, all services. */
  public int taskCount() {
    return taskCount;
  }

  /** Counted tasks of {@code serviceId} on this node. */
  public int tasksOf(String serviceId) {
    int[] n = serviceTasks.get(serviceId);
    return n == null ? 0 : n[0];
  }

  int[] counter(String serviceId) {
    return serviceTasks.get(serviceId);
  }

  /** Whether a counted task binds {@code port}/{@code protocol} on this node. */
  public boolean hostPortInUse(Protocol protocol, int port) {
    return hostPorts != null && hostPorts.containsKey(portKey(protocol, port));
  }

  boolean hostPortInUse(int key) {
    return hostPorts != null && hostPorts.containsKey(key);
  }

  static int portKey(Protocol protocol, int port) {
    return (protocol.getNumber() << 16) | (port & 0xffff);
  }

  void add(Reservation r, int sign) {
    reservedCpu += sign * r.cpu;
    reservedMemory += sign * r.memory;
    taskCount += sign;
    int[] n = serviceTasks.computeIfAbsent(r.serviceId, k -> new int[1]);
    n[0] += sign;
    if (n[0] == 0) {
      serviceTasks.remove(r.serviceId);
    }
    for (int key : r.ports) {
      if (hostPorts == null) {
        hostPorts = new HashMap<>(4);
      }
      int[] c = hostPorts.computeIfAbsent(key, k -> new int[1]);
      c[0] += sign;
      if (c[0] == 0) {
        hostPorts.remove(key);
      }
    }
  }

  private static long fnv1a64(String s) {
    long h = 0xcbf29ce484222325L;
    for (int i = 0; i < s.length(); i++) {
      h ^= s.charAt(i);
      h *= 0x100000001b3L;
    }
    return h;
  }

  @Override
  public String toString() {
    return "NodeInfo{" + id + ", tasks=" + taskCount + ", cpu=" + reservedCpu + "/" + totalCpu + ", mem="
        + reservedMemory + "/" + totalMemory + "}";
  }
}
