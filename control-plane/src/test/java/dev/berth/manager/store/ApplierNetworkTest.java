package dev.berth.manager.store;

import static dev.berth.manager.store.Fixtures.assignment;
import static dev.berth.manager.store.Fixtures.attachedTask;
import static dev.berth.manager.store.Fixtures.createNetwork;
import static dev.berth.manager.store.Fixtures.createService;
import static dev.berth.manager.store.Fixtures.entry;
import static dev.berth.manager.store.Fixtures.init;
import static dev.berth.manager.store.Fixtures.networked;
import static dev.berth.manager.store.Fixtures.plan;
import static dev.berth.manager.store.Fixtures.registerNode;
import static dev.berth.manager.store.Fixtures.report;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.Network;
import dev.berth.api.v1.NetworkAttachment;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.PortConfig;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import dev.berth.internal.v1.ApplyResult;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.LogEntry;
import dev.berth.internal.v1.Plan;
import dev.berth.internal.v1.RemoveNetwork;
import dev.berth.internal.v1.RemoveNode;
import dev.berth.internal.v1.RemoveService;
import dev.berth.internal.v1.TaskStatusChange;
import dev.berth.manager.ipam.Ipam;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** IPAM as apply drives it: ingress from init, node and task addresses, release, refusals. */
class ApplierNetworkTest {
  private ClusterStore store;
  private long index;

  @BeforeEach
  void setUp() {
    store = new ClusterStore(100, 1000);
    index = 0;
    ok(entry("", init()));
  }

  private ApplyResult ok(LogEntry e) {
    ApplyResult r = store.apply(e, ++index).result();
    assertThat(r.getCode()).as(r.getMessage()).isEqualTo("OK");
    return r;
  }

  private void fails(LogEntry e, String code, String message) {
    String before = store.digest();
    ApplyResult r = store.apply(e, ++index).result();
    assertThat(r.getCode()).as(r.getMessage()).isEqualTo(code);
    assertThat(r.getMessage()).contains(message);
    assertThat(store.digest()).as("state unchanged by a failed entry").isEqualTo(before);
  }

  private Network ingress() {
    return store.read((StoreView v) -> v.networkByName("ingress")).orElseThrow();
  }

  private Node node(String id) {
    return store.read((StoreView v) -> v.node(id)).orElseThrow();
  }

  private Task task(String id) {
    return store.read((StoreView v) -> v.task(id)).orElseThrow();
  }

  private Optional<String> holder(String networkId, String address) throws Exception {
    Ipam ipam = store.read((StoreView v) -> ((StoreState) v).ipam());
    return ipam.holderOf(networkId, address);
  }

  private static Command status(String taskId, TaskState state) {
    return plan(Plan.newBuilder().addStatusChanges(TaskStatusChange.newBuilder().setTaskId(taskId)
        .setStatus(TaskStatus.newBuilder().setState(state))));
  }

  @Test
  void aThousandNodesEachGetAnIngressAddress() {
    // a /24 ingress refused the 254th registration (RESOURCE_EXHAUSTED), and agents retried
    java.util.Set<String> addresses = new java.util.HashSet<>();
    for (int n = 0; n < 1000; n++) {
      ok(entry("", registerNode("n" + n, 0, 0)));
      assertThat(addresses.add(node("n" + n).getIngressAttachment().getAddress())).isTrue();
    }
    assertThat(addresses).hasSize(1000);
  }

  @Test
  void initCreatesIngressAndEveryNodeGetsAnAddressOnItUntilRemoved() throws Exception {
    Network in = ingress();
    assertThat(in.getSpec().getIngress()).isTrue();
    assertThat(in.getSubnet()).as("a /20: one address per node").isEqualTo("10.20.0.0/20");
    assertThat(in.getVni()).isEqualTo(4096);
    ok(entry("", registerNode("n1", 0, 0), registerNode("n2", 0, 0)));
    NetworkAttachment a1 = node("n1").getIngressAttachment();
    assertThat(a1.getNetworkId()).isEqualTo(in.getMeta().getId());
    assertThat(a1.getAddress()).isEqualTo("10.20.0.2/20");
    assertThat(a1.getMac()).isEqualTo("02:42:0a:14:00:02");
    assertThat(node("n2").getIngressAttachment().getAddress()).isEqualTo("10.20.0.3/20");
    assertThat(ingress().getIpamCursor()).as("cursor stored with the network").isEqualTo(3);
    assertThat(holder(in.getMeta().getId(), "10.20.0.3")).contains("node/n2");

    ok(entry("", Command.newBuilder().setRemoveNode(RemoveNode.newBuilder().setId("n2").setForce(true)).build()));
    assertThat(holder(in.getMeta().getId(), "10.20.0.3")).isEmpty();
    ok(entry("", registerNode("n3", 0, 0)));
    assertThat(node("n3").getIngressAttachment().getAddress()).as("next-fit").isEqualTo("10.20.0.4/20");
  }

