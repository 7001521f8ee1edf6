package dev.berth.manager.store;

import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeRole;
import dev.berth.api.v1.NodeSpec;
import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.NodeStatus;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import dev.berth.internal.v1.ApplyResult;
import dev.berth.internal.v1.RegisterNode;
import dev.berth.internal.v1.RegisterNodes;
import dev.berth.internal.v1.RemoveNode;
import dev.berth.internal.v1.SetManager;
import dev.berth.internal.v1.SetNodeStatus;
import dev.berth.internal.v1.UpdateNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Apply of node commands. */
final class NodeCommands {
  private NodeCommands() {}

  static Node find(ApplyContext ctx, String id) {
    return ctx.state.node(id)
        .orElseThrow(() -> ApplyException.notFound("node \"" + id + "\" not found"));
  }

  static void register(ApplyContext ctx, RegisterNode cmd) {
    Node n = cmd.getNode();
    String id = n.getMeta().getId();
    ClusterCommands.requireId("node.meta.id", id);
    if (ctx.state.node(id).isPresent()) {
      throw ApplyException.exists("node " + id + " already exists");
    }
    Node.Builder b = n.toBuilder().setMeta(ctx.newMeta(id)).clearUsage().clearIngressAttachment();
    Addresses.forNode(ctx, id).ifPresent(b::setIngressAttachment);
    if (!n.hasStatus()) {
      b.setStatus(NodeStatus.newBuilder().setState(NodeState.NODE_UNKNOWN)
          .setChangedAtMs(ctx.timestampMs));
    }
    if (n.hasManagerStatus()) {
      b.setManagerStatus(n.getManagerStatus().toBuilder().clearLeader().clearReachability());
    }
    ctx.putNode(b.build());
    ctx.createdIds.add(id);
  }

  /**
   * Applies each registration on its own: one whose request id was answered before, or
   * whose node id is taken or invalid, is skipped (and its outcome recorded under its
   * request id) instead of failing the others. {@link #register} throws before it changes
   * anything, so a skipped item leaves nothing to undo.
   */
  static void registerAll(ApplyContext ctx, RegisterNodes cmd) {
    for (RegisterNodes.Item item : cmd.getItemsList()) {
      String requestId = item.getRequestId();
      boolean tracked = SpecValidator.isValidRequestId(requestId);
      if (tracked && (ctx.state.dedupe.get(requestId) != null || ctx.itemResults.containsKey(requestId))) {
        continue;
      }
      String id = item.getRegister().getNode().getMeta().getId();
      ApplyResult.Builder outcome = ApplyResult.newBuilder().setIndex(ctx.index);
      try {
        register(ctx, item.getRegister());
        outcome.setCode("OK").addCreatedIds(id);
      } catch (ApplyException e) {
        outcome.setCode(e.code()).setMessage(e.getMessage());
      }
      if (tracked) {
        ctx.itemResults.put(requestId, outcome.build());
      }
    }
  }

  static void update(ApplyContext ctx, UpdateNode cmd) {
    Node n = find(ctx, cmd.getId());
    ApplyException.checkVersion("node " + cmd.getId(), cmd.getIfVersion(), n.getMeta().getVersion());
    NodeSpec.Builder spec = n.getSpec().toBuilder();
    if (cmd.hasAvailability()) {
      spec.setAvailability(cmd.getAvailability());
    }
    if (cmd.hasDesiredRole()) {
      spec.setDesiredRole(cmd.getDesiredRole());
    }
    for (String key : cmd.getLabelRmList()) {
      spec.removeLabels(key);
    }
    for (var e : new java.util.TreeMap<>(cmd.getLabelAddMap()).entrySet()) {
      if (e.getKey().isEmpty()) {
        throw ApplyException.invalid("label_add: a label key must not be empty");
      }
      spec.putLabels(e.getKey(), e.getValue());
    }
    ctx.putNode(n.toBuilder().setMeta(ctx.touch(n.getMeta())).setSpec(spec).build());
  }

  /**
   * Removes a node. Refused for a node that is up or a manager unless forced; its
   * unfinished tasks become ORPHANED (nobody can report them any more).
   */
  static void remove(ApplyContext ctx, RemoveNode cmd) {
    Node n = find(ctx, cmd.getId());
    if (!cmd.getForce()) {
      if (n.getRole() == NodeRole.MANAGER) {
        throw ApplyException.precondition(
            "node " + cmd.getId() + " is a manager: demote it first, or force");
      }
      if (n.getStatus().getState() == NodeState.NODE_READY) {
        throw ApplyException.precondition(
            "node " + cmd.getId() + " is up: drain and stop it first, or force");
      }
    }
    List<Task> tasks = new ArrayList<>(ctx.state.tasksOfNode(n.getMeta().getId()));
    tasks.sort(Comparator.comparing(t -> t.getMeta().getId()));
    for (Task t : tasks) {
      if (t.getStatus().getStateValue() < TaskState.COMPLETE_VALUE) {
        ctx.putTask(t.toBuilder().setMeta(ctx.touch(t.getMeta()))
            .setStatus(TaskStatus.newBuilder().setState(TaskState.ORPHANED)
                .setTimestampMs(ctx.timestampMs).setMessage("node removed"))
            .build());
      }
    }
    ctx.removeNode(n);
  }

  static void setStatus(ApplyContext ctx, SetNodeStatus cmd) {
    for (int i = 0; i < cmd.getChangesCount(); i++) {
      SetNodeStatus.Change c = cmd.getChanges(i);
      Node n = find(ctx, c.getNodeId());
      NodeStatus status = c.getStatus();
      if (status.getChangedAtMs() == 0) {
        status = status.toBuilder().setChangedAtMs(ctx.timestampMs).build();
      }
      Node.Builder b = n.toBuilder().setMeta(ctx.touch(n.getMeta())).setStatus(status);
      if (c.hasDescription()) {
        b.setDescription(c.getDescription());
      }
      ctx.putNode(b.build());
    }
  }

  static void setManager(ApplyContext ctx, SetManager cmd) {
    Node n = find(ctx, cmd.getNodeId());
    Node.Builder b = n.toBuilder().setMeta(ctx.touch(n.getMeta()));
    if (cmd.getRemove()) {
      b.clearManagerStatus().setRole(NodeRole.WORKER)
          .setSpec(n.getSpec().toBuilder().setDesiredRole(NodeRole.WORKER));
    } else {
      if (cmd.getManagerStatus().getAddr().isEmpty()) {
        throw ApplyException.invalid("manager_status.addr: must not be empty");
      }
      b.setManagerStatus(cmd.getManagerStatus().toBuilder().clearLeader().clearReachability())
          .setRole(NodeRole.MANAGER)
          .setSpec(n.getSpec().toBuilder().setDesiredRole(NodeRole.MANAGER));
    }
    ctx.putNode(b.build());
  }
}
