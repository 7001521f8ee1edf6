package dev.berth.manager.store;

import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;

/**
 * Which agent reports about a task carry news although its state stays the same. Task states
 * only move forward; the one same-state report that is recorded is a RUNNING task whose
 * container health changed ("starting", "healthy", "unhealthy"), so health reaches the API.
 *
 * <p>Thread model: stateless. Error contract: never throws.
 */
public final class TaskReports {
  private TaskReports() {}

  public static boolean healthChanged(TaskStatus current, TaskStatus reported) {
    return current.getState() == TaskState.RUNNING && reported.getState() == TaskState.RUNNING
        && !current.getContainer().getHealth().equals(reported.getContainer().getHealth());
  }
}