  @Test
  void tasksGetAddressesAtCreationAndKeepThemUntilConfirmedFinishedOrDeleted() throws Exception {
    ok(entry("", createNetwork("front", "front", "10.30.0.0/29"), registerNode("n1", 0, 0)));
    ok(entry("", createService("s1", networked("web", 8080, "front"))));
    ok(entry("", plan(Plan.newBuilder().addCreateTasks(attachedTask("t1", "s1", "front"))
        .addCreateTasks(attachedTask("t2", "s1", "front")).addCreateTasks(attachedTask("t3", "s1", "front")))));
    String ingressId = ingress().getMeta().getId();
    Task t1 = task("t1");
    assertThat(t1.getNetworksList()).extracting(NetworkAttachment::getNetworkId)
        .as("publishing ports joins ingress too").containsExactly("front", ingressId);
    assertThat(t1.getNetworks(0).getAddress()).isEqualTo("10.30.0.2/29");
    assertThat(task("t2").getNetworks(0).getAddress()).isEqualTo("10.30.0.3/29");
    assertThat(task("t3").getNetworks(0).getAddress()).isEqualTo("10.30.0.4/29");
    assertThat(store.read((StoreView v) -> v.network("front")).orElseThrow().getIpamCursor()).isEqualTo(4);

    ok(entry("", plan(Plan.newBuilder().addAssignments(assignment("t1", "n1"))
        .addAssignments(assignment("t2", "n1")))));
    // The manager gives up on t1 (node gone quiet): its container may still run, so it keeps its address.
    ok(entry("", status("t1", TaskState.ORPHANED)));
    assertThat(holder("front", "10.30.0.2")).contains("task/t1");
    // The agent confirms t2 failed: its addresses go back (on both networks).
    ok(entry("", report("n1", "t2", TaskState.FAILED)));
    assertThat(holder("front", "10.30.0.3")).isEmpty();
    assertThat(holder(ingressId, task("t2").getNetworks(1).getAddress())).isEmpty();
    // Deleting the orphan from the store frees its address.
    ok(entry("", plan(Plan.newBuilder().addDeleteTasks("t1"))));
    assertThat(holder("front", "10.30.0.2")).isEmpty();
    // Next-fit wraps past the cursor: .5, .6, then the freed .2.
    ok(entry("", plan(Plan.newBuilder().addCreateTasks(attachedTask("t4", "s1", "front"))
        .addCreateTasks(attachedTask("t5", "s1", "front")).addCreateTasks(attachedTask("t6", "s1", "front")))));
    assertThat(List.of("t4", "t5", "t6")).extracting(id -> task(id).getNetworks(0).getAddress())
        .containsExactly("10.30.0.5/29", "10.30.0.6/29", "10.30.0.2/29");
    // .3 is free again but the network is otherwise full: one more fits, the next is refused whole.
    ok(entry("", plan(Plan.newBuilder().addCreateTasks(attachedTask("t7", "s1", "front")))));
    fails(entry("", plan(Plan.newBuilder().addCreateTasks(attachedTask("t8", "s1", "front")))),
        "RESOURCE_EXHAUSTED", "network front (10.30.0.0/29) has no free address");
  }

  @Test
  void aPlanCarryingAnAddressIsRevalidatedAndADuplicateRejected() {
    ok(entry("", createNetwork("front", "front", "10.30.0.0/24")));
    ok(entry("", createService("s1", networked("web", 0, "front"))));
    ok(entry("", plan(Plan.newBuilder().addCreateTasks(attachedTask("t1", "s1", "front")))));
    Task dup = attachedTask("t2", "s1").toBuilder().addNetworks(NetworkAttachment.newBuilder()
        .setNetworkId("front").setAddress("10.30.0.2/24")).build();
    fails(entry("", plan(Plan.newBuilder().addCreateTasks(dup))), "FAILED_PRECONDITION",
        "address 10.30.0.2 on network front is already held by task/t1");
    Task outside = attachedTask("t2", "s1").toBuilder().addNetworks(NetworkAttachment.newBuilder()
        .setNetworkId("front").setAddress("10.31.0.2/24")).build();
    fails(entry("", plan(Plan.newBuilder().addCreateTasks(outside))), "INVALID_ARGUMENT",
        "not a usable host address of network front");
    Task free = attachedTask("t2", "s1").toBuilder().addNetworks(NetworkAttachment.newBuilder()
        .setNetworkId("front").setAddress("10.30.0.77/24")).build();
    ok(entry("", plan(Plan.newBuilder().addCreateTasks(free))));
    assertThat(task("t2").getNetworks(0).getMac()).isEqualTo("02:42:0a:1e:00:4d");
    Task unknown = attachedTask("t3", "s1", "nope");
    fails(entry("", plan(Plan.newBuilder().addCreateTasks(unknown))), "NOT_FOUND",
        "plan.create_tasks[0].networks[0].network_id: network nope not found");
  }

