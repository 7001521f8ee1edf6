package dev.berth.scheduler;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Outcome of one {@link Scheduler#schedule} call: an assignment for each placed task, and for every other task
 * the reason it could not be placed (what the control plane stores in the PENDING task's status message).
 * Every task of the batch is in exactly one of the two. Immutable.
 */
public final class SchedulingResult {

  private final List<Assignment> assignments;
  private final Map<String, String> unschedulable;

  SchedulingResult(List<Assignment> assignments, Map<String, String> unschedulable) {
    this.assignments = List.copyOf(assignments);
    this.unschedulable = Collections.unmodifiableMap(new LinkedHashMap<>(unschedulable));
  }

  /** Placements, in the order the scheduler made them. */
  public List<Assignment> assignments() {
    return assignments;
  }

  /**
   * Task id → explanation, e.g. {@code no suitable node (insufficient memory on 7 nodes)}. Ordered: tasks of
   * unknown or global services first, then group by group in placement order.
   */
  public Map<String, String> unschedulable() {
    return unschedulable;
  }

  @Override
  public String toString() {
    return "SchedulingResult{placed=" + assignments.size() + ", unschedulable=" + unschedulable + "}";
  }
}
