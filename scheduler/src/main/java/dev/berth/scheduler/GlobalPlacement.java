package dev.berth.scheduler;

import dev.berth.api.v1.PortBinding;
import dev.berth.scheduler.filter.Filter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where a global service belongs, as {@link Scheduler#planGlobal} computes it from the view.
 *
 * <p>A node is <em>eligible</em> when it passes the static filters for the service's current task spec: ready,
 * availability active, every constraint, platform. Every other known node is <em>ineligible</em>, with the
 * reason of the first static filter it fails (e.g. {@code constraint node.labels.zone==a unmet}): the
 * reconciler shuts down the service's tasks there, which is how global services follow drains and relabels.
 * For each eligible node the plan says how many counted tasks of the service it has and whether a new task
 * fits now (CPU, memory, host ports); when it does not, {@code reason} says why (e.g.
 * {@code insufficient memory}) and the reconciler keeps that node's task PENDING with the reason. Nodes
 * joining appear as eligible with {@code tasks == 0}.
 *
 * <p>Immutable. Entries are sorted by node id.
 */
public final class GlobalPlacement {

  /**
   * One eligible node.
   *
   * @param tasks counted tasks of the service on the node (the reconciler creates one when 0)
   * @param fits whether a new task of the current spec fits the node's free resources and ports now
   * @param reason why it does not fit, or null when it fits
   * @param hostPorts host ports the new task binds (host-mode published ports)
   */
  public record NodeDecision(String nodeId, int tasks, boolean fits, String reason, List<PortBinding> hostPorts) {}

  private final List<NodeDecision> eligible;
  private final Map<String, String> ineligible;

  private GlobalPlacement(List<NodeDecision> eligible, Map<String, String> ineligible) {
    this.eligible = List.copyOf(eligible);
    this.ineligible = Collections.unmodifiableMap(ineligible);
  }

  static GlobalPlacement plan(ClusterView view, GroupSpec group) {
    List<NodeDecision> eligible = new ArrayList<>();
    Map<String, String> ineligible = new TreeMap<>();
    List<Filter> filters = group.invalid == null ? Pipeline.of(group).filters() : List.of();
    for (NodeInfo node : view.nodes()) {
      if (group.invalid != null) {
        ineligible.put(node.id(), group.invalid);
        continue;
      }
      String staticFailure = null;
      String dynamicFailure = null;
      for (Filter f : filters) {
        if (f.isStatic() && staticFailure == null && !f.check(node)) {
          staticFailure = f.reason();
        } else if (!f.isStatic() && dynamicFailure == null && !f.check(node)) {
          dynamicFailure = f.reason();
        }
      }
      if (staticFailure != null) {
        ineligible.put(node.id(), staticFailure);
      } else {
        eligible.add(new NodeDecision(node.id(), node.tasksOf(group.serviceId), dynamicFailure == null,
            dynamicFailure, group.hostPorts));
      }
    }
    eligible.sort(Comparator.comparing(NodeDecision::nodeId));
    return new GlobalPlacement(eligible, ineligible);
  }

  /** Eligible nodes, sorted by id. */
  public List<NodeDecision> eligible() {
    return eligible;
  }

  /** Node id → why the service does not belong there; sorted by id. */
  public Map<String, String> ineligible() {
    return ineligible;
  }

  /** Eligible nodes without a task of the service where a new one fits: the tasks to create now. */
  public List<NodeDecision> nodesToPlace() {
    return eligible.stream().filter(d -> d.tasks() == 0 && d.fits()).toList();
  }
}
