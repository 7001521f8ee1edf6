package dev.berth.scheduler;

import static dev.berth.scheduler.Fixtures.CORE;
import static dev.berth.scheduler.Fixtures.MB;
import static dev.berth.scheduler.Fixtures.binpackService;
import static dev.berth.scheduler.Fixtures.globalService;
import static dev.berth.scheduler.Fixtures.node;
import static dev.berth.scheduler.Fixtures.running;
import static dev.berth.scheduler.Fixtures.service;
import static dev.berth.scheduler.Fixtures.serviceBuilder;
import static dev.berth.scheduler.Fixtures.spec;
import static dev.berth.scheduler.Fixtures.task;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.v1.PortBinding;
import dev.berth.api.v1.PortConfig;
import dev.berth.api.v1.Protocol;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.Task;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SchedulerTest {

  private final ClusterView view = new ClusterView();
  private final Scheduler scheduler = new Scheduler(42);

  private static List<Task> tasks(Service s, int n) {
    return IntStream.range(0, n).mapToObj(i -> task(s.getMeta().getId() + "-" + i, s)).toList();
  }

  private static Map<String, Long> perNode(SchedulingResult r) {
    return r.assignments().stream().collect(Collectors.groupingBy(Assignment::nodeId, Collectors.counting()));
  }

  @Test
  void explanationCountsEveryRejectionByFilter() {
    // 10 nodes in zone a of which 7 lack memory; 3 nodes in zone b (constraint unmet).
    for (int i = 0; i < 10; i++) {
      view.upsertNode(node("a" + i, 4 * CORE, (i < 7 ? 128 : 4096) * MB, Map.of("zone", "a")));
    }
    for (int i = 0; i < 3; i++) {
      view.upsertNode(node("b" + i, 4 * CORE, 4096 * MB, Map.of("zone", "b")));
    }
    Service big = service("big", spec(CORE, 4096 * MB, List.of("node.labels.zone==a"), List.of(), 0));
    view.upsertService(big);
    // Take the 3 roomy zone-a nodes with another service first.
    Service filler = service("filler", spec(0, 1024 * MB, List.of("node.labels.zone==a"), List.of(), 0));
    view.upsertService(filler);
    for (int i = 7; i < 10; i++) {
      view.upsertTask(running("f" + i, filler, "a" + i));
    }

    SchedulingResult r = scheduler.schedule(view, List.of(task("t1", big)));

    assertThat(r.assignments()).isEmpty();
    assertThat(r.unschedulable()).containsEntry("t1",
        "no suitable node (constraint node.labels.zone==a unmet on 3 nodes, insufficient memory on 10 nodes)");
  }

  @Test
  void explanationListsFiltersInPipelineOrderAndIncludesNodeState() {
    view.upsertNode(node("n1", CORE, 64 * MB, Map.of()));
    var drained = Fixtures.nodeBuilder("n2", CORE, 64 * MB, Map.of());
    drained.getSpecBuilder().setAvailability(dev.berth.api.v1.NodeAvailability.DRAIN);
    view.upsertNode(drained.build());
    Service s = service("s", spec(2 * CORE, 0));
    view.upsertService(s);
    assertThat(scheduler.schedule(view, List.of(task("t", s))).unschedulable().get("t"))
        .isEqualTo("no suitable node (node not ready or not active on 1 node, insufficient cpu on 1 node)");
  }

  @Test
  void emptyClusterAndUnknownOrGlobalServicesAreExplained() {
    Service s = service("s", spec(0, 0));
    Service g = globalService("g", spec(0, 0));
    view.upsertService(s);
    view.upsertService(g);
    SchedulingResult r = scheduler.schedule(view,
        List.of(task("t1", s), task("t2", service("ghost", spec(0, 0))), task("t3", g)));
    assertThat(r.unschedulable()).containsEntry("t1", "no suitable node (no nodes in the cluster)")
        .containsEntry("t2", "unknown service ghost")
        .containsEntry("t3", "service svc-g is global: its tasks are placed by planGlobal");
  }

  @Test
  void invalidConstraintMakesTheGroupUnschedulableWithTheParseError() {
    view.upsertNode(node("n1"));
    Service s = service("s", spec(0, 0, List.of("node.labels.zone=a"), List.of(), 0));
    view.upsertService(s);
    assertThat(scheduler.schedule(view, List.of(task("t", s))).unschedulable().get("t"))
        .isEqualTo("invalid constraint \"node.labels.zone=a\": expected KEY==VALUE or KEY!=VALUE");
    Service p = service("p", spec(0, 0, List.of(), List.of("zone"), 0));
    view.upsertService(p);
    assertThat(scheduler.schedule(view, List.of(task("u", p))).unschedulable().get("u"))
        .startsWith("invalid placement preference \"spread=zone\": unknown node attribute 'zone'");
  }

  @Test
  void laterTasksOfTheBatchAndLaterBatchesSeeEarlierPlacements() {
    view.upsertNode(node("n1", 2 * CORE, 8192 * MB, Map.of()));
    view.upsertNode(node("n2", 2 * CORE, 8192 * MB, Map.of()));
    Service s = service("s", spec(CORE, 0));
    view.upsertService(s);

    SchedulingResult first = scheduler.schedule(view, tasks(s, 3));
    assertThat(first.assignments()).hasSize(3);
    assertThat(view.node("n1").freeCpu() + view.node("n2").freeCpu()).isEqualTo(CORE);
    SchedulingResult second = scheduler.schedule(view, List.of(task("late1", s), task("late2", s)));
    assertThat(second.assignments()).extracting(Assignment::taskId).containsExactly("late1");
    assertThat(second.unschedulable()).containsOnlyKeys("late2")
        .containsEntry("late2", "no suitable node (insufficient cpu on 2 nodes)");
    assertThat(view.node("n1").freeCpu()).isZero();
    assertThat(view.node("n2").freeCpu()).isZero();
  }

  @Test
  void tasksBeyondCapacityOfOneBatchAreExplainedAfterNodesFillUp() {
    view.upsertNode(node("n1", 2 * CORE, 8192 * MB, Map.of()));
    Service s = service("s", spec(CORE, 0));
    view.upsertService(s);
    SchedulingResult r = scheduler.schedule(view, tasks(s, 3));
    assertThat(r.assignments()).hasSize(2);
    assertThat(r.unschedulable()).containsOnlyKeys("s-2")
        .containsEntry("s-2", "no suitable node (insufficient cpu on 1 node)");
  }

  @Test
  void upsertingTheRealTaskReplacesThePlacement() {
    view.upsertNode(node("n1", 2 * CORE, 8192 * MB, Map.of()));
    Service s = service("s", spec(CORE, 0));
    view.upsertService(s);
    String nodeId = scheduler.schedule(view, List.of(task("t", s))).assignments().get(0).nodeId();
    view.upsertTask(running("t", s, nodeId));
    assertThat(view.node("n1").reservedCpu()).isEqualTo(CORE);
    assertThat(view.countedTasks()).isEqualTo(1);
  }

  @Test
  void spreadPutsReplicasOnDifferentNodesAndAvoidsBusyNodes() {
    for (int i = 0; i < 4; i++) {
      view.upsertNode(node("n" + i));
    }
    Service other = service("other", spec(0, 0));
    view.upsertService(other);
    view.upsertTask(running("o1", other, "n0"));
    Service s = service("s", spec(0, 0));
    view.upsertService(s);

    SchedulingResult r = scheduler.schedule(view, tasks(s, 3));
    assertThat(perNode(r)).doesNotContainKey("n0").containsOnlyKeys("n1", "n2", "n3");
    assertThat(perNode(r).values()).containsOnly(1L);
  }

  @Test
  void binpackFillsTheFullestNodeFirst() {
    for (int i = 0; i < 4; i++) {
      view.upsertNode(node("n" + i, 4 * CORE, 8192 * MB, Map.of()));
    }
    Service other = service("other", spec(CORE, 0));
    view.upsertService(other);
    view.upsertTask(running("o1", other, "n2"));
    Service s = binpackService("s", spec(CORE, 0));
    view.upsertService(s);

    SchedulingResult r = scheduler.schedule(view, tasks(s, 5));
    Map<String, Long> counts = perNode(r);
    assertThat(counts.get("n2")).as("the already used node is filled first").isEqualTo(3);
    assertThat(counts.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(5);
    assertThat(counts).hasSize(2);
  }

  @Test
  void maxReplicasPerNodeCapsEachNode() {
    for (int i = 0; i < 2; i++) {
      view.upsertNode(node("n" + i));
    }
    Service s = binpackService("s", spec(0, 0, List.of(), List.of(), 2));
    view.upsertService(s);
    SchedulingResult r = scheduler.schedule(view, tasks(s, 5));
    assertThat(perNode(r)).containsEntry("n0", 2L).containsEntry("n1", 2L);
    assertThat(r.unschedulable()).containsEntry("s-4",
        "no suitable node (max replicas per node (2) reached on 2 nodes)");
  }

  @Test
  void hostModePortsAreBoundOncePerNodeAndReturnedInTheAssignment() {
    for (int i = 0; i < 3; i++) {
      view.upsertNode(node("n" + i));
    }
    Service.Builder b = serviceBuilder("web", spec(0, 0));
    b.getSpecBuilder().getEndpointBuilder()
        .addPorts(PortConfig.newBuilder().setProtocol(Protocol.TCP).setTargetPort(80).setPublishedPort(8080)
            .setPublishMode(PortConfig.PublishMode.HOST))
        .addPorts(PortConfig.newBuilder().setProtocol(Protocol.TCP).setTargetPort(81).setPublishedPort(9090)
            .setPublishMode(PortConfig.PublishMode.INGRESS))
        .addPorts(PortConfig.newBuilder().setProtocol(Protocol.UDP).setTargetPort(53).setPublishedPort(0)
            .setPublishMode(PortConfig.PublishMode.HOST));
    Service web = b.build();
    view.upsertService(web);

    SchedulingResult r = scheduler.schedule(view, tasks(web, 4));
    assertThat(r.assignments()).hasSize(3);
    assertThat(perNode(r).values()).containsOnly(1L);
    PortBinding expected = PortBinding.newBuilder().setProtocol(Protocol.TCP).setPort(8080).build();
    assertThat(r.assignments()).allSatisfy(a -> assertThat(a.hostPorts()).containsExactly(expected));
    assertThat(r.unschedulable()).containsEntry("web-3", "no suitable node (host port 8080/tcp in use on 3 nodes)");
  }

  @Test
  void placementPreferencesSpreadOverZonesFirst() {
    // Zone a has 1 node, zone b has 3: spreading over zones puts half the tasks on the lone zone-a node.
    view.upsertNode(node("a0", 8 * CORE, 8192 * MB, Map.of("zone", "a")));
    for (int i = 0; i < 3; i++) {
      view.upsertNode(node("b" + i, 8 * CORE, 8192 * MB, Map.of("zone", "b")));
    }
    Service s = service("s", spec(0, 0, List.of(), List.of("node.labels.zone"), 0));
    view.upsertService(s);
    Map<String, Long> counts = perNode(scheduler.schedule(view, tasks(s, 6)));
    assertThat(counts).containsEntry("a0", 3L).containsEntry("b0", 1L).containsEntry("b1", 1L)
        .containsEntry("b2", 1L);
  }

  @Test
  void sameSeedSameInputSameOutputAndSeedsBreakTiesDifferently() {
    List<String> firsts = new ArrayList<>();
    for (long seed = 0; seed < 8; seed++) {
      List<Assignment> a = run(seed);
      assertThat(run(seed)).isEqualTo(a);
      firsts.add(a.get(0).nodeId());
    }
    assertThat(firsts.stream().distinct().count()).as("different seeds pick different first nodes: " + firsts)
        .isGreaterThanOrEqualTo(4);
  }

  private List<Assignment> run(long seed) {
    ClusterView v = new ClusterView();
    for (int i = 0; i < 50; i++) {
      v.upsertNode(node("n" + i));
    }
    Service s = service("s", spec(CORE / 10, MB));
    v.upsertService(s);
    return new Scheduler(seed).schedule(v, tasks(s, 20)).assignments();
  }

  @Test
  void nodeIterationOrderDoesNotChangeTheResult() {
    Service s = service("s", spec(CORE / 10, MB, List.of(), List.of("node.labels.rack"), 0));
    Map<String, String> placedA = new HashMap<>();
    Map<String, String> placedB = new HashMap<>();
    ClusterView a = new ClusterView();
    ClusterView b = new ClusterView();
    for (int i = 0; i < 30; i++) {
      a.upsertNode(node("n" + i, CORE, 1024 * MB, Map.of("rack", "r" + i % 4)));
      b.upsertNode(node("n" + (29 - i), CORE, 1024 * MB, Map.of("rack", "r" + (29 - i) % 4)));
    }
    a.upsertService(s);
    b.upsertService(s);
    scheduler.schedule(a, tasks(s, 25)).assignments().forEach(x -> placedA.put(x.taskId(), x.nodeId()));
    scheduler.schedule(b, tasks(s, 25)).assignments().forEach(x -> placedB.put(x.taskId(), x.nodeId()));
    assertThat(placedA).hasSize(25).isEqualTo(placedB);
  }

  @Test
  void malformedBatchesAreRejectedBeforeTheViewChanges() {
    view.upsertNode(node("n1"));
    Service s = service("s", spec(CORE, 0));
    view.upsertService(s);
    assertThatThrownBy(() -> scheduler.schedule(view, List.of(task("t", s), task("t", s))))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("task t appears twice in the batch");
    assertThatThrownBy(() -> scheduler.schedule(view, List.of(task("t", s), Task.getDefaultInstance())))
        .hasMessage("task at position 1 of the batch has no meta.id");
    assertThat(view.countedTasks()).isZero();
  }

  @Test
  void rollingUpdateTasksUseTheirOwnSpec() {
    view.upsertNode(node("a0", CORE, 1024 * MB, Map.of("zone", "a")));
    view.upsertNode(node("b0", CORE, 1024 * MB, Map.of("zone", "b")));
    Service s = service("s", spec(0, 0, List.of("node.labels.zone==b"), List.of(), 0));
    view.upsertService(s);
    Task old = task("old", s).toBuilder().setSpec(spec(0, 0, List.of("node.labels.zone==a"), List.of(), 0)).build();
    SchedulingResult r = scheduler.schedule(view, List.of(old, task("new", s)));
    assertThat(r.assignments()).extracting(Assignment::nodeId).containsExactly("a0", "b0");
  }
}
