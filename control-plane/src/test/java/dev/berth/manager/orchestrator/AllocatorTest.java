package dev.berth.manager.orchestrator;

import static dev.berth.manager.orchestrator.Fixture.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.EndpointSpec;
import dev.berth.api.v1.NodeAvailability;
import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.Placement;
import dev.berth.api.v1.PortConfig;
import dev.berth.api.v1.ResourceRequirements;
import dev.berth.api.v1.Resources;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.TaskState;
import dev.berth.internal.v1.Plan;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class AllocatorTest {
  final ClusterViewFeed feed = new ClusterViewFeed();
  final Allocator allocator = new Allocator(feed, 1000);
  final ReplicatedReconciler scaler = new ReplicatedReconciler(new TaskFactory(sequentialIds()), 1000);

  static TaskSpec reserving(long memory) {
    return spec("web:1").toBuilder().setResources(ResourceRequirements.newBuilder()
        .setReservations(Resources.newBuilder().setMemoryBytes(memory))).build();
  }

  @Test
  void spreadsOverReadyActiveNodesOnly() {
    Fixture f = new Fixture(feed).add(aNode("n1")).add(aNode("n2")).add(aNode("n3"))
        .add(aNode("n4").toBuilder().setStatus(aNode("n4").getStatus().toBuilder().setState(NodeState.NODE_DOWN)).build())
        .add(aNode("n5").toBuilder().setSpec(aNode("n5").getSpec().toBuilder().setAvailability(NodeAvailability.PAUSE)).build())
        .add(replicated("s1", 6, spec("web:1")));
    f.apply(scaler.reconcile(f, 0), 0);

    Plan plan = allocator.reconcile(f, 0).get(0).getPlan();

    Map<String, Long> perNode = plan.getAssignmentsList().stream()
        .collect(Collectors.groupingBy(Plan.Assignment::getNodeId, Collectors.counting()));
    assertThat(perNode).containsOnly(Map.entry("n1", 2L), Map.entry("n2", 2L), Map.entry("n3", 2L));
    f.apply(java.util.List.of(dev.berth.internal.v1.Command.newBuilder().setPlan(plan).build()), 0);
    assertThat(allocator.reconcile(f, 1)).isEmpty();
  }

  @Test
  void neverOvercommitsMemoryAndExplainsWhy() {
    Fixture f = new Fixture(feed).add(aNode("n1", 4, 1000)).add(aNode("n2", 4, 1000))
        .add(replicated("s1", 5, reserving(400)));
    f.add(task("big", replicated("other", 1, reserving(500)), 1, "n1", TaskState.RUNNING));
    f.apply(scaler.reconcile(f, 0), 0);

    Plan plan = allocator.reconcile(f, 0).get(0).getPlan();

    // n1 has 500 free -> 1 task; n2 has 1000 free -> 2 tasks; 2 pending.
    Map<String, Long> perNode = plan.getAssignmentsList().stream()
        .collect(Collectors.groupingBy(Plan.Assignment::getNodeId, Collectors.counting()));
    assertThat(perNode).containsOnly(Map.entry("n1", 1L), Map.entry("n2", 2L));
    assertThat(plan.getPendingList()).hasSize(2)
        .allMatch(p -> p.getReason().equals("no suitable node (insufficient memory on 2 nodes)"));

    f.apply(java.util.List.of(dev.berth.internal.v1.Command.newBuilder().setPlan(plan).build()), 0);
    assertThat(allocator.reconcile(f, 1)).as("same reason is not proposed again").isEmpty();

    f.add(aNode("n3", 4, 1000));
    Plan later = allocator.reconcile(f, 2).get(0).getPlan();
    assertThat(later.getAssignmentsList()).hasSize(2).allMatch(a -> a.getNodeId().equals("n3"));
  }

  @Test
  void constraintsMaxPerNodeAndHostPorts() {
    TaskSpec spec = spec("web:1").toBuilder().setPlacement(Placement.newBuilder()
        .addConstraints("node.labels.zone!=b").setMaxReplicasPerNode(1)).build();
    Service s = replicated("s1", 3, spec).toBuilder().setSpec(replicated("s1", 3, spec).getSpec().toBuilder()
        .setEndpoint(EndpointSpec.newBuilder().addPorts(PortConfig.newBuilder().setTargetPort(80)
            .setPublishedPort(8080).setPublishMode(PortConfig.PublishMode.HOST)))).build();
    Fixture f = new Fixture(feed).add(aNode("n1")).add(aNode("n2"))
        .add(aNode("n3").toBuilder().setSpec(aNode("n3").getSpec().toBuilder().putLabels("zone", "b")).build())
        .add(s);
    f.apply(scaler.reconcile(f, 0), 0);

    Plan plan = allocator.reconcile(f, 0).get(0).getPlan();

    assertThat(plan.getAssignmentsList()).extracting(Plan.Assignment::getNodeId).containsExactlyInAnyOrder("n1", "n2");
    assertThat(plan.getAssignmentsList()).allMatch(a -> a.getHostPorts(0).getPort() == 8080);
    assertThat(plan.getPendingList()).singleElement().satisfies(p -> assertThat(p.getReason())
        .contains("constraint node.labels.zone!=b unmet on 1 node")
        .contains("max replicas per node (1) reached on 2 nodes"));
  }

  @Test
  void globalTasksGoToTheirOwnNodeIfItFits() {
    Service g = global("g", reserving(600));
    Fixture f = new Fixture(feed).add(aNode("n1", 4, 1000)).add(aNode("n2", 4, 1000)).add(g)
        .add(task("hog", replicated("x", 1, reserving(500)), 1, "n2", TaskState.RUNNING));
    TaskFactory factory = new TaskFactory(sequentialIds());
    Task g1 = factory.newTask(f, g, 0, "n1", 0, 0);
    Task g2 = factory.newTask(f, g, 0, "n2", 0, 0);
    f.add(g1).add(g2);

    Plan plan = allocator.reconcile(f, 0).get(0).getPlan();

    assertThat(plan.getAssignmentsList()).singleElement().satisfies(a -> {
      assertThat(a.getTaskId()).isEqualTo(g1.getMeta().getId());
      assertThat(a.getNodeId()).isEqualTo("n1");
    });
    assertThat(plan.getPendingList()).singleElement().satisfies(p -> {
      assertThat(p.getTaskId()).isEqualTo(g2.getMeta().getId());
      assertThat(p.getReason()).isEqualTo("node n2 unsuitable (insufficient memory)");
    });
  }

  @Test
  void noNodesIsAClearReason() {
    Fixture f = new Fixture(feed).add(replicated("s1", 1, spec("web:1")));
    f.apply(scaler.reconcile(f, 0), 0);
    Map<String, Task> byId = f.tasks.values().stream().collect(Collectors.toMap(t -> t.getMeta().getId(), Function.identity()));
    assertThat(byId).hasSize(1);
    assertThat(allocator.reconcile(f, 0).get(0).getPlan().getPending(0).getReason()).isEqualTo("no suitable node (no nodes in the cluster)");
  }
}
