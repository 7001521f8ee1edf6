package dev.berth.manager.orchestrator;

import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import java.util.List;

/** Predicates over the forward-only task lifecycle shared by the reconcilers. */
public final class TaskStates {
  private TaskStates() {}

  /** COMPLETE, SHUTDOWN, FAILED, REJECTED, REMOVE, ORPHANED: the task will never run again. */
  public static boolean isTerminal(TaskState state) {
    return state.getNumber() >= TaskState.COMPLETE_VALUE;
  }

  public static boolean isTerminal(Task task) {
    return isTerminal(task.getStatus().getState());
  }

  /** The manager still wants this task to run (desired state RUNNING or earlier). */
  public static boolean isLive(Task task) {
    return task.getDesiredState().getNumber() <= TaskState.RUNNING_VALUE;
  }

  /** Waiting for a node: NEW or PENDING. */
  public static boolean isUnassigned(Task task) {
    return task.getStatus().getState().getNumber() < TaskState.ASSIGNED_VALUE;
  }

  /**
   * Occupies resources on its node: assigned and not yet ended (whatever its desired
   * state, a task that is still stopping still holds its reservation).
   */
  public static boolean holdsResources(Task task) {
    return !task.getNodeId().isEmpty() && !isUnassigned(task) && !isTerminal(task);
  }

  /** Ended, or never started and no longer wanted: eligible for history pruning. */
  public static boolean isFinished(Task task) {
    return !isLive(task) && (isTerminal(task) || isUnassigned(task));
  }

  /** Slot identity: the slot number for replicated services, the node for global ones. */
  public static String slotKey(Task task) {
    return task.getSlot() != 0 ? Long.toString(task.getSlot()) : "node:" + pinnedNode(task);
  }

  /**
   * The node a global-service task belongs to: its node once assigned, before that the node
   * named by the {@code node.id==} constraint {@link TaskFactory} appended; empty for
   * replicated tasks.
   */
  public static String pinnedNode(Task task) {
    if (task.getSlot() != 0) {
      return "";
    }
    if (!task.getNodeId().isEmpty()) {
      return task.getNodeId();
    }
    List<String> constraints = task.getSpec().getPlacement().getConstraintsList();
    if (!constraints.isEmpty()) {
      String last = constraints.get(constraints.size() - 1);
      if (last.startsWith(TaskFactory.PIN_PREFIX)) {
        return last.substring(TaskFactory.PIN_PREFIX.length());
      }
    }
    return "";
  }
}
