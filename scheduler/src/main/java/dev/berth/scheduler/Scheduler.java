package dev.berth.scheduler;

import dev.berth.api.v1.Service;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskSpec;
import dev.berth.scheduler.score.Candidate;
import dev.berth.scheduler.score.PreferenceTree;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Places tasks onto nodes: a pure, deterministic function of the {@link ClusterView}, the batch and the seed
 * (no clock, no I/O, no threads). The control plane's reconciler plans against its view with it and commits
 * the assignments through the Raft log, where they are re-validated.
 *
 * <p>{@link #schedule} groups a batch by (service, task spec) and places each group from a ranked heap of
 * candidate nodes after running the filters once per node (see {@link Pipeline} for the steps).
 * {@link #planGlobal} serves the global-service reconciler and {@link #rebalance} the opt-in
 * {@code service update --rebalance}.
 *
 * <p>Thread model: a Scheduler holds only its seed and may be shared, but each call mutates (schedule) or reads
 * a view that must not be used concurrently. Error contract: {@link IllegalArgumentException} for malformed
 * input (a task without id, a task id twice in a batch, an unknown service to plan), thrown before the view is
 * changed; tasks that merely cannot be placed are reported in the result, never thrown.
 */
public final class Scheduler {

  private final long seed;

  /** @param seed decides ties between equally good nodes; the same seed and input give the same output */
  public Scheduler(long seed) {
    this.seed = seed;
  }

  private record GroupKey(String serviceId, TaskSpec spec) {}

  /**
   * Places a batch of unassigned tasks of replicated services. Each task carries its {@code service_id} and its
   * own {@link TaskSpec} (constraints, preferences, max replicas per node and reservations come from it); the
   * service, which must be in the view, gives the strategy and host-mode published ports. {@code node_id} of the
   * given tasks is ignored. Every placement is recorded into {@code view}. Groups are placed in the order of
   * their first task in the batch, tasks of a group in batch order.
   *
   * <p>Tasks whose service is unknown or global, or whose spec has an invalid constraint or preference, are
   * reported unschedulable with that reason.
   *
   * @throws IllegalArgumentException if a task has no id or an id appears twice; the view is then untouched
   */
  public SchedulingResult schedule(ClusterView view, List<Task> tasks) {
    Set<String> seen = new HashSet<>(tasks.size() * 2);
    for (int i = 0; i < tasks.size(); i++) {
      String id = tasks.get(i).getMeta().getId();
      if (id.isEmpty()) {
        throw new IllegalArgumentException("task at position " + i + " of the batch has no meta.id");
      }
      if (!seen.add(id)) {
        throw new IllegalArgumentException("task " + id + " appears twice in the batch");
      }
    }
    Map<String, String> unschedulable = new LinkedHashMap<>();
    Map<GroupKey, List<Task>> groups = new LinkedHashMap<>();
    for (Task t : tasks) {
      Service service = view.service(t.getServiceId());
      if (service == null) {
        unschedulable.put(t.getMeta().getId(), "unknown service " + t.getServiceId());
      } else if (service.getSpec().getModeCase() == ServiceSpec.ModeCase.GLOBAL) {
        unschedulable.put(t.getMeta().getId(),
            "service " + service.getSpec().getName() + " is global: its tasks are placed by planGlobal");
      } else {
        groups.computeIfAbsent(new GroupKey(t.getServiceId(), t.getSpec()), k -> new ArrayList<>()).add(t);
      }
    }
    List<Assignment> assignments = new ArrayList<>(tasks.size());
    Batch batch = new Batch(view, seed);
    for (Map.Entry<GroupKey, List<Task>> g : groups.entrySet()) {
      Service service = view.service(g.getKey().serviceId());
      placeGroup(view, new GroupSpec(service, g.getKey().spec()), g.getValue(), batch, assignments,
          unschedulable);
    }
    return new SchedulingResult(assignments, unschedulable);
  }

  private void placeGroup(ClusterView view, GroupSpec group, List<Task> tasks, Batch batch,
      List<Assignment> assignments, Map<String, String> unschedulable) {
    if (group.invalid != null) {
      for (Task t : tasks) {
        unschedulable.put(t.getMeta().getId(), group.invalid);
      }
      return;
    }
    Pipeline pipeline = Pipeline.of(group);
    List<NodeInfo> nodes = batch.eligible(pipeline);
    PreferenceTree tree = pipeline.rank(pipeline.candidates(view, nodes, batch), seed);
    String noNode = null;
    for (Task t : tasks) {
      String taskId = t.getMeta().getId();
      Candidate c = tree.poll();
      if (c == null) {
        if (noNode == null) {
          // Recounted now rather than reusing the first pass: nodes that filled up during this group count too.
          noNode = pipeline.explainNoNode(view);
        }
        unschedulable.put(taskId, noNode);
        continue;
      }
      c.placedOne();
      view.place(taskId, group.serviceId, c.node(), group.cpu, group.memory, group.portKeys);
      tree.placed(c);
      assignments.add(new Assignment(taskId, c.node().id(), group.hostPorts));
    }
  }

  /**
   * Which nodes a global service belongs on, for the control plane's global reconciler. Does not change the
   * view: the reconciler creates a task (node_id set) for each {@link GlobalPlacement#nodesToPlace()} entry and
   * upserts it into the view, and shuts down tasks on nodes in {@link GlobalPlacement#ineligible()}.
   *
   * @throws IllegalArgumentException if the service is not in the view or is not global
   */
  public GlobalPlacement planGlobal(ClusterView view, String serviceId) {
    Service service = view.service(serviceId);
    if (service == null) {
      throw new IllegalArgumentException("unknown service " + serviceId);
    }
    if (service.getSpec().getModeCase() != ServiceSpec.ModeCase.GLOBAL) {
      throw new IllegalArgumentException("service " + service.getSpec().getName() + " is not global");
    }
    return GlobalPlacement.plan(view, new GroupSpec(service, service.getSpec().getTask()));
  }

  /**
   * Which tasks {@code service update --rebalance} should move; see {@link Rebalancer} for the contract.
   *
   * @throws IllegalArgumentException if the service is not in the view or is global
   */
  public RebalancePlan rebalance(ClusterView view, String serviceId) {
    Service service = view.service(serviceId);
    if (service == null) {
      throw new IllegalArgumentException("unknown service " + serviceId);
    }
    if (service.getSpec().getModeCase() == ServiceSpec.ModeCase.GLOBAL) {
      throw new IllegalArgumentException(
          "service " + service.getSpec().getName() + " is global: there is nothing to rebalance");
    }
    return new Rebalancer(view, new GroupSpec(service, service.getSpec().getTask()), seed).plan();
  }
}
