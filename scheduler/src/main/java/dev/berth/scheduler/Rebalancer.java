package dev.berth.scheduler;

import dev.berth.scheduler.filter.Filter;
import dev.berth.scheduler.score.Candidate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeMap;

/**
 * Computes the fewest task moves that restore a replicated service's spread, for the opt-in
 * {@code service update --rebalance} (Swarm never moves running tasks by itself; this lets operators ask).
 *
 * <p>Contract:
 * <ul>
 *   <li>Only the service's counted tasks on <em>eligible</em> nodes are considered: nodes passing the static
 *       filters (ready, active, constraints, platform) for the service's current task spec. Tasks on other
 *       nodes are the orchestrator's business (drain, node down, spec update), not rebalancing's.</li>
 *   <li>Targets: with N such tasks, each level of the placement-preference tree (and finally the nodes) gets
 *       N split as evenly as possible, each part capped by what it can hold (current tasks plus the room the
 *       resource, port and max-replicas filters leave). Where an even split leaves remainders, the extra task
 *       goes to the part that holds most now, so as few tasks as possible move.</li>
 *   <li>Moves: a node above its target gives up the difference; its highest task ids go first. Moves are
 *       ordered by taking one at a time from the node with the largest remaining excess, so a partial round
 *       reduces the worst imbalance first. At most {@code UpdateConfig.parallelism} moves are returned (0 means
 *       no cap); {@link RebalancePlan#movesNeeded()} tells the full count.</li>
 *   <li>Replacements are placed by {@link Scheduler#schedule}; with the cluster otherwise unchanged its spread
 *       order fills exactly the nodes below target.</li>
 * </ul>
 * Pure and deterministic; reads the view only.
 */
final class Rebalancer {

  /** A node, or a branch of the preference tree, with its current count, cap and computed target. */
  private static final class Part {
    final String key;
    final long tiebreak;
    final NodeInfo node;
    final List<Part> members = new ArrayList<>();
    long current;
    long max;
    long target;

    Part(String key, long tiebreak, NodeInfo node) {
      this.key = key;
      this.tiebreak = tiebreak;
      this.node = node;
    }
  }

  private final ClusterView view;
  private final GroupSpec group;
  private final long seed;

  Rebalancer(ClusterView view, GroupSpec group, long seed) {
    this.view = view;
    this.group = group;
    this.seed = seed;
  }

  RebalancePlan plan() {
    if (group.invalid != null) {
      return new RebalancePlan(List.of(), 0, Map.of());
    }
    List<Filter> filters = Pipeline.of(group).filters();
    List<Part> nodes = new ArrayList<>();
    for (NodeInfo n : view.nodes()) {
      long room = Filter.UNLIMITED;
      boolean eligible = true;
      for (Filter f : filters) {
        if (f.isStatic()) {
          eligible &= f.check(n);
        } else {
          room = Math.min(room, f.capacity(n));
        }
      }
      if (eligible) {
        Part p = new Part(n.id(), Candidate.rank(seed, n.idHash()), n);
        p.current = n.tasksOf(group.serviceId);
        p.max = p.current + room;
        nodes.add(p);
      }
    }
    long total = nodes.stream().mapToLong(p -> p.current).sum();
    split(nodes, 0, total);

    Map<String, Integer> targets = new TreeMap<>();
    Map<NodeInfo, Part> over = new HashMap<>();
    int needed = 0;
    for (Part p : nodes) {
      targets.put(p.key, (int) p.target);
      if (p.current > p.target) {
        over.put(p.node, p);
        needed += (int) (p.current - p.target);
      }
    }
    return new RebalancePlan(pickTasks(over), needed, targets);
  }

  /** Splits {@code total} over {@code nodes}, level by level along the placement preferences. */
  private void split(List<Part> nodes, int level, long total) {
    if (level == group.preferences.size()) {
      waterFill(nodes, total);
      return;
    }
    NodeAttribute descriptor = group.preferences.get(level);
    Map<String, Part> branches = new LinkedHashMap<>();
    for (Part n : nodes) {
      String value = descriptor.valueOf(n.node.node());
      String key = value == null ? "" : value;
      Part b = branches.computeIfAbsent(key, k -> new Part(k, Candidate.rank(seed, k.hashCode()), null));
      b.members.add(n);
      b.current += n.current;
      b.max += n.max;
    }
    List<Part> parts = new ArrayList<>(branches.values());
    waterFill(parts, total);
    for (Part b : parts) {
      split(b.members, level + 1, b.target);
    }
  }

  /**
   * Sets targets summing to {@code total}, as equal as the caps allow: parts whose cap is below the level get
   * their cap, the rest share what is left, remainders going to the parts holding most now.
   */
  private static void waterFill(List<Part> parts, long total) {
    List<Part> byMax = new ArrayList<>(parts);
    byMax.sort(Comparator.comparingLong((Part p) -> p.max).thenComparing(p -> p.key));
    long remaining = total;
    int i = 0;
    int n = byMax.size();
    while (i < n && byMax.get(i).max <= remaining / (n - i)) {
      byMax.get(i).target = byMax.get(i).max;
      remaining -= byMax.get(i).max;
      i++;
    }
    if (i == n) {
      return;
    }
    List<Part> rest = new ArrayList<>(byMax.subList(i, n));
    long base = remaining / rest.size();
    long extra = remaining % rest.size();
    rest.sort(Comparator.comparingLong((Part p) -> -p.current).thenComparingLong(p -> p.tiebreak)
        .thenComparing(p -> p.key));
    for (int j = 0; j < rest.size(); j++) {
      rest.get(j).target = base + (j < extra ? 1 : 0);
    }
  }

  private List<String> pickTasks(Map<NodeInfo, Part> over) {
    if (over.isEmpty()) {
      return List.of();
    }
    Map<NodeInfo, List<String>> ids = new HashMap<>();
    view.forEachTask(r -> {
      if (r.serviceId.equals(group.serviceId) && over.containsKey(r.node)) {
        ids.computeIfAbsent(r.node, k -> new ArrayList<>()).add(r.taskId);
      }
    });
    ids.values().forEach(list -> list.sort(Comparator.reverseOrder()));
    long parallelism = group.service.getSpec().getUpdate().getParallelism();
    long limit = parallelism == 0 ? Long.MAX_VALUE : parallelism;
    // Excess left per node; the node with the most goes next.
    PriorityQueue<Part> queue = new PriorityQueue<>(
        Comparator.comparingLong((Part p) -> -(p.current - p.target)).thenComparingLong(p -> p.tiebreak)
            .thenComparing(p -> p.key));
    queue.addAll(over.values());
    Map<NodeInfo, Integer> taken = new HashMap<>();
    List<String> moves = new ArrayList<>();
    while (!queue.isEmpty() && moves.size() < limit) {
      Part p = queue.poll();
      List<String> list = ids.get(p.node);
      int k = taken.merge(p.node, 1, Integer::sum);
      moves.add(list.get(k - 1));
      p.current--;
      if (p.current > p.target) {
        queue.add(p);
      }
    }
    return moves;
  }
}
