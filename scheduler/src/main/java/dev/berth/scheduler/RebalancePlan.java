package dev.berth.scheduler;

import java.util.List;
import java.util.Map;

/**
 * What {@code service update --rebalance} should do now; see {@link Rebalancer} for how it is computed.
 *
 * @param taskIds tasks to move in this round (shut down and replace; {@link Scheduler#schedule} puts the
 *     replacements on the nodes below target), at most the service's update parallelism
 * @param movesNeeded moves needed in all to restore spread; more than {@code taskIds.size()} means further
 *     rounds after this one, 0 means the service is already balanced
 * @param targets node id → number of the service's tasks it should hold once balanced (eligible nodes only)
 */
public record RebalancePlan(List<String> taskIds, int movesNeeded, Map<String, Integer> targets) {
  public RebalancePlan {
    taskIds = List.copyOf(taskIds);
    targets = Map.copyOf(targets);
  }
}
