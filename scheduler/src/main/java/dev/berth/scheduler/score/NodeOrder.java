package dev.berth.scheduler.score;

import dev.berth.api.v1.SchedulingStrategy;
import java.util.Comparator;

/**
 * Orders a group's candidate nodes, best first. Every order ends with the seeded tie-breaker and then the node
 * id, so it is total: the result never depends on the order nodes were iterated in. Written as plain
 * comparisons rather than composed {@code Comparator.comparing} chains because they run millions of times per
 * large batch.
 */
public final class NodeOrder {

  private NodeOrder() {}

  private static int ties(Candidate a, Candidate b) {
    int c = Long.compare(a.tiebreak(), b.tiebreak());
    return c != 0 ? c : a.node().id().compareTo(b.node().id());
  }

  /**
   * Spread (default): fewest tasks of this service first, then fewest tasks overall, so a service's replicas
   * land on different nodes and services share the load (swarmkit orders the same way).
   */
  public static final Comparator<Candidate> SPREAD = (a, b) -> {
    int c = Integer.compare(a.serviceTasks(), b.serviceTasks());
    if (c == 0) {
      c = Integer.compare(a.totalTasks(), b.totalTasks());
    }
    return c != 0 ? c : ties(a, b);
  };

  /**
   * Bin-pack: the most utilised node first (larger of its CPU and memory reserved fractions), then the one
   * with most tasks of this service, then most tasks, so nodes fill up before new ones are used and whole
   * machines stay free. Reads the node's live reservations: the scheduler re-inserts a candidate only after
   * recording a placement on it.
   */
  public static final Comparator<Candidate> BINPACK = (a, b) -> {
    int c = Double.compare(b.node().utilization(), a.node().utilization());
    if (c == 0) {
      c = Integer.compare(b.serviceTasks(), a.serviceTasks());
    }
    if (c == 0) {
      c = Integer.compare(b.totalTasks(), a.totalTasks());
    }
    return c != 0 ? c : ties(a, b);
  };

  public static Comparator<Candidate> of(SchedulingStrategy strategy) {
    return strategy == SchedulingStrategy.BINPACK ? BINPACK : SPREAD;
  }
}
