package dev.berth.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.ReplicatedService;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.TaskState;
import dev.berth.manager.dispatcher.DispatcherConfig;
import dev.berth.manager.orchestrator.TaskStates;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The real dispatcher and reconcilers with fake agents on real (in-process) gRPC Session streams. */
class DispatcherIntegrationTest {
  static final Duration WAIT = Duration.ofSeconds(30);

  final FakeAgentFleet fleet = new FakeAgentFleet(2);
  LocalCluster cluster;

  @AfterEach
  void tearDown() {
    fleet.close();
    if (cluster != null) {
      cluster.close();
    }
  }

  LocalCluster start(DispatcherConfig config, long orphanAfterMs) {
    cluster = new LocalCluster(Clock.systemUTC(), config, orphanAfterMs, "m1", "m2");
    assertThat(cluster.init().getCode()).isEqualTo("OK");
    cluster.electLeader("m1");
    return cluster;
  }

  FakeAgent agent(String hostname, List<String> managers) {
    return fleet.start(managers, FakeAgent.Options.of(cluster.workerToken(), hostname));
  }

  static ServiceSpec web(long replicas) {
    return ServiceSpec.newBuilder().setName("web")
        .setTask(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage("registry:5000/web:1")))
        .setReplicated(ReplicatedService.newBuilder().setReplicas(replicas)).build();
  }

  List<Task> liveTasks(String serviceId) {
    return cluster.store().read(v -> v.tasksOfService(serviceId).stream()
        .filter(TaskStates::isLive).collect(Collectors.toList()));
  }

  boolean allRunning(String serviceId, int count) {
    List<Task> live = liveTasks(serviceId);
    return live.size() == count && live.stream().allMatch(t -> t.getStatus().getState() == TaskState.RUNNING);
  }

  NodeState nodeState(FakeAgent agent) {
    return cluster.store().read(v -> v.node(agent.nodeId()).map(Node::getStatus)
        .map(s -> s.getState()).orElse(NodeState.NODE_UNKNOWN));
  }

  @Test
  void aFollowerRedirectsASessionToTheLeader() throws Exception {
    start(DispatcherConfig.defaults(), 60_000);
    FakeAgent agent = agent("h0", List.of("inproc:m1"));
    await().atMost(WAIT).until(() -> nodeState(agent) == NodeState.NODE_READY);

    java.util.concurrent.BlockingQueue<Object> got = new java.util.concurrent.LinkedBlockingQueue<>();
    io.grpc.stub.StreamObserver<dev.berth.api.v1.AgentMessage> requests =
        dev.berth.api.v1.AgentServiceGrpc.newStub(fleet.channels().get("inproc:m2")).session(
            new io.grpc.stub.StreamObserver<>() {
              public void onNext(dev.berth.api.v1.ManagerMessage m) { got.add(m); }
              public void onError(Throwable t) { got.add(t); }
              public void onCompleted() { got.add("completed"); }
            });
    requests.onNext(dev.berth.api.v1.AgentMessage.newBuilder().setOpen(
        dev.berth.api.v1.SessionOpen.newBuilder().setNodeId(agent.nodeId())).build());

    Object first = got.poll(30, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(first).isInstanceOfSatisfying(dev.berth.api.v1.ManagerMessage.class, m -> {
      assertThat(m.getRedirect().getLeader()).isEqualTo("inproc:m1");
      assertThat(m.getRedirect().getManagersList()).containsExactly("inproc:m1", "inproc:m2");
    });
    assertThat(got.poll(30, java.util.concurrent.TimeUnit.SECONDS)).isEqualTo("completed");
    requests.onCompleted();
  }

  @Test
  void agentGetsItsTasksAndItsStatesReachTheStore() {
    start(DispatcherConfig.defaults(), 60_000);
    FakeAgent agent = agent("h1", List.of("inproc:m2", "inproc:m1"));
    await().atMost(WAIT).until(() -> agent.connected() && nodeState(agent) == NodeState.NODE_READY);
    assertThat(agent.connectedTo()).as("registration names the leader first").isEqualTo("inproc:m1");
    Node node = cluster.store().read(v -> v.node(agent.nodeId())).orElseThrow();
    assertThat(node.getDescription().getHostname()).isEqualTo("h1");

    String web = cluster.createService(web(3));
    await().atMost(WAIT).until(() -> allRunning(web, 3));
    assertThat(agent.taskStates()).hasSize(3).containsValues(TaskState.RUNNING);
    assertThat(agent.fullSetsReceived()).as("changes came incrementally after the first full set").isEqualTo(1);

    // Scale down: the agent is told to stop the highest slots and reports SHUTDOWN.
    assertThat(cluster.updateService(web, web(1)).getCode()).isEqualTo("OK");
    await().atMost(WAIT).until(() -> agent.taskStates().values().stream()
        .filter(s -> s == TaskState.SHUTDOWN).count() == 2);
    await().atMost(WAIT).until(() -> cluster.store().read(v -> v.tasksOfService(web).stream()
        .filter(t -> t.getStatus().getState() == TaskState.SHUTDOWN).count()) == 2);
    assertThat(allRunning(web, 1)).isTrue();
  }

  @Test
  void aNewLeaderSendsTheFullSetAgainAndThenChanges() {
    start(DispatcherConfig.defaults(), 60_000);
    FakeAgent a = agent("a", List.of("inproc:m1", "inproc:m2"));
    FakeAgent b = agent("b", List.of("inproc:m1", "inproc:m2"));
    await().atMost(WAIT).until(() -> nodeState(a) == NodeState.NODE_READY && nodeState(b) == NodeState.NODE_READY);
    String web = cluster.createService(web(4));
    await().atMost(WAIT).until(() -> allRunning(web, 4));

    cluster.electLeader("m2");

    await().atMost(WAIT).until(() -> a.connected() && b.connected()
        && a.connectedTo().equals("inproc:m2") && b.connectedTo().equals("inproc:m2"));
    await().atMost(WAIT).until(() -> a.fullSetsReceived() == 2 && b.fullSetsReceived() == 2);
    assertThat(a.taskStates().size() + b.taskStates().size()).isEqualTo(4);
    // The old leader pointed at the new one. An agent that reaches m2 before m2 has taken over is told
    // to retry there (a redirect to itself), so the count may exceed one; none may point elsewhere.
    assertThat(a.redirectLeaders()).as("the old leader pointed at the new one").isNotEmpty()
        .containsOnly("inproc:m2");

    assertThat(cluster.updateService(web, web(8)).getCode()).isEqualTo("OK");
    await().atMost(WAIT).until(() -> allRunning(web, 8));
    Map<String, TaskState> onAgents = new java.util.HashMap<>(a.taskStates());
    onAgents.putAll(b.taskStates());
    assertThat(onAgents).hasSize(8).containsOnlyKeys(
        liveTasks(web).stream().map(t -> t.getMeta().getId()).toArray(String[]::new));
    assertThat(a.fullSetsReceived()).isEqualTo(2);
  }

  @Test
  void agentsGetTheEndpointRecordsOfTheirNetworksAndOfTheMeshAcrossALeaderChange() {
    start(DispatcherConfig.defaults(), 60_000);
    FakeAgent a = agent("a", List.of("inproc:m1", "inproc:m2"));
    FakeAgent b = agent("b", List.of("inproc:m1", "inproc:m2"));
    await().atMost(WAIT).until(() -> nodeState(a) == NodeState.NODE_READY && nodeState(b) == NodeState.NODE_READY);
    assertThat(cluster.propose(dev.berth.internal.v1.Command.newBuilder().setCreateNetwork(
        dev.berth.internal.v1.CreateNetwork.newBuilder().setId("front-id")
            .setSpec(dev.berth.api.v1.NetworkSpec.newBuilder().setName("front"))).build()).getCode()).isEqualTo("OK");
    ServiceSpec.Builder spec = web(4).toBuilder();
    spec.getTaskBuilder().addNetworks(dev.berth.api.v1.NetworkAttachmentConfig.newBuilder().setTarget("front"));
    spec.getEndpointBuilder().addPorts(dev.berth.api.v1.PortConfig.newBuilder().setPublishedPort(8080).setTargetPort(80));
    String web = cluster.createService(spec.build());
    await().atMost(WAIT).until(() -> allRunning(web, 4));
    String ingress = cluster.store().read(v -> v.networkByName("ingress")).orElseThrow().getMeta().getId();

    // Every task has a record on front and on ingress; both nodes hold all eight, all healthy.
    java.util.Set<String> expected = new java.util.TreeSet<>();
    liveTasks(web).forEach(t -> t.getNetworksList().forEach(n -> expected.add(t.getMeta().getId() + "/" + n.getNetworkId())));
    assertThat(expected).hasSize(8);
    for (FakeAgent agent : List.of(a, b)) {
      await().atMost(WAIT).until(() -> agent.endpoints().keySet().equals(withOtherNodes(expected, agent, ingress))
          && agent.endpoints().values().stream().allMatch(dev.berth.api.v1.Endpoint::getHealthy));
      assertThat(agent.published()).containsOnlyKeys(web);
      assertThat(agent.ingressAttachment()).contains(cluster.store().read(v -> v.node(agent.nodeId()))
          .orElseThrow().getIngressAttachment());
      assertThat(agent.ingressAttachment().orElseThrow().getNetworkId()).isEqualTo(ingress);
    }
    java.util.Set<String> addresses = new java.util.HashSet<>();
    a.endpoints().values().forEach(e -> assertThat(addresses.add(e.getNetworkId() + e.getAddress())).isTrue());

    // After a leader change the full set carries the same records.
    cluster.electLeader("m2");
    await().atMost(WAIT).until(() -> a.fullSetsReceived() == 2 && b.fullSetsReceived() == 2);
    assertThat(a.endpoints().keySet()).isEqualTo(withOtherNodes(expected, a, ingress));

    // Scaling down removes the stopped tasks' records everywhere.
    assertThat(cluster.updateService(web, spec.setReplicated(ReplicatedService.newBuilder().setReplicas(1)).build())
        .getCode()).isEqualTo("OK");
    await().atMost(WAIT).until(() -> liveTasks(web).size() == 1);
    String kept = liveTasks(web).get(0).getMeta().getId();
    for (FakeAgent agent : List.of(a, b)) {
      await().atMost(WAIT).until(() -> agent.endpoints().keySet().stream()
          .allMatch(k -> k.startsWith(kept + "/") || k.startsWith("node-")));
    }
  }

  /**
   * The task records plus the other nodes' own ingress addresses (never the agent's own); only
   * nodes that reported an underlay address get one (these fake agents report none).
   */
  private java.util.Set<String> withOtherNodes(java.util.Set<String> tasks, FakeAgent agent, String ingress) {
    java.util.Set<String> out = new java.util.TreeSet<>(tasks);
    cluster.store().read(v -> List.copyOf(v.nodes())).forEach(n -> {
      if (n.hasIngressAttachment() && !n.getDescription().getAddr().isEmpty()
          && !n.getMeta().getId().equals(agent.nodeId())) {
        out.add("node-" + n.getMeta().getId() + "/" + ingress);
      }
    });
    return out;
  }

  @Test
  void aRunningReportThatChangesOnlyHealthReachesTheStore() {
    start(DispatcherConfig.defaults(), 60_000);
    FakeAgent a = agent("a", List.of("inproc:m1"));
    await().atMost(WAIT).until(() -> nodeState(a) == NodeState.NODE_READY);
    String web = cluster.createService(web(1));
    await().atMost(WAIT).until(() -> allRunning(web, 1));
    String id = liveTasks(web).get(0).getMeta().getId();

    assertThat(a.sendRawReport(id, dev.berth.api.v1.TaskStatus.newBuilder().setState(TaskState.RUNNING)
        .setContainer(dev.berth.api.v1.ContainerStatus.newBuilder().setHealth("unhealthy")).build())).isTrue();

    await().atMost(WAIT).until(() -> cluster.store().read(v -> v.task(id)).orElseThrow()
        .getStatus().getContainer().getHealth().equals("unhealthy"));
    assertThat(cluster.store().read(v -> v.task(id)).orElseThrow().getStatus().getState())
        .isEqualTo(TaskState.RUNNING);
    assertThat(cluster.manager("m1").dispatcher().refusedReports()).isZero();
  }

  @Test
  void aReportForATaskOnAnotherNodeIsRefused() {
    start(DispatcherConfig.defaults(), 60_000);
    FakeAgent a = agent("a", List.of("inproc:m1"));
    FakeAgent b = agent("b", List.of("inproc:m1"));
    await().atMost(WAIT).until(() -> nodeState(a) == NodeState.NODE_READY && nodeState(b) == NodeState.NODE_READY);
    String web = cluster.createService(web(2));
    await().atMost(WAIT).until(() -> allRunning(web, 2));
    Task onA = liveTasks(web).stream().filter(t -> t.getNodeId().equals(a.nodeId())).findFirst().orElseThrow();

    assertThat(b.sendRawReport(onA.getMeta().getId(), TaskState.FAILED)).isTrue();

    await().atMost(WAIT).until(() -> cluster.manager("m1").dispatcher().refusedReports() == 1);
    Task after = cluster.store().read(v -> v.task(onA.getMeta().getId())).orElseThrow();
    assertThat(after.getStatus().getState()).isEqualTo(TaskState.RUNNING);
    assertThat(after.getMeta().getVersion()).isEqualTo(onA.getMeta().getVersion());
  }

  @Test
  void aSilentNodeGoesDownAfterTheGraceAndItsTasksMove() {
    // heartbeat every 100 ms, down after 5 missed; tasks move 500 ms after the node is down
    start(DispatcherConfig.defaults().withHeartbeat(100, 5), 500);
    FakeAgent a = agent("a", List.of("inproc:m1"));
    FakeAgent b = agent("b", List.of("inproc:m1"));
    await().atMost(WAIT).until(() -> nodeState(a) == NodeState.NODE_READY && nodeState(b) == NodeState.NODE_READY);
    String web = cluster.createService(web(4));
    await().atMost(WAIT).until(() -> allRunning(web, 4));

    a.pauseHeartbeats(true);
    await().atMost(WAIT).until(() -> nodeState(a) == NodeState.NODE_DOWN);
    Node down = cluster.store().read(v -> v.node(a.nodeId())).orElseThrow();
    // The grace counts from the last heartbeat the leader got (which may precede the pause by up to a
    // period, or follow it while one is in flight), so compare the down time with that, not with the pause.
    long lastHeard = cluster.manager("m1").dispatcher().heartbeats().lastSeenMs(a.nodeId());
    assertThat(down.getStatus().getChangedAtMs() - lastHeard).as("not before the grace period")
        .isGreaterThanOrEqualTo(500);
    assertThat(down.getStatus().getMessage()).startsWith("heartbeat missed");
    assertThat(nodeState(b)).isEqualTo(NodeState.NODE_READY);

    await().atMost(WAIT).until(() -> allRunning(web, 4)
        && liveTasks(web).stream().allMatch(t -> t.getNodeId().equals(b.nodeId())));
    long orphaned = cluster.store().read(v -> v.tasksOfNode(a.nodeId()).stream()
        .filter(t -> t.getStatus().getState() == TaskState.ORPHANED).count());
    assertThat(orphaned).isEqualTo(2);
  }

  @Test
  void aBadJoinTokenIsRefusedAndRegistersNothing() {
    start(DispatcherConfig.defaults(), 60_000);
    io.grpc.StatusRuntimeException refused = org.junit.jupiter.api.Assertions.assertThrows(
        io.grpc.StatusRuntimeException.class,
        () -> dev.berth.api.v1.AgentServiceGrpc.newBlockingStub(fleet.channels().get("inproc:m1"))
            .register(dev.berth.api.v1.RegisterRequest.newBuilder()
                .setToken("BERTH-1-placeholder-wrongsecret").build()));
    assertThat(refused.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.UNAUTHENTICATED);
    assertThat(refused.getStatus().getDescription()).contains("token");
    int nodes = cluster.store().read(v -> v.nodes().size());
    assertThat(nodes).isZero();
  }

  @Test
  void failedTasksAreRestartedInTheirSlotThroughTheRealStore() {
    start(DispatcherConfig.defaults(), 60_000);
    FakeAgent agent = fleet.start(List.of("inproc:m1"),
        FakeAgent.Options.of(cluster.workerToken(), "flaky").withFailures(t -> t.getAttempt() == 0));
    await().atMost(WAIT).until(() -> nodeState(agent) == NodeState.NODE_READY);

    String web = cluster.createService(web(2));

    await().atMost(WAIT).until(() -> allRunning(web, 2));
    List<Task> all = cluster.store().read(v -> List.copyOf(v.tasksOfService(web)));
    assertThat(liveTasks(web)).allMatch(t -> t.getAttempt() == 1)
        .extracting(Task::getSlot).containsExactlyInAnyOrder(1L, 2L);
    assertThat(all).filteredOn(t -> t.getAttempt() == 0).hasSize(2).allSatisfy(t -> {
      assertThat(t.getStatus().getState()).isEqualTo(TaskState.FAILED);
      assertThat(t.getStatus().getErr()).isEqualTo("simulated start failure");
      assertThat(t.getDesiredState()).isEqualTo(TaskState.SHUTDOWN);
    });
  }
}
