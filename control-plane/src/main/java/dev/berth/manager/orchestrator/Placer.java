package dev.berth.manager.orchestrator;

import dev.berth.api.v1.Node;
import dev.berth.api.v1.PortBinding;
import dev.berth.api.v1.Task;
import java.util.List;

/**
 * Chooses nodes for unassigned tasks. The allocator calls it with every node and the tasks
 * already holding resources, so implementations can work out free capacity; it stays a pure
 * computation (the plan it feeds is re-validated at apply).
 *
 * <p>Thread model: called from the single reconcile thread only. Error contract: returns
 * exactly one {@link Decision} per input task, in input order; never throws for any input.
 */
public interface Placer {
  List<Decision> place(List<Node> nodes, List<Task> placedTasks, List<Task> toPlace);

  /** A node for the task, or the reason none fits (nodeId empty then). */
  record Decision(String taskId, String nodeId, List<PortBinding> hostPorts, String reason) {
    public static Decision placed(String taskId, String nodeId, List<PortBinding> hostPorts) {
      return new Decision(taskId, nodeId, hostPorts, "");
    }

    public static Decision unplaced(String taskId, String reason) {
      return new Decision(taskId, "", List.of(), reason);
    }

    public boolean isPlaced() {
      return !nodeId.isEmpty();
    }
  }
}
