package dev.berth.manager.store;

import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeAvailability;
import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.PortBinding;
import dev.berth.api.v1.Resources;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import dev.berth.internal.v1.Plan;
import dev.berth.internal.v1.ReportTaskStatus;
import dev.berth.internal.v1.TaskStatusChange;
import java.util.HashSet;
import java.util.Set;

/**
 * Apply of task commands: reconciler/scheduler plans (re-validated against the current
 * store, as Nomad's plan applier does, so a plan computed on a stale snapshot can never
 * over-commit a node) and agents' batched status reports.
 *
 * <p>Task states move only forward; terminal states (COMPLETE and later) are final.
 * Re-reporting the current state is a no-op, so repeated agent messages are harmless.
 */
final class PlanCommands {
  private PlanCommands() {}

  static boolean terminal(TaskState s) {
    return s.getNumber() >= TaskState.COMPLETE_VALUE;
  }

  private static Task findTask(ApplyContext ctx, String list, int i, String id) {
    Task t = ctx.state.taskOrNull(id);
    if (t == null) {
      throw ApplyException.notFound(field(list, i) + ": task " + id + " not found");
    }
    return t;
  }

  /**
   * {@code list[i]} (or {@code list} for i &lt; 0): an error message's field name, built only when
   * there is an error, since agents' reports apply ~10,000 changes/s and each name is garbage.
   */
  private static String field(String list, int i) {
    return i < 0 ? list : list + "[" + i + "]";
  }

  static void plan(ApplyContext ctx, Plan p) {
    for (int i = 0; i < p.getCreateTasksCount(); i++) {
      createTask(ctx, "plan.create_tasks[" + i + "]", p.getCreateTasks(i));
    }
    for (int i = 0; i < p.getAssignmentsCount(); i++) {
      assign(ctx, "plan.assignments[" + i + "]", p.getAssignments(i));
    }
    for (int i = 0; i < p.getPendingCount(); i++) {
      Plan.Pending pd = p.getPending(i);
      String f = "plan.pending[" + i + "]";
      Task t = findTask(ctx, f, -1, pd.getTaskId());
      if (t.getStatus().getStateValue() > TaskState.PENDING_VALUE) {
        throw ApplyException.precondition(f + ": task " + pd.getTaskId() + " is already "
            + t.getStatus().getState() + ", cannot become PENDING");
      }
      ctx.putTask(t.toBuilder().setMeta(ctx.touch(t.getMeta()))
          .setStatus(TaskStatus.newBuilder().setState(TaskState.PENDING)
              .setTimestampMs(ctx.timestampMs).setMessage(pd.getReason()))
          .build());
    }
    for (int i = 0; i < p.getDesiredCount(); i++) {
      Plan.Desired d = p.getDesired(i);
      String f = "plan.desired[" + i + "]";
      Task t = findTask(ctx, f, -1, d.getTaskId());
      if (d.getDesiredStateValue() < t.getDesiredStateValue()) {
        throw ApplyException.precondition(f + ": desired state of task " + d.getTaskId()
            + " cannot move back from " + t.getDesiredState() + " to " + d.getDesiredState());
      }
      if (d.getDesiredState() != t.getDesiredState()) {
        ctx.putTask(t.toBuilder().setMeta(ctx.touch(t.getMeta()))
            .setDesiredState(d.getDesiredState()).build());
      }
    }
    for (int i = 0; i < p.getDeleteTasksCount(); i++) {
      String id = p.getDeleteTasks(i);
      Task t = ctx.state.task(id).orElse(null);
      if (t == null) {
        continue; // deleting twice (two plans from one snapshot) is harmless
      }
      if (!terminal(t.getStatus().getState()) && !t.getNodeId().isEmpty()) {
        throw ApplyException.precondition("plan.delete_tasks[" + i + "]: task " + id
            + " is still " + t.getStatus().getState() + " on node " + t.getNodeId());
      }
      ctx.removeTask(t);
    }
    for (int i = 0; i < p.getStatusChangesCount(); i++) {
      managerStatus(ctx, "plan.status_changes[" + i + "]", p.getStatusChanges(i));
    }
    for (int i = 0; i < p.getServiceStatusCount(); i++) {
      Plan.ServiceUpdateStatus su = p.getServiceStatus(i);
      Service s = ctx.state.service(su.getServiceId()).orElse(null);
      if (s == null) {
        throw ApplyException.notFound(
            "plan.service_status[" + i + "]: service " + su.getServiceId() + " not found");
      }
      ctx.putService(s.toBuilder().setMeta(ctx.touch(s.getMeta()))
          .setUpdateStatus(su.getStatus()).build());
    }
  }

