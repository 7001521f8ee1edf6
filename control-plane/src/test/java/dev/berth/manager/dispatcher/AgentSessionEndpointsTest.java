package dev.berth.manager.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.Assignments;
import dev.berth.api.v1.Cluster;
import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.ContainerStatus;
import dev.berth.api.v1.Endpoint;
import dev.berth.api.v1.ManagerMessage;
import dev.berth.api.v1.Meta;
import dev.berth.api.v1.Network;
import dev.berth.api.v1.NetworkAttachment;
import dev.berth.api.v1.NetworkAttachmentConfig;
import dev.berth.api.v1.NetworkSpec;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeDescription;
import dev.berth.api.v1.PortConfig;
import dev.berth.api.v1.ReplicatedService;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.CreateNetwork;
import dev.berth.internal.v1.CreateService;
import dev.berth.internal.v1.InitCluster;
import dev.berth.internal.v1.LogEntry;
import dev.berth.internal.v1.Plan;
import dev.berth.internal.v1.RegisterNode;
import dev.berth.internal.v1.RemoveNode;
import dev.berth.internal.v1.RemoveService;
import dev.berth.internal.v1.SetNodeStatus;
import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.NodeStatus;
import dev.berth.internal.v1.ReportTaskStatus;
import dev.berth.internal.v1.TaskStatusChange;
import dev.berth.manager.store.ClusterStore;
import dev.berth.manager.store.StoreView;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A session fed by the real store through the {@link AssignmentFeed} gets exactly the endpoint
 * records its node needs: those of the networks its tasks attach to and of ingress, the
 * published services and its own ingress address; first in full, then as deltas.
 */
class AgentSessionEndpointsTest {
  private final ClusterStore store = new ClusterStore(100, 10_000);
  private final List<Assignments> sent = new ArrayList<>();
  private AssignmentFeed feed;
  private AgentSession session;
  private long index;

  @BeforeEach
  void setUp() {
    store.addListener((i, events) -> {
      if (feed != null && !events.isEmpty()) {
        AssignmentFeed.Changes c = feed.apply(i, events);
        session.deliver(c, feed);
      }
    });
    apply(Command.newBuilder().setInitCluster(InitCluster.newBuilder().setCluster(Cluster.newBuilder()
        .setMeta(Meta.newBuilder().setId("c1")).setWorkerTokenHash("a".repeat(64))
        .setManagerTokenHash("a".repeat(64)))).build());
    apply(register("n1"), register("n2"), register("n3"), network("front"), network("back"));
    apply(service("web", 8080, "front"), service("db", 0, "back"));
    apply(plan(Plan.newBuilder().addCreateTasks(task("w1", "web", "front"))
        .addCreateTasks(task("w2", "web", "front")).addCreateTasks(task("d1", "db", "back"))
        .addAssignments(assign("w1", "n1")).addAssignments(assign("w2", "n2"))
        .addAssignments(assign("d1", "n3"))));
    apply(report("n1", "w1", TaskState.RUNNING, ""));
  }

  private void apply(Command... commands) {
    LogEntry e = LogEntry.newBuilder().setTimestampMs(1).addAllCommands(List.of(commands)).build();
    String code = store.apply(e, ++index).result().getCode();
    assertThat(code).as(store.read((StoreView v) -> "entry " + index)).isEqualTo("OK");
  }

  private void connect() {
    session = new AgentSession("n1", "s1", NodeDescription.getDefaultInstance(), new StreamObserver<>() {
      @Override public void onNext(ManagerMessage m) { sent.add(m.getAssignments()); }
      @Override public void onError(Throwable t) { }
      @Override public void onCompleted() { }
    });
    feed = store.read(AssignmentFeed::build);
    session.sendFull(feed);
  }

  private Assignments last() {
    return sent.get(sent.size() - 1);
  }

  private String ingressId() {
    return store.read((StoreView v) -> v.networkByName("ingress")).orElseThrow().getMeta().getId();
  }

