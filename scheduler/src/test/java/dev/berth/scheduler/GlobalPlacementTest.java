package dev.berth.scheduler;

import static dev.berth.scheduler.Fixtures.CORE;
import static dev.berth.scheduler.Fixtures.MB;
import static dev.berth.scheduler.Fixtures.globalService;
import static dev.berth.scheduler.Fixtures.node;
import static dev.berth.scheduler.Fixtures.nodeBuilder;
import static dev.berth.scheduler.Fixtures.running;
import static dev.berth.scheduler.Fixtures.service;
import static dev.berth.scheduler.Fixtures.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeAvailability;
import dev.berth.api.v1.Service;
import dev.berth.scheduler.GlobalPlacement.NodeDecision;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GlobalPlacementTest {

  private final ClusterView view = new ClusterView();
  private final Scheduler scheduler = new Scheduler(1);
  private final Service agent = globalService("agent",
      spec(CORE, 512 * MB, List.of("node.labels.monitor!=off"), List.of(), 0));

  @Test
  void eligibleNodesSayWhetherTheTaskFitsAndIneligibleOnesSayWhy() {
    view.upsertService(agent);
    view.upsertNode(node("n1", 2 * CORE, 1024 * MB, Map.of()));
    view.upsertNode(node("n2", 2 * CORE, 256 * MB, Map.of()));
    view.upsertNode(node("n3", 2 * CORE, 1024 * MB, Map.of("monitor", "off")));
    Node.Builder drained = nodeBuilder("n4", 2 * CORE, 1024 * MB, Map.of());
    drained.getSpecBuilder().setAvailability(NodeAvailability.DRAIN);
    view.upsertNode(drained.build());

    GlobalPlacement plan = scheduler.planGlobal(view, "agent");

    assertThat(plan.eligible()).containsExactly(
        new NodeDecision("n1", 0, true, null, List.of()),
        new NodeDecision("n2", 0, false, "insufficient memory", List.of()));
    assertThat(plan.ineligible()).containsExactly(
        Map.entry("n3", "constraint node.labels.monitor!=off unmet"),
        Map.entry("n4", "node not ready or not active"));
    assertThat(plan.nodesToPlace()).extracting(NodeDecision::nodeId).containsExactly("n1");
  }

  @Test
  void followsNodesAsTheyJoinDrainAndGetRelabelled() {
    view.upsertService(agent);
    view.upsertNode(node("n1"));
    view.upsertTask(running("a1", agent, "n1"));
    assertThat(scheduler.planGlobal(view, "agent").nodesToPlace()).isEmpty();

    view.upsertNode(node("n2"));
    assertThat(scheduler.planGlobal(view, "agent").nodesToPlace()).extracting(NodeDecision::nodeId)
        .containsExactly("n2");

    view.upsertNode(node("n1", 4 * CORE, 8192 * MB, Map.of("monitor", "off")));
    GlobalPlacement relabelled = scheduler.planGlobal(view, "agent");
    assertThat(relabelled.ineligible()).containsOnlyKeys("n1");
    assertThat(relabelled.eligible()).extracting(NodeDecision::nodeId).containsExactly("n2");

    Node.Builder drained = nodeBuilder("n2", 4 * CORE, 8192 * MB, Map.of());
    drained.getSpecBuilder().setAvailability(NodeAvailability.DRAIN);
    view.upsertNode(drained.build());
    assertThat(scheduler.planGlobal(view, "agent").eligible()).isEmpty();
  }

  @Test
  void existingTaskIsReportedSoTheReconcilerDoesNotDuplicateIt() {
    view.upsertService(agent);
    view.upsertNode(node("n1", CORE, 512 * MB, Map.of()));
    view.upsertTask(running("a1", agent, "n1"));
    NodeDecision d = scheduler.planGlobal(view, "agent").eligible().get(0);
    assertThat(d.tasks()).isEqualTo(1);
    assertThat(d.fits()).as("a second task would not fit").isFalse();
    assertThat(scheduler.planGlobal(view, "agent").nodesToPlace()).isEmpty();
  }

  @Test
  void onlyGlobalServicesCanBePlanned() {
    view.upsertService(service("web", spec(0, 0)));
    assertThatThrownBy(() -> scheduler.planGlobal(view, "web"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage("service svc-web is not global");
    assertThatThrownBy(() -> scheduler.planGlobal(view, "nope")).hasMessage("unknown service nope");
  }

  @Test
  void invalidConstraintMakesEveryNodeIneligibleWithTheParseError() {
    view.upsertService(globalService("g", spec(0, 0, List.of("node.rack==1"), List.of(), 0)));
    view.upsertNode(node("n1"));
    assertThat(scheduler.planGlobal(view, "g").ineligible().get("n1"))
        .startsWith("invalid constraint \"node.rack==1\"");
  }
}
