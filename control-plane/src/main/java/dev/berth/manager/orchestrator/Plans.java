package dev.berth.manager.orchestrator;

import dev.berth.api.v1.TaskState;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.Plan;
import java.util.List;

/** Small helpers shared by the reconcilers to build {@link Plan} commands. */
final class Plans {
  private Plans() {}

  static Plan.Builder start(long baseIndex) {
    return Plan.newBuilder().setBaseIndex(baseIndex);
  }

  static Plan.Desired desired(String taskId, TaskState state) {
    return Plan.Desired.newBuilder().setTaskId(taskId).setDesiredState(state).build();
  }

  /** The plan as a one-command list, or an empty list when it changes nothing. */
  static List<Command> toCommands(Plan.Builder plan) {
    boolean empty =
        plan.getCreateTasksCount() == 0
            && plan.getAssignmentsCount() == 0
            && plan.getPendingCount() == 0
            && plan.getDesiredCount() == 0
            && plan.getDeleteTasksCount() == 0
            && plan.getStatusChangesCount() == 0
            && plan.getServiceStatusCount() == 0;
    return empty ? List.of() : List.of(Command.newBuilder().setPlan(plan).build());
  }

  /** Changes per plan are capped so one log entry stays small and a round stays short. */
  static boolean full(Plan.Builder plan, int limit) {
    return plan.getCreateTasksCount()
            + plan.getDesiredCount()
            + plan.getDeleteTasksCount()
            + plan.getStatusChangesCount()
            + plan.getAssignmentsCount()
            + plan.getPendingCount()
        >= limit;
  }
}
