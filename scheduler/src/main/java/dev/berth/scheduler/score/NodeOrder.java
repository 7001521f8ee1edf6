package dev.berth.scheduler.score;

import dev.berth.api.v1.SchedulingStrategy;
import java.util.Comparator;

/**
 * Orders a group's candidate nodes, best first. Every order ends with the seeded tie-breaker and then the node
 * id, so it is total: the result never depends on the order nodes were iterated in.
 */
public final class NodeOrder {

  private NodeOrder() {}

  private static final Comparator<Candidate> TIES =
      Comparator.comparingLong(Candidate::tiebreak).thenComparing(c -> c.node().id());

  /**
   * Spread (default): fewest tasks of this service first, then fewest tasks overall, so a service's replicas
   * land on different nodes and services share the load (swarmkit orders the same way).
   */
  public static final Comparator<Candidate> SPREAD =
      Comparator.comparingInt(Candidate::serviceTasks).thenComparingInt(Candidate::totalTasks).thenComparing(TIES);

  /**
   * Bin-pack: the most utilised node first (larger of its CPU and memory reserved fractions), then the one
   * with most tasks of this service, so nodes fill up before new ones are used and whole machines stay free.
   * Reads the node's live reservations: the scheduler re-inserts a candidate only after recording a
   * placement on it.
   */
  public static final Comparator<Candidate> BINPACK =
      Comparator.comparingDouble((Candidate c) -> -c.node().utilization())
          .thenComparingInt(c -> -c.serviceTasks())
          .thenComparingInt(c -> -c.totalTasks())
          .thenComparing(TIES);

  public static Comparator<Candidate> of(SchedulingStrategy strategy) {
    return strategy == SchedulingStrategy.BINPACK ? BINPACK : SPREAD;
  }
}