  private static void createTask(ApplyContext ctx, String f, Task t) {
    String id = t.getMeta().getId();
    ClusterCommands.requireId(f + ".meta.id", id);
    if (ctx.state.task(id).isPresent()) {
      throw ApplyException.exists(f + ": task " + id + " already exists");
    }
    Service s = ctx.state.service(t.getServiceId()).orElseThrow(() -> ApplyException.notFound(
        f + ".service_id: service " + t.getServiceId() + " not found"));
    if (t.getStatus().getStateValue() > TaskState.PENDING_VALUE) {
      throw ApplyException.invalid(f + ".status.state: a new task starts NEW or PENDING (got "
          + t.getStatus().getState() + ")");
    }
    if (!t.getNodeId().isEmpty()) {
      throw ApplyException.invalid(f + ".node_id: must be empty (assign through plan.assignments)");
    }
    TaskStatus status = t.getStatus().getTimestampMs() == 0
        ? t.getStatus().toBuilder().setTimestampMs(ctx.timestampMs).build()
        : t.getStatus();
    Task.Builder b = t.toBuilder().setMeta(ctx.newMeta(id)).setStatus(status)
        .setServiceName(s.getSpec().getName()).clearUsage();
    b.clearNetworks().addAllNetworks(Addresses.forTask(ctx, f, t, s.getSpec()));
    ctx.putTask(b.build());
    ctx.createdIds.add(id);
  }

  /** Re-validates one placement against the node as it is now. */
  private static void assign(ApplyContext ctx, String f, Plan.Assignment a) {
    Task t = findTask(ctx, f, -1, a.getTaskId());
    if (t.getStatus().getStateValue() > TaskState.PENDING_VALUE) {
      throw ApplyException.precondition(f + ": task " + a.getTaskId() + " is already "
          + t.getStatus().getState() + (t.getNodeId().isEmpty() ? "" : " on node " + t.getNodeId()));
    }
    if (t.getDesiredStateValue() > TaskState.RUNNING_VALUE) {
      throw ApplyException.precondition(f + ": task " + a.getTaskId()
          + " is no longer desired running (desired " + t.getDesiredState() + ")");
    }
    Node n = ctx.state.node(a.getNodeId()).orElseThrow(() -> ApplyException.notFound(
        f + ".node_id: node " + a.getNodeId() + " not found"));
    if (n.getSpec().getAvailability() != NodeAvailability.ACTIVE) {
      throw ApplyException.precondition(f + ": node " + a.getNodeId() + " is "
          + n.getSpec().getAvailability() + " and takes no new tasks");
    }
    NodeState ns = n.getStatus().getState();
    if (ns == NodeState.NODE_DOWN || ns == NodeState.NODE_DISCONNECTED) {
      throw ApplyException.precondition(f + ": node " + a.getNodeId() + " is " + ns);
    }
    Resources want = t.getSpec().getResources().getReservations();
    // The node's unended tasks as they are now, this plan's earlier assignments included.
    NodeReservations held = ctx.state.reservations;
    long cpu = held.cpu(a.getNodeId());
    long mem = held.memory(a.getNodeId());
    Resources cap = n.getDescription().getResources();
    if (want.getNanoCpus() > 0 && cpu + want.getNanoCpus() > cap.getNanoCpus()) {
      throw ApplyException.precondition(f + ": node " + a.getNodeId() + " has "
          + (cap.getNanoCpus() - cpu) + " nano-CPUs unreserved, task " + a.getTaskId()
          + " reserves " + want.getNanoCpus());
    }
    if (want.getMemoryBytes() > 0 && mem + want.getMemoryBytes() > cap.getMemoryBytes()) {
      throw ApplyException.precondition(f + ": node " + a.getNodeId() + " has "
          + (cap.getMemoryBytes() - mem) + " bytes of memory unreserved, task " + a.getTaskId()
          + " reserves " + want.getMemoryBytes());
    }
    Set<String> ports = new HashSet<>();
    for (PortBinding pb : a.getHostPortsList()) {
      if (pb.getPort() < 1 || pb.getPort() > 65535) {
        throw ApplyException.invalid(f + ".host_ports: port " + pb.getPort() + " out of range");
      }
      String key = NodeReservations.portKey(pb);
      if (held.portTaken(a.getNodeId(), key) || !ports.add(key)) {
        throw ApplyException.precondition(f + ": host port " + pb.getPort() + "/"
            + pb.getProtocol().name().toLowerCase() + " is already taken on node " + a.getNodeId());
      }
    }
    ctx.putTask(t.toBuilder().setMeta(ctx.touch(t.getMeta())).setNodeId(a.getNodeId())
        .clearHostPorts().addAllHostPorts(a.getHostPortsList())
        .setStatus(TaskStatus.newBuilder().setState(TaskState.ASSIGNED)
            .setTimestampMs(ctx.timestampMs).setMessage("assigned to node " + a.getNodeId()))
        .build());
  }

