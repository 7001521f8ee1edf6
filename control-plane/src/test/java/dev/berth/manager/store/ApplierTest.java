package dev.berth.manager.store;

import static dev.berth.manager.store.Fixtures.assignment;
import static dev.berth.manager.store.Fixtures.createService;
import static dev.berth.manager.store.Fixtures.entry;
import static dev.berth.manager.store.Fixtures.init;
import static dev.berth.manager.store.Fixtures.newTask;
import static dev.berth.manager.store.Fixtures.plan;
import static dev.berth.manager.store.Fixtures.registerNode;
import static dev.berth.manager.store.Fixtures.report;
import static dev.berth.manager.store.Fixtures.spec;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.PortBinding;
import dev.berth.api.v1.PortConfig;
import dev.berth.api.v1.EndpointSpec;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.WatchEvent;
import dev.berth.internal.v1.ApplyResult;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.LogEntry;
import dev.berth.internal.v1.Plan;
import dev.berth.internal.v1.RemoveService;
import dev.berth.internal.v1.UpdateService;
import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ApplierTest {
  private ClusterStore store;
  private long index;
  private final List<LogEntry> log = new ArrayList<>();

  @BeforeEach
  void setUp() {
    store = new ClusterStore(100, 1000);
    index = 0;
    ok(entry("", init()));
  }

  private ApplyResult apply(LogEntry e) {
    return applyOutcome(e).result();
  }

  private Applier.Outcome applyOutcome(LogEntry e) {
    log.add(e);
    return store.apply(e, ++index);
  }

  private ApplyResult ok(LogEntry e) {
    ApplyResult r = apply(e);
    assertThat(r.getCode()).as(r.getMessage()).isEqualTo("OK");
    return r;
  }

  private void fails(LogEntry e, String code, String message) {
    String before = store.digest();
    ApplyResult r = apply(e);
    assertThat(r.getCode()).isEqualTo(code);
    assertThat(r.getMessage()).contains(message);
    assertThat(store.digest()).as("state unchanged by a failed entry").isEqualTo(before);
  }

  @Test
  void createServiceSetsMetaFromEntry() {
    ApplyResult r = ok(entry("req-1", createService("s1", spec("web", 3))));
    assertThat(r.getCreatedIdsList()).containsExactly("s1");
    var s = store.read((StoreView v) -> v.serviceByName("web")).orElseThrow();
    assertThat(s.getMeta().getVersion()).isEqualTo(index);
    assertThat(s.getMeta().getCreatedAtMs()).isEqualTo(1_700_000_000_000L);
    assertThat(s.getSpecVersion()).isEqualTo(1);
  }

  @Test
  void specValidationNamesTheField() {
    fails(entry("", createService("s1", spec("web", -1))), "INVALID_ARGUMENT",
        "spec.replicated.replicas: must be >= 0 (got -1)");
    ServiceSpec noImage = spec("web", 1).toBuilder().setTask(spec("web", 1).getTask().toBuilder()
        .setContainer(ContainerSpec.newBuilder())).build();
    fails(entry("", createService("s1", noImage)), "INVALID_ARGUMENT",
        "spec.task.container.image: must not be empty");
    fails(entry("", createService("s1", spec("", 1))), "INVALID_ARGUMENT", "spec.name: must not be empty");
    fails(entry("", createService("s1", spec("bad name!", 1))), "INVALID_ARGUMENT", "spec.name:");
    ServiceSpec badEnv = spec("web", 1).toBuilder().setTask(spec("web", 1).getTask().toBuilder()
        .setContainer(ContainerSpec.newBuilder().setImage("x").addEnv("=v"))).build();
    fails(entry("", createService("s1", badEnv)), "INVALID_ARGUMENT", "spec.task.container.env[0]");
    ServiceSpec badPort = spec("web", 1).toBuilder().setEndpoint(EndpointSpec.newBuilder()
        .addPorts(PortConfig.newBuilder().setTargetPort(70000))).build();
    fails(entry("", createService("s1", badPort)), "INVALID_ARGUMENT", "spec.endpoint.ports[0].target_port");
    ServiceSpec huge = spec("web", 1).toBuilder().putLabels("blob", "x".repeat(2 << 20)).build();
    fails(entry("", createService("s1", huge)), "INVALID_ARGUMENT", "exceeds the limit of 1048576 bytes");
    fails(entry("bad id with spaces", createService("s1", spec("web", 1))), "INVALID_ARGUMENT",
        "write.request_id");
    assertThat(store.read((StoreView v) -> v.services().size())).isZero();
  }

  @Test
  void duplicateNameUnknownServiceAndStaleVersion() {
    ok(entry("", createService("s1", spec("web", 1))));
    fails(entry("", createService("s2", spec("web", 2))), "ALREADY_EXISTS", "service \"web\" already exists");
    fails(entry("", Command.newBuilder().setUpdateService(UpdateService.newBuilder().setId("nope")
        .setSpec(spec("nope", 1))).build()), "NOT_FOUND", "service \"nope\" not found");
    long version = store.read((StoreView v) -> v.service("s1").orElseThrow().getMeta().getVersion());
    ok(entry("", Command.newBuilder().setUpdateService(UpdateService.newBuilder().setId("web")
        .setSpec(spec("web", 5)).setIfVersion(version)).build()));
    fails(entry("", Command.newBuilder().setUpdateService(UpdateService.newBuilder().setId("web")
        .setSpec(spec("web", 7)).setIfVersion(version)).build()), "FAILED_PRECONDITION", "if_version");
    var s = store.read((StoreView v) -> v.service("s1").orElseThrow());
    assertThat(s.getSpec().getReplicated().getReplicas()).isEqualTo(5);
    assertThat(s.getPreviousSpec().getReplicated().getReplicas()).isEqualTo(1);
    assertThat(s.getSpecVersion()).isEqualTo(2);
    ok(entry("", Command.newBuilder().setUpdateService(UpdateService.newBuilder().setId("s1")
        .setRollback(true)).build()));
    assertThat(store.read((StoreView v) -> v.service("s1").orElseThrow().getSpec().getReplicated().getReplicas()))
        .isEqualTo(1);
    fails(entry("", Command.newBuilder().setRemoveService(RemoveService.newBuilder().setId("s1")
        .setIfVersion(1)).build()), "FAILED_PRECONDITION", "if_version");
  }

  @Test
  void dedupeReturnsTheFirstResultAndAppliesOnce() {
    ApplyResult first = ok(entry("retry-me", createService("s1", spec("web", 1))));
    String digest = store.digest();
    ApplyResult again = apply(entry("retry-me", createService("s9", spec("other", 1))));
    assertThat(again).isEqualTo(first);
    assertThat(store.digest()).isEqualTo(digest);
    assertThat(store.read((StoreView v) -> v.services().size())).isEqualTo(1);
    // failures are remembered too
    ApplyResult failed = apply(entry("dup", createService("s2", spec("web", 1))));
    assertThat(failed.getCode()).isEqualTo("ALREADY_EXISTS");
    assertThat(apply(entry("dup", createService("s3", spec("fresh", 1))))).isEqualTo(failed);
  }

  @Test
  void dedupeTableIsBoundedAndEvictsOldestDeterministically() {
    for (int i = 0; i < 150; i++) {
      ok(entry("r" + i, registerNode("n" + i, 1, 1)));
    }
    ClusterStore.Snapshot<Void> snap = store.snapshot(() -> null);
    assertThat(snap.snapshot().getDedupeCount()).isEqualTo(100);
    assertThat(snap.snapshot().getDedupe(0).getRequestId()).isEqualTo("r50");
  }

  @Test
  void entriesApplyAtomically() throws Exception {
    LogEntry e = entry("", createService("s1", spec("a", 1)), createService("s2", spec("a", 1)));
    fails(e, "ALREADY_EXISTS", "commands[1]: service \"a\" already exists");
    assertThat(store.read((StoreView v) -> v.services())).isEmpty();
    assertThat(store.changes().read(0, 100, 0).events()).extracting(WatchEvent::getIndex)
        .doesNotContain(index);
  }

  private void setUpTask(String taskId, long cpu, long mem) {
    ok(entry("", plan(Plan.newBuilder().addCreateTasks(newTask(taskId, "s1", 1, cpu, mem)))));
  }

  @Test
  void planIsRevalidatedAgainstCurrentCapacity() {
    ok(entry("", createService("s1", spec("web", 3)), registerNode("n1", 2_000_000_000L, 1 << 30)));
    setUpTask("t1", 1_500_000_000L, 0);
    setUpTask("t2", 1_000_000_000L, 0);
    ok(entry("", plan(Plan.newBuilder().addAssignments(assignment("t1", "n1")))));
    // A plan computed before t1 was placed would put t2 there too: it must be refused.
    fails(entry("", plan(Plan.newBuilder().setBaseIndex(1).addAssignments(assignment("t2", "n1")))),
        "FAILED_PRECONDITION", "has 500000000 nano-CPUs unreserved");
    // Once t1 finished, its reservation is released.
    ok(entry("", report("n1", "t1", TaskState.ACCEPTED)));
    ok(entry("", report("n1", "t1", TaskState.FAILED)));
    ok(entry("", plan(Plan.newBuilder().addAssignments(assignment("t2", "n1")))));
    assertThat(store.read((StoreView v) -> v.tasksOfNode("n1"))).hasSize(2);
  }

  @Test
  void taskIndexesHoldTheCurrentTaskAndRollBackWithTheEntry() {
    ok(entry("", createService("s1", spec("web", 3)), registerNode("n1", 0, 0), registerNode("n2", 0, 0)));
    setUpTask("t1", 0, 0);
    setUpTask("t2", 0, 0);
    ok(entry("", plan(Plan.newBuilder().addAssignments(assignment("t1", "n1")))));
    ok(entry("", report("n1", "t1", TaskState.ACCEPTED)));
    assertThat(store.read((StoreView v) -> Set.copyOf(v.nodeIdsWithTasks()))).containsExactly("n1");
    assertThat(store.read((StoreView v) -> v.tasksOfNode("n1"))).singleElement()
        .satisfies(t -> assertThat(t.getStatus().getState()).isEqualTo(TaskState.ACCEPTED));
    // t1 moves on, then the entry fails on t2 (not n1's): both indexes must show t1 as before
    fails(entry("", report("n1", "t1", TaskState.PREPARING), report("n1", "t2", TaskState.ACCEPTED)),
        "PERMISSION_DENIED", "not to the reporting node");
    assertThat(store.read((StoreView v) -> v.tasksOfNode("n1"))).singleElement()
        .satisfies(t -> assertThat(t.getStatus().getState()).isEqualTo(TaskState.ACCEPTED));
    assertThat(store.read((StoreView v) -> v.tasksOfService("s1")))
        .filteredOn(t -> t.getMeta().getId().equals("t1")).singleElement()
        .satisfies(t -> assertThat(t.getStatus().getState()).isEqualTo(TaskState.ACCEPTED));
  }

  @Test
  void planRefusesTakenHostPortsAndDrainedNodes() {
    ok(entry("", createService("s1", spec("web", 3)), registerNode("n1", 0, 0)));
    setUpTask("t1", 0, 0);
    setUpTask("t2", 0, 0);
    PortBinding p80 = PortBinding.newBuilder().setPort(80).build();
    ok(entry("", plan(Plan.newBuilder().addAssignments(assignment("t1", "n1").toBuilder().addHostPorts(p80)))));
    fails(entry("", plan(Plan.newBuilder().addAssignments(assignment("t2", "n1").toBuilder().addHostPorts(p80)))),
        "FAILED_PRECONDITION", "host port 80/tcp is already taken on node n1");
    ok(entry("", Command.newBuilder().setUpdateNode(dev.berth.internal.v1.UpdateNode.newBuilder().setId("n1")
        .setAvailability(dev.berth.api.v1.NodeAvailability.DRAIN)).build()));
    fails(entry("", plan(Plan.newBuilder().addAssignments(assignment("t2", "n1")))),
        "FAILED_PRECONDITION", "node n1 is DRAIN");
  }

  @Test
  void taskStatesMoveOnlyForwardAndOnlyTheAssignedNodeReports() {
    ok(entry("", createService("s1", spec("web", 1)), registerNode("n1", 0, 0), registerNode("n2", 0, 0)));
    setUpTask("t1", 0, 0);
    fails(entry("", report("n1", "t1", TaskState.RUNNING)), "PERMISSION_DENIED",
        "task t1 is assigned to no node, not to the reporting node n1");
    ok(entry("", plan(Plan.newBuilder().addAssignments(assignment("t1", "n1")))));
    fails(entry("", report("n2", "t1", TaskState.RUNNING)), "PERMISSION_DENIED",
        "assigned to node n1, not to the reporting node n2");
    fails(entry("", report("n1", "t1", TaskState.PENDING)), "INVALID_ARGUMENT", "PENDING is manager-owned");
    ok(entry("", report("n1", "t1", TaskState.RUNNING)));
    ok(entry("", report("n1", "t1", TaskState.RUNNING))); // repeated report: no-op
    fails(entry("", report("n1", "t1", TaskState.STARTING)), "FAILED_PRECONDITION",
        "cannot move back from RUNNING to STARTING");
    ok(entry("", report("n1", "t1", TaskState.COMPLETE)));
    fails(entry("", report("n1", "t1", TaskState.FAILED)), "FAILED_PRECONDITION", "already ended COMPLETE");
    fails(entry("", plan(Plan.newBuilder().addPending(Plan.Pending.newBuilder().setTaskId("t1")))),
        "FAILED_PRECONDITION", "cannot become PENDING");
    fails(entry("", report("n1", "nope", TaskState.RUNNING)), "NOT_FOUND", "task nope not found");
  }

  @Test
  void aRunningReportThatOnlyChangesHealthIsRecordedButNeverMovesBack() {
    ok(entry("", createService("s1", spec("web", 1)), registerNode("n1", 0, 0)));
    setUpTask("t1", 0, 0);
    Applier.Outcome assigned = applyOutcome(entry("", plan(Plan.newBuilder().addAssignments(assignment("t1", "n1")))));
    assertThat(assigned.progressOnly()).as("a placement is not an agent's progress report").isFalse();
    Applier.Outcome accepted = applyOutcome(entry("", health("t1", TaskState.ACCEPTED, "")));
    assertThat(accepted.events()).hasSize(1);
    assertThat(accepted.progressOnly()).as("ASSIGNED -> ACCEPTED: the task progressed").isTrue();
    Applier.Outcome running = applyOutcome(entry("", health("t1", TaskState.RUNNING, "starting")));
    assertThat(running.progressOnly()).as("ACCEPTED -> RUNNING: the task progressed").isTrue();
    Applier.Outcome flip = applyOutcome(entry("", health("t1", TaskState.RUNNING, "healthy")));
    assertThat(flip.events()).hasSize(1);
    assertThat(flip.progressOnly()).as("only the container health moved").isTrue();
    assertThat(store.read((StoreView v) -> v.task("t1")).orElseThrow().getStatus().getContainer().getHealth())
        .isEqualTo("healthy");
    String before = store.digest();
    ok(entry("", health("t1", TaskState.RUNNING, "healthy"))); // unchanged health: a no-op
    assertThat(store.digest()).isEqualTo(before);
    fails(entry("", health("t1", TaskState.STARTING, "unhealthy")), "FAILED_PRECONDITION",
        "cannot move back from RUNNING to STARTING");
    Applier.Outcome ended = applyOutcome(entry("", health("t1", TaskState.FAILED, "unhealthy")));
    assertThat(ended.events()).hasSize(1);
    assertThat(ended.progressOnly()).as("an end is not progress").isFalse();
    fails(entry("", health("t1", TaskState.RUNNING, "healthy")), "FAILED_PRECONDITION", "already ended FAILED");
  }

  private static dev.berth.internal.v1.Command health(String taskId, TaskState state, String health) {
    return dev.berth.internal.v1.Command.newBuilder().setReportTaskStatus(
        dev.berth.internal.v1.ReportTaskStatus.newBuilder().setNodeId("n1").addChanges(
            dev.berth.internal.v1.TaskStatusChange.newBuilder().setTaskId(taskId).setStatus(
                dev.berth.api.v1.TaskStatus.newBuilder().setState(state).setContainer(
                    dev.berth.api.v1.ContainerStatus.newBuilder().setHealth(health))))).build();
  }

  @Test
  void removeServiceStopsPlacedTasksAndDeletesUnplacedOnes() {
    ok(entry("", createService("s1", spec("web", 2)), registerNode("n1", 0, 0)));
    setUpTask("t1", 0, 0);
    setUpTask("t2", 0, 0);
    ok(entry("", plan(Plan.newBuilder().addAssignments(assignment("t1", "n1")))));
    fails(entry("", plan(Plan.newBuilder().addDeleteTasks("t1"))), "FAILED_PRECONDITION", "is still ASSIGNED");
    ok(entry("", Command.newBuilder().setRemoveService(RemoveService.newBuilder().setId("web")).build()));
    assertThat(store.read((StoreView v) -> v.task("t2"))).isEmpty();
    assertThat(store.read((StoreView v) -> v.task("t1").orElseThrow().getDesiredState())).isEqualTo(TaskState.REMOVE);
    assertThat(store.read((StoreView v) -> v.tasksOfService("s1"))).hasSize(1);
  }

  @Test
  void networksGetDistinctSubnetsAndVnis() {
    ok(entry("", Command.newBuilder().setCreateNetwork(dev.berth.internal.v1.CreateNetwork.newBuilder()
        .setId("net1").setSpec(dev.berth.api.v1.NetworkSpec.newBuilder().setName("front"))).build()));
    ok(entry("", Command.newBuilder().setCreateNetwork(dev.berth.internal.v1.CreateNetwork.newBuilder()
        .setId("net2").setSpec(dev.berth.api.v1.NetworkSpec.newBuilder().setName("back"))).build()));
    var n1 = store.read((StoreView v) -> v.network("net1").orElseThrow());
    var n2 = store.read((StoreView v) -> v.networkByName("back").orElseThrow());
    // 10.20.0.0/20 went to the ingress network init created
    assertThat(n1.getSubnet()).isEqualTo("10.20.16.0/24");
    assertThat(n2.getSubnet()).isEqualTo("10.20.17.0/24");
    assertThat(n1.getVni()).isNotEqualTo(n2.getVni());
    fails(entry("", Command.newBuilder().setCreateNetwork(dev.berth.internal.v1.CreateNetwork.newBuilder()
        .setId("net3").setSpec(dev.berth.api.v1.NetworkSpec.newBuilder().setName("x").setSubnet("10.20.17.128/25")))
        .build()), "FAILED_PRECONDITION", "overlaps 10.20.17.0/24 of network back");
    ServiceSpec attached = spec("web", 1).toBuilder().setTask(spec("web", 1).getTask().toBuilder()
        .addNetworks(dev.berth.api.v1.NetworkAttachmentConfig.newBuilder().setTarget("front"))).build();
    ok(entry("", createService("s1", attached)));
    fails(entry("", Command.newBuilder().setRemoveNetwork(dev.berth.internal.v1.RemoveNetwork.newBuilder()
        .setId("front")).build()), "FAILED_PRECONDITION", "in use by service \"web\"");
  }

  @Test
  void replayingTheSameLogGivesTheSameDigestAndSnapshotRoundTrips() {
    ok(entry("a", createService("s1", spec("web", 2)), registerNode("n1", 0, 0)));
    setUpTask("t1", 0, 0);
    ok(entry("b", plan(Plan.newBuilder().addAssignments(assignment("t1", "n1")))));
    ok(entry("c", report("n1", "t1", TaskState.RUNNING)));
    apply(entry("d", createService("s2", spec("web", 1))));

    ClusterStore replay = new ClusterStore(100, 1000);
    for (int i = 0; i < log.size(); i++) {
      replay.apply(log.get(i), i + 1);
    }
    assertThat(replay.digest()).isEqualTo(store.digest());

    ClusterStore restored = new ClusterStore(100, 1000);
    restored.restore(store.snapshot(() -> null).snapshot());
    assertThat(restored.digest()).isEqualTo(store.digest());
    assertThat(restored.read((StoreView v) -> v.tasksOfNode("n1"))).hasSize(1);
    assertThat(restored.read((StoreView v) -> v.serviceByName("web"))).isPresent();
    // the dedupe table travels in the snapshot
    ApplyResult again = restored.apply(entry("a", createService("s3", spec("z", 1))), index + 1).result();
    assertThat(again.getCreatedIdsList()).containsExactly("s1", "n1");
  }

  @Test
  void emptyEntryAndEmptyCommandAreRejected() {
    fails(LogEntry.newBuilder().build(), "INVALID_ARGUMENT", "at least one command");
    fails(entry("", Command.getDefaultInstance()), "INVALID_ARGUMENT", "no command set");
    fails(entry("", init()), "FAILED_PRECONDITION", "already initialized");
    assertThat(ByteString.EMPTY.isEmpty()).isTrue();
  }
}
