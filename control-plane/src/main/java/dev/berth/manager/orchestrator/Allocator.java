package dev.berth.manager.orchestrator;

import dev.berth.api.v1.Node;
import dev.berth.api.v1.PortBinding;
import dev.berth.api.v1.PortConfig;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.Plan;
import dev.berth.manager.store.StoreView;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The allocation step: live tasks still NEW or PENDING go through the {@link Placer}; placed
 * ones become plan assignments, the others PENDING with the placer's reason (only when state or
 * reason changed, so an unplaceable task does not produce a log entry every round). Placement
 * is retried whenever the loop runs, so it follows nodes joining or freeing capacity.
 *
 * <p>Thread model and error contract: see {@link Reconciler}; the placer is called only from
 * the reconcile thread.
 */
public final class Allocator implements Reconciler {
  private static final Comparator<Task> ORDER =
      Comparator.comparing((Task t) -> t.getServiceId())
          .thenComparingLong(Task::getSlot)
          .thenComparing(t -> t.getMeta().getId());

  private final Placer placer;
  private final int maxTasksPerRound;

  public Allocator(Placer placer, int maxTasksPerRound) {
    this.placer = placer;
    this.maxTasksPerRound = maxTasksPerRound;
  }

  @Override
  public String name() {
    return "allocator";
  }

  @Override
  public List<Command> reconcile(StoreView view, long nowMs) {
    List<Task> toPlace = new ArrayList<>();
    List<Task> placed = new ArrayList<>();
    for (Task task : view.tasks()) {
      if (TaskStates.holdsResources(task)) {
        placed.add(task);
      } else if (TaskStates.isLive(task) && TaskStates.isUnassigned(task)) {
        toPlace.add(task);
      }
    }
    if (toPlace.isEmpty()) {
      return List.of();
    }
    toPlace.sort(ORDER);
    if (toPlace.size() > maxTasksPerRound) {
      toPlace = new ArrayList<>(toPlace.subList(0, maxTasksPerRound));
    }
    toPlace.replaceAll(task -> withRequestedPorts(view, task));
    List<Node> nodes = new ArrayList<>(view.nodes());
    nodes.sort(Comparator.comparing(n -> n.getMeta().getId()));
    List<Placer.Decision> decisions = placer.place(nodes, placed, toPlace);
    Plan.Builder plan = Plans.start(view.index());
    for (int i = 0; i < decisions.size(); i++) {
      Placer.Decision decision = decisions.get(i);
      Task task = toPlace.get(i);
      if (decision.isPlaced()) {
        plan.addAssignments(Plan.Assignment.newBuilder()
            .setTaskId(task.getMeta().getId())
            .setNodeId(decision.nodeId())
            .addAllHostPorts(decision.hostPorts()));
      } else if (task.getStatus().getState() != TaskState.PENDING
          || !task.getStatus().getMessage().equals(decision.reason())) {
        plan.addPending(Plan.Pending.newBuilder()
            .setTaskId(task.getMeta().getId())
            .setReason(decision.reason()));
      }
    }
    return Plans.toCommands(plan);
  }

  /** Host-mode published ports of the task's service, which the placer must find free. */
  private static Task withRequestedPorts(StoreView view, Task task) {
    List<PortBinding> ports = new ArrayList<>();
    view.service(task.getServiceId()).ifPresent(service -> {
      for (PortConfig port : service.getSpec().getEndpoint().getPortsList()) {
        if (port.getPublishMode() == PortConfig.PublishMode.HOST && port.getPublishedPort() != 0) {
          ports.add(PortBinding.newBuilder().setProtocol(port.getProtocol())
              .setPort(port.getPublishedPort()).build());
        }
      }
    });
    return ports.isEmpty() ? task : task.toBuilder().clearHostPorts().addAllHostPorts(ports).build();
  }
}
