package dev.berth.manager.orchestrator;

import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeAvailability;
import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.Plan;
import dev.berth.internal.v1.TaskStatusChange;
import dev.berth.manager.store.StoreView;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Moves tasks away from nodes that cannot run them. A node that has stayed DOWN for
 * {@code orphanAfterMs} (or was removed) loses its unfinished tasks: they become ORPHANED and
 * desired SHUTDOWN, which lets the replicated reconciler refill their slots elsewhere (global
 * services get a task again when the node comes back). A DRAINed node's live tasks are set to
 * desired SHUTDOWN (the agent stops them; their slots are refilled on other nodes).
 *
 * <p>Thread model and error contract: see {@link Reconciler}.
 */
public final class NodeLivenessReconciler implements Reconciler {
  private final long orphanAfterMs;
  private final int maxChangesPerRound;

  public NodeLivenessReconciler(long orphanAfterMs, int maxChangesPerRound) {
    this.orphanAfterMs = orphanAfterMs;
    this.maxChangesPerRound = maxChangesPerRound;
  }

  @Override
  public String name() {
    return "node-liveness";
  }

  /** When the earliest DOWN node with tasks reaches its orphan grace (reconcile thread only). */
  private long wakeAtMs = Long.MAX_VALUE;

  @Override
  public long wakeAtMs() {
    return wakeAtMs;
  }

  @Override
  public List<Command> reconcile(StoreView view, long nowMs) {
    Plan.Builder plan = Plans.start(view.index());
    // Only tasks of nodes that are gone, down long enough or draining can need a change: read
    // those through the node index instead of scanning (and sorting) every task each round.
    List<Task> tasks = new ArrayList<>();
    wakeAtMs = Long.MAX_VALUE;
    for (String nodeId : view.nodeIdsWithTasks()) {
      Optional<Node> node = view.node(nodeId);
      if (node.isPresent() && node.get().getStatus().getState() == NodeState.NODE_DOWN
          && !downLongEnough(node.get(), nowMs)) {
        wakeAtMs = Math.min(wakeAtMs, node.get().getStatus().getChangedAtMs() + orphanAfterMs);
      }
      if (node.isPresent() && !downLongEnough(node.get(), nowMs)
          && node.get().getSpec().getAvailability() != NodeAvailability.DRAIN) {
        continue;
      }
      for (Task task : view.tasksOfNode(nodeId)) {
        if (!TaskStates.isTerminal(task)) {
          tasks.add(task);
        }
      }
    }
    tasks.sort(Comparator.comparing(t -> t.getMeta().getId()));
    for (Task task : tasks) {
      if (Plans.full(plan, maxChangesPerRound)) {
        break;
      }
      Optional<Node> node = view.node(task.getNodeId());
      if (node.isEmpty() || downLongEnough(node.get(), nowMs)) {
        String why =
            node.isEmpty()
                ? "node " + task.getNodeId() + " was removed"
                : "node " + task.getNodeId() + " down since " + node.get().getStatus().getChangedAtMs();
        plan.addStatusChanges(
            TaskStatusChange.newBuilder()
                .setTaskId(task.getMeta().getId())
                .setStatus(
                    TaskStatus.newBuilder()
                        .setState(TaskState.ORPHANED)
                        .setTimestampMs(nowMs)
                        .setMessage(why)));
        if (TaskStates.isLive(task)) {
          plan.addDesired(Plans.desired(task.getMeta().getId(), TaskState.SHUTDOWN));
        }
      } else if (node.get().getSpec().getAvailability() == NodeAvailability.DRAIN
          && TaskStates.isLive(task)) {
        plan.addDesired(Plans.desired(task.getMeta().getId(), TaskState.SHUTDOWN));
      }
    }
    return Plans.toCommands(plan);
  }

  private boolean downLongEnough(Node node, long nowMs) {
    return node.getStatus().getState() == NodeState.NODE_DOWN
        && nowMs - node.getStatus().getChangedAtMs() >= orphanAfterMs;
  }
}
