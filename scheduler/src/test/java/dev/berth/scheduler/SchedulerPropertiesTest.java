package dev.berth.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import dev.berth.api.v1.Node;
import dev.berth.api.v1.PortBinding;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Properties over random clusters and specs (QuickTheories; a failure prints the seed to replay it). */
class SchedulerPropertiesTest {

  private static final int EXAMPLES = 150;

  private static boolean eligible(Node n, TaskSpec spec) {
    return n.getStatus().getState() == dev.berth.api.v1.NodeState.NODE_READY
        && n.getSpec().getAvailability() == dev.berth.api.v1.NodeAvailability.ACTIVE
        && Constraint.parseAll(spec.getPlacement().getConstraintsList()).stream().allMatch(c -> c.matches(n));
  }

  @Test
  void neverOvercommitsAndEveryPlacementSatisfiesItsFilters() {
    qt().withExamples(EXAMPLES)
        .forAll(integers().between(1, 30), integers().between(1, 6), integers().between(0, 120), longs().all())
        .checkAssert((nodeCount, serviceCount, taskCount, seed) -> {
          RandomCluster c = new RandomCluster(seed, nodeCount, serviceCount, false, false);
          ClusterView view = c.view(taskCount / 2);
          List<Task> batch = c.batch(taskCount);
          SchedulingResult r = new Scheduler(seed).schedule(view, batch);

          assertThat(r.assignments().size() + r.unschedulable().size()).isEqualTo(batch.size());
          Map<String, Task> byId = batch.stream().collect(Collectors.toMap(t -> t.getMeta().getId(), t -> t));
          Map<String, Node> nodes = c.nodes.stream().collect(Collectors.toMap(n -> n.getMeta().getId(), n -> n));
          // Recompute every node's load from scratch (not from the view's counters).
          Map<String, long[]> load = new HashMap<>();
          Map<String, Set<PortBinding>> ports = new HashMap<>();
          Map<String, Integer> perServiceNode = new HashMap<>();
          List<Task> all = new ArrayList<>(c.running);
          for (Assignment a : r.assignments()) {
            Task t = byId.get(a.taskId());
            all.add(t.toBuilder().setNodeId(a.nodeId()).addAllHostPorts(a.hostPorts()).build());
            Node n = nodes.get(a.nodeId());
            assertThat(eligible(n, t.getSpec())).as("placement of %s on %s", a.taskId(), a.nodeId()).isTrue();
          }
          for (Task t : all) {
            long[] l = load.computeIfAbsent(t.getNodeId(), k -> new long[2]);
            l[0] += t.getSpec().getResources().getReservations().getNanoCpus();
            l[1] += t.getSpec().getResources().getReservations().getMemoryBytes();
            for (PortBinding p : t.getHostPortsList()) {
              assertThat(ports.computeIfAbsent(t.getNodeId(), k -> new HashSet<>()).add(p))
                  .as("host port %s bound twice on %s", p, t.getNodeId()).isTrue();
            }
            perServiceNode.merge(t.getServiceId() + "@" + t.getNodeId(), 1, Integer::sum);
          }
          load.forEach((nodeId, l) -> {
            var cap = nodes.get(nodeId).getDescription().getResources();
            assertThat(l[0]).as("cpu on %s", nodeId).isLessThanOrEqualTo(cap.getNanoCpus());
            assertThat(l[1]).as("memory on %s", nodeId).isLessThanOrEqualTo(cap.getMemoryBytes());
          });
          for (Assignment a : r.assignments()) {
            Task t = byId.get(a.taskId());
            int max = t.getSpec().getPlacement().getMaxReplicasPerNode();
            if (max > 0) {
              assertThat(perServiceNode.get(t.getServiceId() + "@" + a.nodeId())).isLessThanOrEqualTo(max);
            }
          }
          // Unschedulable only when no node could take it, and always with a counted explanation.
          r.unschedulable().values().forEach(why -> assertThat(why).startsWith("no suitable node ("));
        });
  }