  private static List<String> keys(List<Endpoint> endpoints) {
    return endpoints.stream().map(e -> e.getTaskId() + "/" + e.getNetworkId()).toList();
  }

  @Test
  void fullSetThenDeltasCoverExactlyTheServedNetworks() {
    connect();
    String in = ingressId();
    Assignments full = sent.get(0);
    assertThat(full.getFull()).isTrue();
    assertThat(full.getTasksList()).extracting(t -> t.getMeta().getId()).containsExactly("w1");
    assertThat(full.getNetworksList()).extracting(Network::getMeta).extracting(Meta::getId)
        .containsExactlyInAnyOrder("front", in);
    assertThat(keys(full.getEndpointsList())).containsExactlyInAnyOrder(
        "w1/front", "w2/front", "w1/" + in, "w2/" + in, "node-n2/" + in, "node-n3/" + in);
    Endpoint w1 = full.getEndpointsList().stream().filter(e -> e.getTaskId().equals("w1")
        && e.getNetworkId().equals("front")).findFirst().orElseThrow();
    Task stored = store.read((StoreView v) -> v.task("w1")).orElseThrow();
    assertThat(w1.getAddress()).isEqualTo(stored.getNetworks(0).getAddress());
    assertThat(w1.getMac()).isEqualTo(stored.getNetworks(0).getMac());
    assertThat(w1.getNodeAddr()).isEqualTo("addr-n1");
    assertThat(w1.getServiceName()).isEqualTo("web");
    assertThat(w1.getHealthy()).isTrue();
    assertThat(full.getEndpointsList()).filteredOn(e -> e.getTaskId().equals("w2"))
        .allMatch(e -> !e.getHealthy() && e.getNodeAddr().equals("addr-n2"));
    assertThat(full.getPublishedList()).extracting(p -> p.getServiceName()).containsExactly("web");
    assertThat(full.getIngressAttachment()).isEqualTo(
        store.read((StoreView v) -> v.node("n1")).orElseThrow().getIngressAttachment());

    // w2 runs: its two records change (healthy); nothing else is sent.
    apply(report("n2", "w2", TaskState.RUNNING, ""));
    assertThat(sent).hasSize(2);
    assertThat(keys(last().getEndpointsList())).containsExactlyInAnyOrder("w2/front", "w2/" + in);
    assertThat(last().getEndpointsList()).allMatch(Endpoint::getHealthy);
    assertThat(last().getTasksCount()).isZero();

    // A task on a network n1 does not serve: nothing at all.
    apply(report("n3", "d1", TaskState.RUNNING, ""));
    assertThat(sent).hasSize(2);

    // Failing its health check takes w2 out of rotation.
    apply(report("n2", "w2", TaskState.RUNNING, "unhealthy"));
    assertThat(last().getEndpointsList()).extracting(Endpoint::getHealthy).containsOnly(false);

    // n1 gets a task on back: the task, the network and every record on back arrive.
    apply(plan(Plan.newBuilder().addCreateTasks(task("d2", "db", "back")).addAssignments(assign("d2", "n1"))));
    assertThat(last().getTasksList()).extracting(t -> t.getMeta().getId()).containsExactly("d2");
    assertThat(last().getNetworksList()).extracting(n -> n.getMeta().getId()).containsExactly("back");
    assertThat(keys(last().getEndpointsList())).containsExactlyInAnyOrder("d1/back", "d2/back");

    // w2 ends: its records are removed by key.
    int before = sent.size();
    apply(report("n2", "w2", TaskState.FAILED, ""));
    assertThat(sent).hasSize(before + 1);
    assertThat(last().getRemovedEndpointsList()).containsExactlyInAnyOrder("w2/front", "w2/" + in);
    assertThat(last().getEndpointsCount()).isZero();

    // d2 ends: n1 no longer serves back, so back's records go too.
    apply(report("n1", "d2", TaskState.COMPLETE, ""));
    assertThat(last().getRemovedEndpointsList()).containsExactlyInAnyOrder("d1/back", "d2/back");

    // web is removed: no longer published (and w1 is told to stop).
    apply(Command.newBuilder().setRemoveService(RemoveService.newBuilder().setId("web")).build());
    assertThat(last().getRemovedPublishedList()).containsExactly("web");
    assertThat(last().getTasksList()).extracting(Task::getDesiredState).containsExactly(TaskState.REMOVE);
    assertThat(last().getEndpointsList()).extracting(Endpoint::getTaskId).containsOnly("w1");
    assertThat(last().getEndpointsList()).noneMatch(Endpoint::getHealthy);
    assertThat(sent).extracting(Assignments::getSeq).containsExactly(
        java.util.stream.LongStream.rangeClosed(1, sent.size()).boxed().toArray(Long[]::new));
  }

