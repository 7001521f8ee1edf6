package dev.berth.manager.orchestrator;

import dev.berth.api.v1.Meta;
import dev.berth.api.v1.NetworkAttachment;
import dev.berth.api.v1.NetworkAttachmentConfig;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import dev.berth.api.v1.Network;
import dev.berth.manager.store.StoreView;
import java.util.Optional;

/**
 * Builds new Task objects for a service slot with proposer-side ids and timestamps.
 * Network addresses are left for the applier to allocate (only network ids are set).
 *
 * <p>Global-service tasks must run on one given node, but the store only accepts new tasks
 * without a node (nodes are set by plan assignments, which re-validate capacity). Such a task
 * is therefore pinned by appending the constraint {@code node.id==NODE} to its spec's
 * placement: {@link TaskStates#pinnedNode} reads it back and the {@link Allocator} places the
 * task there when {@code Scheduler.planGlobal} says it fits (else PENDING with the reason).
 *
 * <p>Thread model: thread-safe if its {@link IdGenerator} is.
 */
public final class TaskFactory {
  private final IdGenerator ids;

  static final String PIN_PREFIX = "node.id==";

  public TaskFactory(IdGenerator ids) {
    this.ids = ids;
  }

  /**
   * @param slot slot number (replicated) or 0 (global)
   * @param pinnedNode node the task must run on (global services), or "" to let the scheduler pick
   * @param attempt restart attempt within the slot
   */
  public Task newTask(StoreView view, Service service, long slot, String pinnedNode, int attempt, long nowMs) {
    Task.Builder task =
        Task.newBuilder()
            .setMeta(
                Meta.newBuilder().setId(ids.next()).setCreatedAtMs(nowMs).setUpdatedAtMs(nowMs))
            .setServiceId(service.getMeta().getId())
            .setServiceName(service.getSpec().getName())
            .setSlot(slot)
            .setSpec(specFor(service, pinnedNode))
            .setSpecVersion(service.getSpecVersion())
            .setDesiredState(TaskState.RUNNING)
            .setAttempt(attempt)
            .setStatus(
                TaskStatus.newBuilder()
                    .setState(TaskState.NEW)
                    .setTimestampMs(nowMs)
                    .setMessage("created"));
    for (NetworkAttachmentConfig config : service.getSpec().getTask().getNetworksList()) {
      resolve(view, config.getTarget())
          .ifPresent(
              network ->
                  task.addNetworks(
                      NetworkAttachment.newBuilder()
                          .setNetworkId(network.getMeta().getId())
                          .addAllAliases(config.getAliasesList())));
    }
    return task.build();
  }

  /** The spec a task of this service (pinned to a node, or not) is created with. */
  public static TaskSpec specFor(Service service, String pinnedNode) {
    TaskSpec spec = service.getSpec().getTask();
    if (pinnedNode.isEmpty()) {
      return spec;
    }
    TaskSpec.Builder pinned = spec.toBuilder();
    pinned.getPlacementBuilder().addConstraints(PIN_PREFIX + pinnedNode);
    return pinned.build();
  }

  private static Optional<Network> resolve(StoreView view, String target) {
    Optional<Network> byId = view.network(target);
    return byId.isPresent() ? byId : view.networkByName(target);
  }
}