  @Test
  void freshServiceWithoutPreferencesIsSpreadWithinOne() {
    qt().withExamples(EXAMPLES)
        .forAll(integers().between(1, 40), integers().between(1, 200), integers().between(0, 60), longs().all())
        .checkAssert((nodeCount, replicas, others, seed) -> {
          RandomCluster c = new RandomCluster(seed, nodeCount, 3, false, true);
          ClusterView view = c.view(others);
          Service fresh = c.randomService("fresh", true);
          view.upsertService(fresh);
          List<Task> batch = new ArrayList<>();
          for (int i = 0; i < replicas; i++) {
            batch.add(Fixtures.task("f" + i, fresh));
          }
          SchedulingResult r = new Scheduler(seed).schedule(view, batch);

          List<Node> eligible = c.nodes.stream().filter(n -> eligible(n, fresh.getSpec().getTask())).toList();
          if (eligible.isEmpty()) {
            assertThat(r.assignments()).isEmpty();
            return;
          }
          assertThat(r.unschedulable()).isEmpty();
          Map<String, Long> counts = new HashMap<>();
          eligible.forEach(n -> counts.put(n.getMeta().getId(), 0L));
          r.assignments().forEach(a -> counts.merge(a.nodeId(), 1L, Long::sum));
          assertThat(counts).hasSameSizeAs(eligible);
          assertThat(Collections.max(counts.values()) - Collections.min(counts.values())).isLessThanOrEqualTo(1);
        });
  }

  @Test
  void placementPreferencesHoldLevelByLevel() {
    qt().withExamples(EXAMPLES)
        .forAll(integers().between(1, 40), integers().between(1, 200), integers().between(1, 2), longs().all())
        .checkAssert((nodeCount, replicas, levels, seed) -> {
          RandomCluster c = new RandomCluster(seed, nodeCount, 0, false, true);
          ClusterView view = c.view(0);
          List<String> prefs = c.randomPrefs(levels);
          Service base = c.randomService("fresh", true);
          TaskSpec spec = base.getSpec().getTask().toBuilder()
              .setPlacement(base.getSpec().getTask().getPlacement().toBuilder().clearPreferences()
                  .addAllPreferences(prefs.stream().map(p -> dev.berth.api.v1.PlacementPreference.newBuilder()
                      .setSpreadDescriptor(p).build()).toList()))
              .build();
          Service fresh = base.toBuilder().setSpec(base.getSpec().toBuilder().setTask(spec)).build();
          view.upsertService(fresh);
          List<Task> batch = new ArrayList<>();
          for (int i = 0; i < replicas; i++) {
            batch.add(Fixtures.task("f" + i, fresh));
          }
          SchedulingResult r = new Scheduler(seed).schedule(view, batch);

          List<Node> eligible = c.nodes.stream().filter(n -> eligible(n, spec)).toList();
          assertThat(r.assignments()).hasSize(eligible.isEmpty() ? 0 : replicas);
          Map<String, Long> perNode = new HashMap<>();
          eligible.forEach(n -> perNode.put(n.getMeta().getId(), 0L));
          r.assignments().forEach(a -> perNode.merge(a.nodeId(), 1L, Long::sum));
          // Path of label values of each node, e.g. ["a", "r2"]; "" for a missing label.
          Map<String, List<String>> path = new HashMap<>();
          for (Node n : eligible) {
            List<String> p = new ArrayList<>();
            for (String d : prefs) {
              String v = NodeAttribute.parse(d).valueOf(n);
              p.add(v == null ? "" : v);
            }
            path.put(n.getMeta().getId(), p);
          }
          for (int level = 0; level <= prefs.size(); level++) {
            // Siblings share the first `level` values; at the last level the siblings are nodes.
            final int depth = level;
            Function<String, List<String>> parentOf = id -> path.get(id).subList(0, depth);
            Function<String, Object> childOf = depth < prefs.size()
                ? id -> path.get(id).subList(0, depth + 1) : id -> id;
            Map<List<String>, Map<Object, Long>> siblings = new HashMap<>();
            perNode.forEach((id, n) -> siblings.computeIfAbsent(parentOf.apply(id), k -> new TreeMap<>(
                (x, y) -> x.toString().compareTo(y.toString()))).merge(childOf.apply(id), n, Long::sum));
            siblings.forEach((parent, children) -> assertThat(
                Collections.max(children.values()) - Collections.min(children.values()))
                .as("level %d under %s: %s", depth, parent, children).isLessThanOrEqualTo(1));
          }
        });
  }

