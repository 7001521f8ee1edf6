package dev.berth.manager.store;

import dev.berth.api.v1.Network;
import dev.berth.api.v1.PortConfig;
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

  static void checkVersion(String what, long ifVersion, long actual) {
    if (ifVersion != 0 && ifVersion != actual) {
      throw ApplyException.precondition("if_version: " + what + " is at version " + actual
          + ", not " + ifVersion + " (it changed since you read it)");
    }
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
    checkPublishedPorts(ctx, cmd.getId(), spec);
    ctx.putService(Service.newBuilder().setMeta(ctx.newMeta(cmd.getId())).setSpec(spec)
        .setSpecVersion(1).build());
    ctx.createdIds.add(cmd.getId());
  }

  /** Every named network exists and is not ingress (which the mesh attaches by itself). */
  private static void checkNetworks(ApplyContext ctx, ServiceSpec spec) {
    for (int i = 0; i < spec.getTask().getNetworksCount(); i++) {
      String target = spec.getTask().getNetworks(i).getTarget();
      String f = "spec.task.networks[" + i + "].target";
      Network n = ctx.state.network(target).or(() -> ctx.state.networkByName(target))
          .orElseThrow(() -> ApplyException.notFound(f + ": network \"" + target + "\" not found"));
      if (n.getSpec().getIngress()) {
        throw ApplyException.invalid(f + ": \"" + target + "\" is the routing-mesh network; tasks of a "
            + "service that publishes ports (--publish) join it automatically");
      }
    }
  }

  /**
   * A port published through the mesh is taken on every node, so no other service may publish
   * it, in either mode; a host-mode port must not be another service's mesh port.
   */
  private static void checkPublishedPorts(ApplyContext ctx, String selfId, ServiceSpec spec) {
    if (Addresses.publishesIngress(spec) && ctx.state.ipam().ingressNetworkId().isEmpty()) {
      throw ApplyException.precondition("spec.endpoint.ports: the cluster has no ingress network for "
          + "the routing mesh (create one with network create --ingress, or publish with mode=host)");
    }
    for (int i = 0; i < spec.getEndpoint().getPortsCount(); i++) {
      PortConfig p = spec.getEndpoint().getPorts(i);
      if (p.getPublishedPort() == 0) {
        continue;
      }
      for (Service other : ctx.state.services()) {
        if (other.getMeta().getId().equals(selfId)) {
          continue;
        }
        for (PortConfig q : other.getSpec().getEndpoint().getPortsList()) {
          boolean mesh = p.getPublishMode() == PortConfig.PublishMode.INGRESS
              || q.getPublishMode() == PortConfig.PublishMode.INGRESS;
          if (mesh && q.getPublishedPort() == p.getPublishedPort() && q.getProtocol() == p.getProtocol()) {
            throw ApplyException.precondition("spec.endpoint.ports[" + i + "].published_port: "
                + p.getPublishedPort() + "/" + p.getProtocol().name().toLowerCase() + " is already published"
                + " by service \"" + other.getSpec().getName() + "\" ("
                + q.getPublishMode().name().toLowerCase() + " mode)");
          }
        }
      }
    }
  }

  static void update(ApplyContext ctx, UpdateService cmd) {
    Service s = find(ctx, cmd.getId());
    checkVersion("service \"" + s.getSpec().getName() + "\"", cmd.getIfVersion(),
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
    }
    checkNetworks(ctx, next);
    checkPublishedPorts(ctx, s.getMeta().getId(), next);
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
    checkVersion("service \"" + s.getSpec().getName() + "\"", cmd.getIfVersion(),
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
