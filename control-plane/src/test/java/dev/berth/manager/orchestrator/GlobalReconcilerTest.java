package dev.berth.manager.orchestrator;

import static dev.berth.manager.orchestrator.Fixture.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.NodeAvailability;
import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.Placement;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.TaskState;
import dev.berth.internal.v1.Plan;
import org.junit.jupiter.api.Test;

class GlobalReconcilerTest {
  final ClusterViewFeed feed = new ClusterViewFeed();
  final GlobalReconciler reconciler = new GlobalReconciler(new TaskFactory(sequentialIds()), feed, 100);

  static Service zoneA() {
    TaskSpec spec = spec("agent:1").toBuilder()
        .setPlacement(Placement.newBuilder().addConstraints("node.labels.zone==a")).build();
    return global("g", spec);
  }

  Fixture cluster() {
    Fixture f = new Fixture(feed);
    for (String id : new String[] {"n1", "n2", "n3"}) {
      f.add(aNode(id).toBuilder().setSpec(aNode(id).getSpec().toBuilder().putLabels("zone", "a")).build());
    }
    return f.add(zoneA());
  }

  @Test
  void oneTaskPerEligibleNodeNamingTheNode() {
    Fixture f = cluster();
    f.add(aNode("n4").toBuilder().setStatus(aNode("n4").getStatus().toBuilder().setState(NodeState.NODE_DOWN)).build());
    f.add(aNode("n5").toBuilder().setSpec(aNode("n5").getSpec().toBuilder().setAvailability(NodeAvailability.PAUSE)).build());
    f.add(aNode("n6")); // no zone label

    Plan plan = reconciler.reconcile(f, 5).get(0).getPlan();

    assertThat(plan.getCreateTasksList()).extracting(TaskStates::pinnedNode).containsExactly("n1", "n2", "n3");
    assertThat(plan.getCreateTasksList()).allMatch(t -> t.getSlot() == 0 && t.getStatus().getState() == TaskState.NEW);
    f.apply(java.util.List.of(dev.berth.internal.v1.Command.newBuilder().setPlan(plan).build()), 5);
    assertThat(reconciler.reconcile(f, 6)).isEmpty();
  }

  @Test
  void followsJoinDrainAndRelabel() {
    Fixture f = cluster();
    f.apply(reconciler.reconcile(f, 0), 0);
    assertThat(f.live("g")).hasSize(3);

    // join
    f.add(aNode("n9").toBuilder().setSpec(aNode("n9").getSpec().toBuilder().putLabels("zone", "a")).build());
    Plan joined = reconciler.reconcile(f, 1).get(0).getPlan();
    assertThat(joined.getCreateTasksList()).extracting(TaskStates::pinnedNode).containsExactly("n9");
    f.apply(reconciler.reconcile(f, 1), 1);

    // drain n1, relabel n2 out of zone a
    f.add(f.nodes.get("n1").toBuilder().setSpec(f.nodes.get("n1").getSpec().toBuilder().setAvailability(NodeAvailability.DRAIN)).build());
    f.add(f.nodes.get("n2").toBuilder().setSpec(f.nodes.get("n2").getSpec().toBuilder().putLabels("zone", "b")).build());
    Plan moved = reconciler.reconcile(f, 2).get(0).getPlan();
    assertThat(moved.getCreateTasksList()).isEmpty();
    assertThat(moved.getDesiredList()).extracting(d -> TaskStates.pinnedNode(f.tasks.get(d.getTaskId())))
        .containsExactlyInAnyOrder("n1", "n2");
    assertThat(moved.getDesiredList()).allMatch(d -> d.getDesiredState() == TaskState.SHUTDOWN);
    f.apply(reconciler.reconcile(f, 2), 2);
    assertThat(f.live("g")).extracting(TaskStates::pinnedNode).containsExactlyInAnyOrder("n3", "n9");

    // relabel back: a new task, attempt after the old one
    f.add(f.nodes.get("n2").toBuilder().setSpec(f.nodes.get("n2").getSpec().toBuilder().putLabels("zone", "a")).build());
    Plan back = reconciler.reconcile(f, 3).get(0).getPlan();
    assertThat(back.getCreateTasksList()).singleElement().satisfies(t -> {
      assertThat(TaskStates.pinnedNode(t)).isEqualTo("n2");
      assertThat(t.getNodeId()).as("the store sets nodes only through assignments").isEmpty();
      assertThat(t.getSpec().getPlacement().getConstraintsList()).containsExactly("node.labels.zone==a", "node.id==n2");
      assertThat(t.getAttempt()).isEqualTo(1);
    });
  }

  @Test
  void keepsTasksOnDownNodesAndShutsDownTasksOfRemovedNodes() {
    Fixture f = cluster();
    f.apply(reconciler.reconcile(f, 0), 0);
    f.add(f.nodes.get("n1").toBuilder().setStatus(f.nodes.get("n1").getStatus().toBuilder().setState(NodeState.NODE_DOWN)).build());
    assertThat(reconciler.reconcile(f, 1)).isEmpty();

    f.removeNode("n3");
    Plan plan = reconciler.reconcile(f, 2).get(0).getPlan();
    assertThat(plan.getDesiredList()).singleElement()
        .satisfies(d -> assertThat(TaskStates.pinnedNode(f.tasks.get(d.getTaskId()))).isEqualTo("n3"));
  }
}
