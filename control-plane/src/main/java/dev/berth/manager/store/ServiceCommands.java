package dev.berth.manager.store;

import dev.berth.api.v1.Service;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.UpdateStatus;
import dev.berth.internal.v1.CreateService;
import dev.berth.internal.v1.RemoveService;
import dev.berth.internal.v1.UpdateService;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Apply of service commands. */
final class ServiceCommands {
  private ServiceCommands() {}

  static Service find(ApplyContext ctx, String idOrName) {
    return ctx.state.service(idOrName)
        .or(() -> ctx.state.serviceByName(idOrName))
        .orElseThrow(() -> ApplyException.notFound("service \"" + idOrName + "\" not found"));
  }

  static void create(ApplyContext ctx, CreateService cmd) {
    ClusterCommands.requireId("id", cmd.getId());
    ServiceSpec spec = cmd.getSpec();
    SpecValidator.validateService(spec);
    if (ctx.state.serviceByName(spec.getName()).isPresent()) {
      throw ApplyException.exists("service \"" + spec.getName() + "\" already exists");
    }
    if (ctx.state.service(cmd.getId()).isPresent()) {
      throw ApplyException.exists("service id " + cmd.getId() + " already exists");
    }
    checkNetworks(ctx, spec);
    ctx.putService(Service.newBuilder().setMeta(ctx.newMeta(cmd.getId())).setSpec(spec)
        .setSpecVersion(1).build());
    ctx.createdIds.add(cmd.getId());
  }

  private static void checkNetworks(ApplyContext ctx, ServiceSpec spec) {
    for (int i = 0; i < spec.getTask().getNetworksCount(); i++) {
      String target = spec.getTask().getNetworks(i).getTarget();
      if (ctx.state.network(target).isEmpty() && ctx.state.networkByName(target).isEmpty()) {
        throw ApplyException.notFound(
            "spec.task.networks[" + i + "].target: network \"" + target + "\" not found");
      }
    }
  }

  static void update(ApplyContext ctx, UpdateService cmd) {
    Service s = find(ctx, cmd.getId());
    ApplyException.checkVersion("service \"" + s.getSpec().getName() + "\"", cmd.getIfVersion(),
        s.getMeta().getVersion());
    ServiceSpec next;
    if (cmd.getRollback()) {
      if (!s.hasPreviousSpec()) {
        throw ApplyException.precondition(
            "service \"" + s.getSpec().getName() + "\" has no previous spec to roll back to");
      }
      next = s.getPreviousSpec();
    } else {
      next = cmd.getSpec();
      SpecValidator.validateService(next);
      if (!next.getName().equals(s.getSpec().getName())) {
        throw ApplyException.invalid("spec.name: a service cannot be renamed (\""
            + s.getSpec().getName() + "\" → \"" + next.getName() + "\")");
      }
      checkNetworks(ctx, next);
    }
    boolean changed = !next.equals(s.getSpec());
    Service.Builder b = s.toBuilder().setMeta(ctx.touch(s.getMeta()));
    if (changed) {
      b.setPreviousSpec(s.getSpec()).setSpec(next);
    }
    if (changed || cmd.getForce()) {
      b.setSpecVersion(s.getSpecVersion() + 1)
          .setUpdateStatus(UpdateStatus.newBuilder().setState(UpdateStatus.State.UPDATING)
              .setMessage(cmd.getRollback() ? "rollback started" : "update started")
              .setStartedAtMs(ctx.timestampMs));
    } else if (cmd.getRebalance()) {
      b.setUpdateStatus(UpdateStatus.newBuilder().setState(UpdateStatus.State.REBALANCING)
          .setMessage("rebalance requested").setStartedAtMs(ctx.timestampMs));
    }
    ctx.putService(b.build());
  }

  /**
   * Removes the service. Its tasks not yet on a node are deleted; the others get desired
   * state REMOVE so agents stop them, and the reconciler deletes them once finished.
   */
  static void remove(ApplyContext ctx, RemoveService cmd) {
    Service s = find(ctx, cmd.getId());
    ApplyException.checkVersion("service \"" + s.getSpec().getName() + "\"", cmd.getIfVersion(),
        s.getMeta().getVersion());
    List<Task> tasks = new ArrayList<>(ctx.state.tasksOfService(s.getMeta().getId()));
    tasks.sort(Comparator.comparing(t -> t.getMeta().getId()));
    for (Task t : tasks) {
      if (t.getNodeId().isEmpty()) {
        ctx.removeTask(t);
      } else if (t.getDesiredStateValue() < TaskState.REMOVE_VALUE) {
        ctx.putTask(t.toBuilder().setMeta(ctx.touch(t.getMeta()))
            .setDesiredState(TaskState.REMOVE).build());
      }
    }
    ctx.removeService(s);
  }
}