  @Test
  void servicesNameExistingNonIngressNetworks() {
    fails(entry("", createService("s1", networked("web", 0, "nope"))), "NOT_FOUND",
        "spec.task.networks[0].target: network \"nope\" not found");
    fails(entry("", createService("s1", networked("web", 0, "ingress"))), "INVALID_ARGUMENT",
        "spec.task.networks[0].target: \"ingress\" is the routing-mesh network");
  }

  @Test
  void networkRemovalIsRefusedNamingServicesPublishersAndUnfinishedHolders() {
    ok(entry("", createNetwork("front", "front", ""), registerNode("n1", 0, 0)));
    ok(entry("", createService("s1", networked("web", 8080, "front")),
        createService("s2", networked("api", 0, "front"))));
    fails(entry("", removeNetwork("front")), "FAILED_PRECONDITION",
        "network \"front\" is in use by services \"api\", \"web\"");
    fails(entry("", removeNetwork("ingress")), "FAILED_PRECONDITION",
        "network \"ingress\" carries the published ports of service \"web\"");
    ok(entry("", plan(Plan.newBuilder().addCreateTasks(attachedTask("t1", "s2", "front"))
        .addAssignments(assignment("t1", "n1")))));
    ok(entry("", removeService("s1"), removeService("s2")));
    fails(entry("", removeNetwork("front")), "FAILED_PRECONDITION",
        "network \"front\" still has addresses held by tasks that have not finished yet: api (task t1)");
    ok(entry("", report("n1", "t1", TaskState.SHUTDOWN)));
    ok(entry("", removeNetwork("front")));
    // No service publishes any more: ingress may go, and the nodes' addresses with it.
    ok(entry("", removeNetwork("ingress")));
    assertThat(node("n1").hasIngressAttachment()).isFalse();
    fails(entry("", createService("s3", networked("web", 8080))), "FAILED_PRECONDITION",
        "no ingress network");
  }

  @Test
  void aPortPublishedThroughTheMeshBelongsToOneService() {
    ok(entry("", createService("s1", networked("web", 8080))));
    fails(entry("", createService("s2", networked("api", 8080))), "FAILED_PRECONDITION",
        "spec.endpoint.ports[0].published_port: 8080/tcp is already published by service \"web\" (ingress mode)");
    ServiceSpec hostMode = withPort(networked("api", 0), PortConfig.PublishMode.HOST, 8080);
    fails(entry("", createService("s2", hostMode)), "FAILED_PRECONDITION", "already published by service \"web\"");
    // Host-mode ports only clash per node (the scheduler's concern), and UDP is another port.
    ok(entry("", createService("s2", withPort(networked("api", 0), PortConfig.PublishMode.HOST, 9090))));
    ok(entry("", createService("s3", withPort(networked("db", 0), PortConfig.PublishMode.HOST, 9090))));
    ServiceSpec udp = networked("dns", 0).toBuilder().setEndpoint(dev.berth.api.v1.EndpointSpec.newBuilder()
        .addPorts(PortConfig.newBuilder().setPublishedPort(8080).setTargetPort(53)
            .setProtocol(dev.berth.api.v1.Protocol.UDP))).build();
    ok(entry("", createService("s4", udp)));
    // A service may keep its own port across an update.
    ok(entry("", Command.newBuilder().setUpdateService(dev.berth.internal.v1.UpdateService.newBuilder()
        .setId("s1").setSpec(networked("web", 8080).toBuilder().putLabels("v", "2"))).build()));
    fails(entry("", createService("s5", withPort(networked("x", 0), PortConfig.PublishMode.INGRESS, 0))),
        "INVALID_ARGUMENT", "the routing mesh (mode ingress) needs a published port");
  }

  private static ServiceSpec withPort(ServiceSpec spec, PortConfig.PublishMode mode, int port) {
    return spec.toBuilder().setEndpoint(dev.berth.api.v1.EndpointSpec.newBuilder().addPorts(
        PortConfig.newBuilder().setPublishMode(mode).setPublishedPort(port).setTargetPort(80))).build();
  }

  private static Command removeNetwork(String id) {
    return Command.newBuilder().setRemoveNetwork(RemoveNetwork.newBuilder().setId(id)).build();
  }

  private static Command removeService(String id) {
    return Command.newBuilder().setRemoveService(RemoveService.newBuilder().setId(id)).build();
  }
}