  @Test
  void otherNodesIngressAddressesAreSentButNeverTheNodesOwn() {
    connect();
    String in = ingressId();
    Node n2 = store.read((StoreView v) -> v.node("n2")).orElseThrow();
    Endpoint rec = sent.get(0).getEndpointsList().stream()
        .filter(e -> e.getTaskId().equals("node-n2")).findFirst().orElseThrow();
    assertThat(rec.getNetworkId()).isEqualTo(in);
    assertThat(rec.getAddress()).isEqualTo(n2.getIngressAttachment().getAddress()).isNotEmpty();
    assertThat(rec.getMac()).isEqualTo(n2.getIngressAttachment().getMac()).isNotEmpty();
    assertThat(rec.getNodeId()).isEqualTo("n2");
    assertThat(rec.getNodeAddr()).isEqualTo("addr-n2");
    assertThat(rec.getServiceId()).isEmpty();
    assertThat(rec.getServiceName()).isEmpty();
    assertThat(rec.getHealthy()).isTrue();
    assertThat(sent.get(0).getEndpointsList()).noneMatch(e -> e.getTaskId().equals("node-n1"));

    // A new node joins: its record arrives as a delta.
    apply(register("n4"));
    assertThat(keys(last().getEndpointsList())).containsExactly("node-n4/" + in);

    // n2 comes back with another underlay address: its record changes.
    apply(status("n2", "addr-n2b"));
    assertThat(last().getEndpointsList()).filteredOn(e -> e.getTaskId().equals("node-n2"))
        .extracting(Endpoint::getNodeAddr).containsExactly("addr-n2b");

    // n1's own address changes: it is told nothing about a record of itself.
    int before = sent.size();
    apply(status("n1", "addr-n1b"));
    assertThat(sent.subList(before, sent.size())).allSatisfy(a -> {
      assertThat(a.getEndpointsList()).noneMatch(e -> e.getTaskId().equals("node-n1"));
      assertThat(a.getRemovedEndpointsList()).noneMatch(k -> k.startsWith("node-n1/"));
    });

    // n4 is removed: its record is removed by key.
    apply(Command.newBuilder().setRemoveNode(RemoveNode.newBuilder().setId("n4").setForce(true)).build());
    assertThat(last().getRemovedEndpointsList()).containsExactly("node-n4/" + in);

    // A reconnect gets the current set in full.
    sent.clear();
    connect();
    assertThat(sent.get(0).getEndpointsList()).filteredOn(e -> e.getTaskId().startsWith("node-"))
        .extracting(Endpoint::getTaskId, Endpoint::getNodeAddr)
        .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple("node-n2", "addr-n2b"),
            org.assertj.core.groups.Tuple.tuple("node-n3", "addr-n3"));
  }

  @Test
  void aDownNodesIngressRecordIsRemovedAndComesBackWhenItIsUpAgain() {
    apply(status("n2", "addr-n2"), status("n3", "addr-n3"));
    connect();
    String in = ingressId();
    Endpoint upRecord = sent.get(0).getEndpointsList().stream()
        .filter(e -> e.getTaskId().equals("node-n2")).findFirst().orElseThrow();

    apply(down("n2"));
    assertThat(last().getRemovedEndpointsList()).containsExactly("node-n2/" + in);
    assertThat(last().getEndpointsList()).noneMatch(e -> e.getTaskId().startsWith("node-"));

    // Further changes of the down node send nothing about its record; a reconnect's full set lacks it.
    int before = sent.size();
    apply(down("n2"));
    assertThat(sent.subList(before, sent.size())).allSatisfy(a ->
        assertThat(a.getRemovedEndpointsList()).noneMatch(k -> k.startsWith("node-n2/")));
    sent.clear();
    connect();
    assertThat(sent.get(0).getEndpointsList()).filteredOn(e -> e.getTaskId().startsWith("node-"))
        .extracting(Endpoint::getTaskId).containsExactly("node-n3");

    apply(status("n2", "addr-n2"));
    assertThat(last().getEndpointsList()).filteredOn(e -> e.getTaskId().equals("node-n2"))
        .containsExactly(upRecord);
  }

  // ---------------------------------------------------------------- entries

  private static Command down(String id) {
    return Command.newBuilder().setSetNodeStatus(SetNodeStatus.newBuilder().addChanges(
        SetNodeStatus.Change.newBuilder().setNodeId(id)
            .setStatus(NodeStatus.newBuilder().setState(NodeState.NODE_DOWN).setMessage("heartbeat missed"))))
        .build();
  }

  private static Command status(String id, String addr) {
    return Command.newBuilder().setSetNodeStatus(SetNodeStatus.newBuilder().addChanges(
        SetNodeStatus.Change.newBuilder().setNodeId(id)
            .setStatus(NodeStatus.newBuilder().setState(NodeState.NODE_READY))
            .setDescription(NodeDescription.newBuilder().setHostname(id).setAddr(addr)))).build();
  }

  private static Command register(String id) {
    return Command.newBuilder().setRegisterNode(RegisterNode.newBuilder().setNode(Node.newBuilder()
        .setMeta(Meta.newBuilder().setId(id))
        .setDescription(NodeDescription.newBuilder().setHostname(id).setAddr("addr-" + id)))).build();
  }

  private static Command network(String name) {
    return Command.newBuilder().setCreateNetwork(CreateNetwork.newBuilder().setId(name)
        .setSpec(NetworkSpec.newBuilder().setName(name))).build();
  }

  private static Command service(String name, int published, String network) {
    ServiceSpec.Builder s = ServiceSpec.newBuilder().setName(name)
        .setReplicated(ReplicatedService.newBuilder().setReplicas(1))
        .setTask(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage("busybox"))
            .addNetworks(NetworkAttachmentConfig.newBuilder().setTarget(network)));
    if (published != 0) {
      s.getEndpointBuilder().addPorts(PortConfig.newBuilder().setPublishedPort(published).setTargetPort(80));
    }
    return Command.newBuilder().setCreateService(CreateService.newBuilder().setId(name).setSpec(s)).build();
  }

  private static Task task(String id, String service, String network) {
    return Task.newBuilder().setMeta(Meta.newBuilder().setId(id)).setServiceId(service)
        .setDesiredState(TaskState.RUNNING).setStatus(TaskStatus.newBuilder().setState(TaskState.NEW))
        .setSpec(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage("busybox")))
        .addNetworks(NetworkAttachment.newBuilder().setNetworkId(network)).build();
  }

  private static Plan.Assignment assign(String task, String node) {
    return Plan.Assignment.newBuilder().setTaskId(task).setNodeId(node).build();
  }

  private static Command plan(Plan.Builder p) {
    return Command.newBuilder().setPlan(p).build();
  }

  private static Command report(String node, String task, TaskState state, String health) {
    return Command.newBuilder().setReportTaskStatus(ReportTaskStatus.newBuilder().setNodeId(node)
        .addChanges(TaskStatusChange.newBuilder().setTaskId(task).setStatus(TaskStatus.newBuilder()
            .setState(state).setContainer(ContainerStatus.newBuilder().setHealth(health))))).build();
  }
}
