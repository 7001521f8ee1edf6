package dev.berth.scheduler;

import dev.berth.scheduler.filter.ConstraintFilter;
import dev.berth.scheduler.filter.Filter;
import dev.berth.scheduler.filter.HostPortFilter;
import dev.berth.scheduler.filter.MaxReplicasFilter;
import dev.berth.scheduler.filter.NodeStateFilter;
import dev.berth.scheduler.filter.PlatformFilter;
import dev.berth.scheduler.filter.ResourceFilter;
import dev.berth.scheduler.score.Candidate;
import dev.berth.scheduler.score.NodeOrder;
import dev.berth.scheduler.score.PreferenceTree;
import java.util.ArrayList;
import java.util.List;

/**
 * The placement pipeline for one task group (service + task spec), assembled here and nowhere else: which
 * filters run in which order, and how the surviving nodes are ranked.
 *
 * <p>Cost model: the static filters (state, constraints, platform) run once per node for each distinct
 * (constraints, platforms) key in a batch, since placements cannot change them; the dynamic ones (replicas
 * per node, CPU, memory, host ports) run once per (group, eligible node) and yield how many tasks of the group
 * the node can take. Placing the group then only pops and re-inserts candidates; no filter runs per task.
 *
 * <p>Explanations recount over the whole view, charging each node to the first filter that rejects it, so the
 * counts of an explanation add up to the number of nodes.
 */
final class Pipeline {

  private final GroupSpec group;
  private final List<Filter> filters;

  private Pipeline(GroupSpec group, List<Filter> filters) {
    this.group = group;
    this.filters = filters;
  }

  static Pipeline of(GroupSpec g) {
    List<Filter> f = new ArrayList<>();
    // 1. The node is up and accepts new tasks: NODE_READY and availability ACTIVE.
    f.add(NodeStateFilter.INSTANCE);
    // 2. Each placement constraint, in spec order, one filter apiece so the explanation names the unmet one.
    for (Constraint c : g.constraints) {
      f.add(new ConstraintFilter(c));
    }
    // 3. The image runs on the node's os/architecture (only when the spec lists platforms).
    if (g.spec.getPlacement().getPlatformsCount() > 0) {
      f.add(new PlatformFilter(g.spec.getPlacement().getPlatformsList()));
    }
    // 4. --replicas-max-per-node: room left for this service on the node.
    if (g.maxReplicasPerNode() > 0) {
      f.add(new MaxReplicasFilter(g.serviceId, g.maxReplicasPerNode()));
    }
    // 5. CPU, then memory, after the reservations of every counted task and of earlier placements.
    if (g.cpu > 0) {
      f.add(ResourceFilter.cpu(g.cpu));
    }
    if (g.memory > 0) {
      f.add(ResourceFilter.memory(g.memory));
    }
    // 6. Host-mode published ports are free (at most one such task per node).
    if (!g.hostPorts.isEmpty()) {
      f.add(new HostPortFilter(g.hostPorts));
    }
    return new Pipeline(g, List.copyOf(f));
  }

  List<Filter> filters() {
    return filters;
  }

  /** Capacity of {@code node} for the group; on rejection adds one to the rejecting filter's counter. */
  int capacity(NodeInfo node, int[] rejected) {
    int capacity = Filter.UNLIMITED;
    for (int i = 0; i < filters.size(); i++) {
      int c = filters.get(i).capacity(node);
      if (c <= 0) {
        rejected[i]++;
        return 0;
      }
      capacity = Math.min(capacity, c);
    }
    return capacity;
  }

  /**
   * Identifies the group's static filters (state, constraints, platform): groups with equal keys have the
   * same eligible nodes, so one batch computes them once per key however many services share them.
   */
  Object staticKey() {
    return List.of(group.spec.getPlacement().getConstraintsList(), group.spec.getPlacement().getPlatformsList());
  }

  /** Nodes of the view passing the static filters. Valid for a whole batch: placements don't change it. */
  List<NodeInfo> eligible(ClusterView view) {
    List<Filter> statics = filters.stream().filter(Filter::isStatic).toList();
    List<NodeInfo> nodes = view.nodes();
    List<NodeInfo> out = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) {
      NodeInfo n = nodes.get(i);
      boolean ok = true;
      for (int f = 0; f < statics.size() && ok; f++) {
        ok = statics.get(f).check(n);
      }
      if (ok) {
        out.add(n);
      }
    }
    return out;
  }

  /**
   * Runs the dynamic filters (replicas per node, CPU, memory, host ports) over the eligible nodes and returns
   * the nodes with room for at least one task, with their capacity for the group.
   */
  List<Candidate> candidates(ClusterView view, List<NodeInfo> eligible, Batch batch) {
    List<Filter> dynamic = filters.stream().filter(f -> !f.isStatic()).toList();
    int stamp = batch.nextGroup();
    List<Candidate> out = new ArrayList<>(eligible.size());
    for (int i = 0; i < eligible.size(); i++) {
      NodeInfo n = eligible.get(i);
      int capacity = Filter.UNLIMITED;
      for (int f = 0; f < dynamic.size() && capacity > 0; f++) {
        capacity = Math.min(capacity, dynamic.get(f).capacity(n));
      }
      if (capacity > 0) {
        out.add(batch.candidate(n, capacity, stamp));
      }
    }
    // The service's per-node counts, read from the few nodes that have its tasks rather than asking each node.
    view.nodesOf(group.serviceId).forEach((node, count) -> {
      Candidate c = batch.candidateOf(node, stamp);
      if (c != null) {
        c.setServiceTasks(count[0]);
      }
    });
    return out;
  }

  /**
   * Ranks the candidates: placement preferences split them into a tree of branches balanced level by level,
   * and within a leaf the service's strategy orders nodes (spread: fewest tasks of the service, then fewest
   * tasks; bin-pack: fullest node first); seeded ranks break ties.
   */
  PreferenceTree rank(List<Candidate> candidates, long seed) {
    return new PreferenceTree(candidates, group.preferences,
        NodeOrder.of(group.service.getSpec().getStrategy()), seed);
  }

  /** Recounts rejections over the whole view and explains them. */
  String explainNoNode(ClusterView view) {
    int[] rejected = new int[filters.size()];
    for (NodeInfo n : view.nodes()) {
      capacity(n, rejected);
    }
    return explain(rejected, view.nodes().size());
  }

  /** {@code no suitable node (insufficient memory on 7 nodes, constraint ... unmet on 3 nodes)}. */
  String explain(int[] rejected, int nodes) {
    if (nodes == 0) {
      return "no suitable node (no nodes in the cluster)";
    }
    List<String> parts = new ArrayList<>();
    for (int i = 0; i < filters.size(); i++) {
      if (rejected[i] > 0) {
        parts.add(filters.get(i).explain(rejected[i]));
      }
    }
    return "no suitable node (" + String.join(", ", parts) + ")";
  }
}