  @Test
  void globalServiceGetsExactlyOneTaskPerEligibleNodeAsNodesChange() {
    qt().withExamples(EXAMPLES)
        .forAll(integers().between(0, 30), integers().between(0, 10), longs().all())
        .checkAssert((nodeCount, changes, seed) -> {
          RandomCluster c = new RandomCluster(seed, nodeCount, 0, false, true);
          ClusterView view = c.view(0);
          Service g = Fixtures.globalService("g", c.randomService("tmp", true).getSpec().getTask());
          view.upsertService(g);
          Scheduler scheduler = new Scheduler(seed);
          Map<String, String> tasksByNode = new HashMap<>();
          reconcileGlobal(scheduler, view, g, tasksByNode);
          assertOnePerEligible(scheduler, view, g, tasksByNode);
          // Relabel, drain, add and remove nodes, reconciling after each change.
          java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
          List<Node> nodes = new ArrayList<>(c.nodes);
          for (int i = 0; i < changes; i++) {
            int kind = random.nextInt(3);
            if (kind == 0 || nodes.isEmpty()) {
              RandomCluster extra = new RandomCluster(random.nextLong(), 1, 0, false, true);
              Node n = extra.nodes.get(0).toBuilder().setMeta(dev.berth.api.v1.Meta.newBuilder()
                  .setId("joined-" + i)).build();
              nodes.add(n);
              view.upsertNode(n);
            } else if (kind == 1) {
              Node n = nodes.get(random.nextInt(nodes.size()));
              RandomCluster other = new RandomCluster(random.nextLong(), 1, 0, false, true);
              Node changed = n.toBuilder().setSpec(other.nodes.get(0).getSpec())
                  .setRole(other.nodes.get(0).getRole()).build();
              nodes.set(nodes.indexOf(n), changed);
              view.upsertNode(changed);
            } else {
              Node n = nodes.remove(random.nextInt(nodes.size()));
              view.removeNode(n.getMeta().getId());
              String gone = tasksByNode.remove(n.getMeta().getId());
              if (gone != null) {
                view.removeTask(gone);
              }
            }
            reconcileGlobal(scheduler, view, g, tasksByNode);
            assertOnePerEligible(scheduler, view, g, tasksByNode);
          }
        });
  }

  /** What the control plane's global reconciler does with a plan. */
  private static void reconcileGlobal(Scheduler s, ClusterView view, Service g, Map<String, String> tasksByNode) {
    GlobalPlacement plan = s.planGlobal(view, g.getMeta().getId());
    for (String nodeId : plan.ineligible().keySet()) {
      String t = tasksByNode.remove(nodeId);
      if (t != null) {
        view.removeTask(t);
      }
    }
    for (GlobalPlacement.NodeDecision d : plan.nodesToPlace()) {
      String id = "g@" + d.nodeId() + "#" + view.countedTasks();
      view.upsertTask(Fixtures.running(id, g, d.nodeId()));
      tasksByNode.put(d.nodeId(), id);
    }
  }

  private static void assertOnePerEligible(Scheduler s, ClusterView view, Service g, Map<String, String> byNode) {
    GlobalPlacement plan = s.planGlobal(view, g.getMeta().getId());
    assertThat(plan.nodesToPlace()).isEmpty();
    for (NodeInfo n : view.nodes()) {
      boolean eligible = eligible(n.node(), g.getSpec().getTask());
      assertThat(n.tasksOf(g.getMeta().getId())).as("tasks on %s", n.id()).isEqualTo(eligible ? 1 : 0);
      assertThat(plan.ineligible().containsKey(n.id())).isEqualTo(!eligible);
    }
    assertThat(plan.eligible()).allSatisfy(d -> assertThat(d.tasks()).isEqualTo(1));
  }