  /** Manager-owned transitions: up to PENDING, ORPHANED, or SHUTDOWN of an unplaced task. */
  private static void managerStatus(ApplyContext ctx, String f, TaskStatusChange c) {
    Task t = findTask(ctx, f, -1, c.getTaskId());
    TaskState to = c.getStatus().getState();
    boolean allowed = to.getNumber() <= TaskState.PENDING_VALUE || to == TaskState.ORPHANED
        || (to == TaskState.SHUTDOWN && t.getNodeId().isEmpty());
    if (!allowed) {
      throw ApplyException.invalid(f + ".status.state: " + to
          + " is not a manager-owned state (the assigned agent reports it)");
    }
    transition(ctx, f, -1, t, c.getStatus());
  }

  static void report(ApplyContext ctx, ReportTaskStatus r) {
    NodeCommands.find(ctx, r.getNodeId());
    for (int i = 0; i < r.getChangesCount(); i++) {
      TaskStatusChange c = r.getChanges(i);
      Task t = findTask(ctx, "changes", i, c.getTaskId());
      if (!t.getNodeId().equals(r.getNodeId())) {
        throw ApplyException.denied(field("changes", i) + ": task " + c.getTaskId() + " is assigned to "
            + (t.getNodeId().isEmpty() ? "no node" : "node " + t.getNodeId())
            + ", not to the reporting node " + r.getNodeId());
      }
      TaskState to = c.getStatus().getState();
      if (to.getNumber() < TaskState.ACCEPTED_VALUE || to == TaskState.ORPHANED
          || to == TaskState.REMOVE) {
        throw ApplyException.invalid(field("changes", i) + ".status.state: " + to
            + " is manager-owned; agents report ACCEPTED through REJECTED");
      }
      transition(ctx, "changes", i, t, c.getStatus());
    }
  }

  /** {@code list} and {@code i} name the change in error messages ({@link #field}). */
  private static void transition(ApplyContext ctx, String list, int i, Task t, TaskStatus next) {
    TaskState from = t.getStatus().getState();
    TaskState to = next.getState();
    if (to == from) {
      if (TaskReports.healthChanged(t.getStatus(), next)) {
        // Same RUNNING state, new container health: not a move backwards, so it is recorded.
        ctx.putTaskProgress(t.toBuilder().setMeta(ctx.touch(t.getMeta())).setStatus(
            t.getStatus().toBuilder().setContainer(next.getContainer())).build());
      }
      return;
    }
    if (terminal(from)) {
      throw ApplyException.precondition(field(list, i) + ": task " + t.getMeta().getId() + " already ended "
          + from + " and cannot become " + to);
    }
    if (to.getNumber() < from.getNumber()) {
      throw ApplyException.precondition(field(list, i) + ": task " + t.getMeta().getId()
          + " cannot move back from " + from + " to " + to);
    }
    TaskStatus status = next.getTimestampMs() == 0
        ? next.toBuilder().setTimestampMs(ctx.timestampMs).build() : next;
    Task moved = t.toBuilder().setMeta(ctx.touch(t.getMeta())).setStatus(status).build();
    if (to.getNumber() >= TaskState.ACCEPTED_VALUE && !terminal(to)) {
      ctx.putTaskProgress(moved); // an agent's report of a task on its way to RUNNING
    } else {
      ctx.putTask(moved);
    }
  }
}
