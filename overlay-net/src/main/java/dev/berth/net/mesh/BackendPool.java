package dev.berth.net.mesh;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The tasks behind one published port and the round-robin over them.
 *
 * <p>The rotation interleaves nodes (first task of each node, then the second of each,
 * ...), so consecutive connections spread across nodes as well as tasks; unhealthy tasks
 * are out of the rotation until healthy again.
 *
 * <p>Thread model: thread-safe; {@link #set} publishes a new immutable rotation, {@link #next}
 * is lock-free. Error contract: {@link #next} is empty when no task is healthy.
 */
public final class BackendPool {
  private volatile List<Backend> rotation = List.of();
  private final Map<String, Backend> byTask = new LinkedHashMap<>();
  private final AtomicLong counter = new AtomicLong();

  /** Adds or replaces a task (e.g. on a health change). */
  public synchronized void put(Backend b) {
    byTask.put(b.taskId(), b);
    publish();
  }

  public synchronized void remove(String taskId) {
    byTask.remove(taskId);
    publish();
  }

  /** The healthy tasks in rotation order. */
  public List<Backend> rotation() {
    return rotation;
  }

  public Optional<Backend> next() {
    List<Backend> r = rotation;
    if (r.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(r.get((int) Math.floorMod(counter.getAndIncrement(), (long) r.size())));
  }

  private void publish() {
    rotation = interleave(byTask.values());
  }

  /**
   * The healthy tasks in rotation order: the first task (by id) of each node, then the second of
   * each, ..., so consecutive picks spread across nodes. The kernel mesh balances over the same order.
   */
  public static List<Backend> interleave(Collection<Backend> backends) {
    TreeMap<String, List<Backend>> perNode = new TreeMap<>();
    backends.stream().filter(Backend::healthy).sorted(Comparator.comparing(Backend::taskId))
        .forEach(b -> perNode.computeIfAbsent(b.nodeId(), k -> new ArrayList<>()).add(b));
    List<Backend> out = new ArrayList<>();
    for (int i = 0; ; i++) {
      int added = 0;
      for (List<Backend> l : perNode.values()) {
        if (i < l.size()) {
          out.add(l.get(i));
          added++;
        }
      }
      if (added == 0) {
        break;
      }
    }
    return List.copyOf(out);
  }
}
