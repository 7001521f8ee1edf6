package dev.berth.manager.store;

import dev.berth.api.v1.PortBinding;
import dev.berth.api.v1.Resources;
import dev.berth.api.v1.Task;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Per node, what its tasks hold: the reserved CPU and memory and the host ports of every task
 * assigned to it that has not ended. Kept by {@link StoreState} with its task indexes (and undone
 * with them), so apply's capacity check of a plan's assignment reads a node in O(1). Before, each
 * plan summed the tasks of every node it touched: an allocator plan of 1,000 tasks over 100 nodes
 * of 1,000 tasks each read 100,000 tasks on every manager, ~100 ms of apply that every status
 * entry behind it waited for (docs/benchmarks.md, "Control plane").
 *
 * <p>Thread model: as {@link StoreState}'s, confined to apply under the store's write lock.
 */
final class NodeReservations {
  /** One node's sums; {@code tasks} counts the tasks in them, so an empty node is dropped. */
  private static final class Held {
    long cpu;
    long mem;
    int tasks;
    final Map<String, Integer> ports = new HashMap<>();
  }

  private final Map<String, Held> byNode = new HashMap<>();

  /** A task's share: assigned to a node and not ended (a task still stopping still holds it). */
  static boolean holds(Task t) {
    return !t.getNodeId().isEmpty() && !PlanCommands.terminal(t.getStatus().getState());
  }

  static String portKey(PortBinding pb) {
    return pb.getProtocol() + "/" + pb.getPort();
  }

  long cpu(String nodeId) {
    Held h = byNode.get(nodeId);
    return h == null ? 0 : h.cpu;
  }

  long memory(String nodeId) {
    Held h = byNode.get(nodeId);
    return h == null ? 0 : h.mem;
  }

  /** Whether a task on the node holds this host port ({@link #portKey}). */
  boolean portTaken(String nodeId, String portKey) {
    Held h = byNode.get(nodeId);
    return h != null && h.ports.containsKey(portKey);
  }

  void add(Task t) {
    if (holds(t)) {
      change(t, 1);
    }
  }

  void remove(Task t) {
    if (holds(t)) {
      change(t, -1);
    }
  }

  /**
   * {@code from} replaced by {@code to} (either may be null); nothing to do for a status update
   * that leaves the task's share as it was, which is nearly every agent report.
   */
  void move(Task from, Task to) {
    if (from != null && to != null && holds(from) == holds(to) && sameShare(from, to)) {
      return;
    }
    if (from != null) {
      remove(from);
    }
    if (to != null) {
      add(to);
    }
  }

  void clear() {
    byNode.clear();
  }

  /** An index built from scratch over {@code tasks}, to compare the kept one with (tests). */
  static NodeReservations of(Iterable<Task> tasks) {
    NodeReservations r = new NodeReservations();
    tasks.forEach(r::add);
    return r;
  }

  /** Per node, "cpu/memory/tasks/ports" in node order: what two indexes are compared by. */
  Map<String, String> summary() {
    Map<String, String> out = new TreeMap<>();
    byNode.forEach((node, h) -> out.put(node, h.cpu + "/" + h.mem + "/" + h.tasks + "/" + new TreeMap<>(h.ports)));
    return out;
  }

  private static boolean sameShare(Task a, Task b) {
    return !holds(a) || (a.getNodeId().equals(b.getNodeId())
        && reservations(a).equals(reservations(b)) && a.getHostPortsList().equals(b.getHostPortsList()));
  }

  private static Resources reservations(Task t) {
    return t.getSpec().getResources().getReservations();
  }

  private void change(Task t, int sign) {
    Held h = byNode.computeIfAbsent(t.getNodeId(), k -> new Held());
    Resources r = reservations(t);
    h.cpu += sign * r.getNanoCpus();
    h.mem += sign * r.getMemoryBytes();
    h.tasks += sign;
    for (PortBinding pb : t.getHostPortsList()) {
      h.ports.merge(portKey(pb), sign, (x, y) -> x + y == 0 ? null : x + y);
    }
    if (h.tasks == 0) {
      byNode.remove(t.getNodeId());
    }
  }
}
