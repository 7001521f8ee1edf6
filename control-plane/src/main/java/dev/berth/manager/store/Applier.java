package dev.berth.manager.store;

import dev.berth.api.v1.WatchEvent;
import dev.berth.internal.v1.ApplyResult;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.LogEntry;
import java.util.List;

/**
 * The deterministic state transition: (store, entry, index) → result + changes.
 *
 * <p>An entry's commands apply all-or-nothing: the first failing precondition rolls back
 * the entry's earlier commands and becomes the entry's result. A request id already in the
 * de-duplication table returns the recorded first result and changes nothing. Apply reads
 * no clock and no random source: time and ids come from the entry.
 *
 * <p>Thread model: call with exclusive access to the state (the store's write lock).
 */
public final class Applier {
  /**
   * Result of one entry plus the changes it made (empty when it failed); {@code progressOnly}:
   * there are changes and each only moved a task forward through its run (agents' ACCEPTED
   * through RUNNING and health reports; {@link ApplyContext#putTaskProgress}).
   */
  public record Outcome(ApplyResult result, List<WatchEvent> events, boolean progressOnly) {}

  private Applier() {}

  static Outcome apply(StoreState state, LogEntry entry, long index) {
    String requestId = entry.getRequestId();
    if (!requestId.isEmpty()) {
      ApplyResult first = state.dedupe.get(requestId);
      if (first != null) {
        state.setIndex(index);
        return new Outcome(first, List.of(), false);
      }
    }
    ApplyContext ctx = new ApplyContext(state, index, entry.getTimestampMs());
    ApplyResult result;
    state.begin();
    try {
      SpecValidator.validateRequestId(requestId);
      if (entry.getCommandsCount() == 0) {
        throw ApplyException.invalid("commands: an entry needs at least one command");
      }
      for (int i = 0; i < entry.getCommandsCount(); i++) {
        try {
          applyCommand(ctx, entry.getCommands(i));
        } catch (ApplyException e) {
          throw entry.getCommandsCount() == 1
              ? e
              : new ApplyException(e.code(), "commands[" + i + "]: " + e.getMessage());
        }
      }
      ctx.finish();
      state.commit();
      result = ApplyResult.newBuilder().setCode("OK").setIndex(index)
          .addAllCreatedIds(ctx.createdIds).build();
    } catch (ApplyException e) {
      state.rollback();
      ctx.events.clear();
      result = ApplyResult.newBuilder().setCode(e.code()).setMessage(e.getMessage())
          .setIndex(index).build();
    }
    if (!requestId.isEmpty() && SpecValidator.isValidRequestId(requestId)) {
      state.dedupe.put(requestId, result);
    }
    if ("OK".equals(result.getCode())) {
      ctx.itemResults.forEach(state.dedupe::put);
    }
    state.setIndex(index);
    boolean progressOnly = !ctx.events.isEmpty() && ctx.progressEvents == ctx.events.size();
    return new Outcome(result, List.copyOf(ctx.events), progressOnly);
  }

  private static void applyCommand(ApplyContext ctx, Command c) {
    switch (c.getCmdCase()) {
      case INIT_CLUSTER -> ClusterCommands.initCluster(ctx, c.getInitCluster());
      case ROTATE_TOKEN -> ClusterCommands.rotateToken(ctx, c.getRotateToken());
      case CREATE_SERVICE -> ServiceCommands.create(ctx, c.getCreateService());
      case UPDATE_SERVICE -> ServiceCommands.update(ctx, c.getUpdateService());
      case REMOVE_SERVICE -> ServiceCommands.remove(ctx, c.getRemoveService());
      case CREATE_NETWORK -> ClusterCommands.createNetwork(ctx, c.getCreateNetwork());
      case REMOVE_NETWORK -> ClusterCommands.removeNetwork(ctx, c.getRemoveNetwork());
      case REGISTER_NODE -> NodeCommands.register(ctx, c.getRegisterNode());
      case REGISTER_NODES -> NodeCommands.registerAll(ctx, c.getRegisterNodes());
      case UPDATE_NODE -> NodeCommands.update(ctx, c.getUpdateNode());
      case REMOVE_NODE -> NodeCommands.remove(ctx, c.getRemoveNode());
      case SET_NODE_STATUS -> NodeCommands.setStatus(ctx, c.getSetNodeStatus());
      case SET_MANAGER -> NodeCommands.setManager(ctx, c.getSetManager());
      case PLAN -> PlanCommands.plan(ctx, c.getPlan());
      case REPORT_TASK_STATUS -> PlanCommands.report(ctx, c.getReportTaskStatus());
      case CMD_NOT_SET -> throw ApplyException.invalid("command: empty (no command set)");
    }
  }
}