  @Test
  void outputIsDeterministicPerSeedWhateverTheInsertionOrder() {
    qt().withExamples(60)
        .forAll(integers().between(1, 30), integers().between(1, 5), integers().between(0, 80), longs().all())
        .checkAssert((nodeCount, serviceCount, taskCount, seed) -> {
          RandomCluster a = new RandomCluster(seed, nodeCount, serviceCount, false, false);
          RandomCluster b = new RandomCluster(seed, nodeCount, serviceCount, false, false);
          ClusterView viewA = a.view(taskCount);
          List<Task> batchA = a.batch(taskCount);
          b.view(taskCount);
          List<Task> batchB = b.batch(taskCount);
          // Build B's view in reverse order of nodes and tasks.
          ClusterView viewB = new ClusterView();
          b.services.forEach(viewB::upsertService);
          for (int i = b.running.size() - 1; i >= 0; i--) {
            viewB.upsertTask(b.running.get(i));
          }
          for (int i = b.nodes.size() - 1; i >= 0; i--) {
            viewB.upsertNode(b.nodes.get(i));
          }
          SchedulingResult ra = new Scheduler(seed).schedule(viewA, batchA);
          SchedulingResult rb = new Scheduler(seed).schedule(viewB, batchB);
          assertThat(rb.assignments()).isEqualTo(ra.assignments());
          assertThat(rb.unschedulable()).isEqualTo(ra.unschedulable());
        });
  }

  @Test
  void rebalanceRestoresSpreadWithinBoundsOfTheFewestMoves() {
    qt().withExamples(EXAMPLES)
        .forAll(integers().between(1, 12), integers().between(1, 12), integers().between(0, 80), longs().all())
        .checkAssert((oldNodes, newNodes, replicas, seed) -> {
          RandomCluster c = new RandomCluster(seed, oldNodes + newNodes, 0, true, true);
          Service s = Fixtures.service("s", Fixtures.spec(0, 0));
          ClusterView view = new ClusterView();
          view.upsertService(s);
          for (int i = 0; i < oldNodes; i++) {
            view.upsertNode(c.nodes.get(i));
          }
          Scheduler scheduler = new Scheduler(seed);
          List<Task> batch = new ArrayList<>();
          for (int i = 0; i < replicas; i++) {
            batch.add(Fixtures.task(String.format("t%04d", i), s));
          }
          scheduler.schedule(view, batch);
          for (int i = oldNodes; i < oldNodes + newNodes; i++) {
            view.upsertNode(c.nodes.get(i));
          }
          int k = oldNodes + newNodes;
          long lower = 0;
          long upper = 0;
          for (NodeInfo n : view.nodes()) {
            lower += Math.max(0, n.tasksOf("s") - (replicas + k - 1) / k);
            upper += Math.max(0, n.tasksOf("s") - replicas / k);
          }
          RebalancePlan plan = scheduler.rebalance(view, "s");
          assertThat((long) plan.movesNeeded()).isBetween(lower, upper);
          assertThat(plan.taskIds()).hasSize(plan.movesNeeded()).doesNotHaveDuplicates();
          plan.taskIds().forEach(view::removeTask);
          List<Task> replacements = new ArrayList<>();
          for (String id : plan.taskIds()) {
            replacements.add(Fixtures.task(id + "-r", s));
          }
          assertThat(scheduler.schedule(view, replacements).unschedulable()).isEmpty();
          List<Integer> counts = view.nodes().stream().map(n -> n.tasksOf("s")).toList();
          assertThat(Collections.max(counts) - Collections.min(counts)).isLessThanOrEqualTo(1);
          assertThat(scheduler.rebalance(view, "s").movesNeeded()).isZero();
        });
  }
}
