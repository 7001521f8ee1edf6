package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.JsonFormat;
import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.EndpointSpec;
import dev.berth.api.v1.GlobalService;
import dev.berth.api.v1.ListServicesResponse;
import dev.berth.api.v1.ListTasksRequest;
import dev.berth.api.v1.ListTasksResponse;
import dev.berth.api.v1.ManagerStatus;
import dev.berth.api.v1.Meta;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeDescription;
import dev.berth.api.v1.NodeRole;
import dev.berth.api.v1.NodeSpec;
import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.NodeStatus;
import dev.berth.api.v1.Placement;
import dev.berth.api.v1.PortConfig;
import dev.berth.api.v1.ReplicaCount;
import dev.berth.api.v1.ReplicatedService;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import dev.berth.api.v1.TaskUsage;
import org.junit.jupiter.api.Test;

/** Tables and JSON printed by ls / ps / inspect. */
class OutputTest extends InProcessClusterTest {
  private static final long NOW = CliHarness.NOW.toEpochMilli();

  private static Service service(String id, String name, ServiceSpec.Builder spec) {
    return Service.newBuilder().setMeta(Meta.newBuilder().setId(id).setVersion(3)).setSpec(spec.setName(name)).build();
  }

  private void seedServices() {
    server.listServices = ListServicesResponse.newBuilder()
        .addServices(service("zzzzzzzzzzzzzzzzzzzzzzzz1", "web", ServiceSpec.newBuilder()
            .setReplicated(ReplicatedService.newBuilder().setReplicas(3))
            .setTask(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage("nginx:1.27"))
                .setPlacement(Placement.newBuilder().setMaxReplicasPerNode(2)))
            .setEndpoint(EndpointSpec.newBuilder().addPorts(PortConfig.newBuilder().setPublishedPort(8080).setTargetPort(80)))))
        .addServices(service("aaaaaaaaaaaaaaaaaaaaaaaa2", "agent", ServiceSpec.newBuilder()
            .setGlobal(GlobalService.getDefaultInstance())
            .setTask(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage("busybox")))))
        .putReplicaCounts("zzzzzzzzzzzzzzzzzzzzzzzz1", ReplicaCount.newBuilder().setRunning(2).setDesired(3).build())
        .putReplicaCounts("aaaaaaaaaaaaaaaaaaaaaaaa2", ReplicaCount.newBuilder().setRunning(4).setDesired(4).build())
        .setIndex(77)
        .build();
  }

  @Test
  void serviceLsTable() {
    seedServices();
    CliHarness.Result r = cli.run("service", "ls");
    assertThat(r.exit()).isZero();
    assertThat(r.out()).isEqualTo(String.join("\n",
        "ID             NAME    MODE         REPLICAS               IMAGE        PORTS",
        "aaaaaaaaaaaa   agent   global       4/4                    busybox",
        "zzzzzzzzzzzz   web     replicated   2/3 (max 2 per node)   nginx:1.27   *:8080->80/tcp",
        ""));
  }

  @Test
  void serviceLsJsonIsTheWholeResponse() throws Exception {
    seedServices();
    CliHarness.Result r = cli.run("service", "ls", "--format", "json");
    assertThat(r.exit()).isZero();
    ListServicesResponse.Builder parsed = ListServicesResponse.newBuilder();
    JsonFormat.parser().merge(r.out(), parsed);
    assertThat(parsed.build()).isEqualTo(server.listServices);
  }

  private static Task task(String id, long slot, String node, TaskState state, long agoMs, long createdMs) {
    return Task.newBuilder()
        .setMeta(Meta.newBuilder().setId(id).setCreatedAtMs(createdMs))
        .setServiceId("s1").setServiceName("web").setSlot(slot).setNodeId(node)
        .setSpec(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage("nginx:1.27").setImageDigest("sha256:abc")))
        .setDesiredState(state.getNumber() > TaskState.RUNNING_VALUE ? TaskState.SHUTDOWN : TaskState.RUNNING)
        .setStatus(TaskStatus.newBuilder().setState(state).setTimestampMs(NOW - agoMs))
        .build();
  }

  @Test
  void servicePsShowsSlotsNewestFirstWithHistoryStatesAndErrors() {
    Task pending = task("pppppppppppppppppppppppp3", 3, "", TaskState.PENDING, 2_000, 30).toBuilder()
        .setStatus(TaskStatus.newBuilder().setState(TaskState.PENDING).setTimestampMs(NOW - 2_000)
            .setMessage("no suitable node (insufficient memory on 3 nodes)")).build();
    Task failed = task("ffffffffffffffffffffffff1", 1, "n1", TaskState.FAILED, 3_600_000, 10).toBuilder()
        .setStatus(TaskStatus.newBuilder().setState(TaskState.FAILED).setTimestampMs(NOW - 3_600_000)
            .setErr("exit code 137")).build();
    server.listTasks = ListTasksResponse.newBuilder()
        .addTasks(pending)
        .addTasks(failed)
        .addTasks(task("rrrrrrrrrrrrrrrrrrrrrrrr1", 1, "n1", TaskState.RUNNING, 5_000, 20))
        .addTasks(task("rrrrrrrrrrrrrrrrrrrrrrrr2", 2, "n2", TaskState.RUNNING, 120_000, 20))
        .build();
    server.listNodes = dev.berth.api.v1.ListNodesResponse.newBuilder()
        .addNodes(node("n1", "alpha", NodeRole.WORKER)).addNodes(node("n2", "beta", NodeRole.WORKER)).build();

    CliHarness.Result r = cli.run("service", "ps", "web");

    assertThat(r.err()).isEmpty();
    assertThat(server.received(ListTasksRequest.class)).extracting(ListTasksRequest::getService).containsExactly("web");
    assertThat(r.out()).isEqualTo(String.join("\n",
        "ID             NAME        IMAGE        NODE    DESIRED STATE   CURRENT STATE              ERROR",
        "rrrrrrrrrrrr   web.1       nginx:1.27   alpha   Running         Running 5 seconds ago",
        "ffffffffffff    \\_ web.1   nginx:1.27   alpha   Shutdown        Failed About an hour ago   \"exit code 137\"",
        "rrrrrrrrrrrr   web.2       nginx:1.27   beta    Running         Running 2 minutes ago",
        "pppppppppppp   web.3       nginx:1.27           Running         Pending 2 seconds ago      "
            + "\"no suitable node (insufficient memory o…\"",
        ""));

    CliHarness.Result full = cli.run("service", "ps", "--no-trunc", "web");
    assertThat(full.out()).contains("rrrrrrrrrrrrrrrrrrrrrrrr1", "nginx:1.27@sha256:abc",
        "\"no suitable node (insufficient memory on 3 nodes)\"");
  }

  @Test
  void servicePsShowsUsageColumnsWhenReported() {
    server.listTasks = ListTasksResponse.newBuilder()
        .addTasks(task("rrrrrrrrrrrrrrrrrrrrrrrr1", 1, "n1", TaskState.RUNNING, 5_000, 20).toBuilder()
            .setUsage(TaskUsage.newBuilder().setNanoCpus(250_000_000).setMemoryBytes(48L << 20).setSampledAtMs(NOW)))
        .build();
    CliHarness.Result r = cli.run("service", "ps", "web");
    assertThat(r.out().lines().toList()).containsExactly(
        "ID             NAME    IMAGE        NODE   DESIRED STATE   CURRENT STATE           ERROR   CPU     MEM",
        "rrrrrrrrrrrr   web.1   nginx:1.27   n1     Running         Running 5 seconds ago           25.0%   48MiB");
  }

  @Test
  void servicePsJsonIsAnArrayOfTasks() {
    server.listTasks = ListTasksResponse.newBuilder()
        .addTasks(task("rrrrrrrrrrrrrrrrrrrrrrrr1", 1, "n1", TaskState.RUNNING, 5_000, 20)).build();
    CliHarness.Result r = cli.run("service", "ps", "web", "--format", "json");
    assertThat(r.out()).startsWith("[\n  {").endsWith("}\n]\n").contains("\"serviceName\": \"web\"");
  }

  private static Node node(String id, String hostname, NodeRole role) {
    return Node.newBuilder().setMeta(Meta.newBuilder().setId(id))
        .setDescription(NodeDescription.newBuilder().setHostname(hostname).setEngineVersion("berth 0.1"))
        .setStatus(NodeStatus.newBuilder().setState(NodeState.NODE_READY))
        .setRole(role).build();
  }

  @Test
  void nodeLsTable() {
    server.listNodes = dev.berth.api.v1.ListNodesResponse.newBuilder()
        .addNodes(node("n3", "gamma", NodeRole.WORKER).toBuilder()
            .setStatus(NodeStatus.newBuilder().setState(NodeState.NODE_DOWN))
            .setSpec(NodeSpec.newBuilder().setAvailability(dev.berth.api.v1.NodeAvailability.DRAIN)))
        .addNodes(node("n1", "alpha", NodeRole.MANAGER).toBuilder()
            .setManagerStatus(ManagerStatus.newBuilder().setLeader(true)))
        .addNodes(node("n2", "beta", NodeRole.MANAGER).toBuilder()
            .setManagerStatus(ManagerStatus.newBuilder().setReachability("reachable")))
        .build();
    CliHarness.Result r = cli.run("node", "ls");
    assertThat(r.out()).isEqualTo(String.join("\n",
        "ID   HOSTNAME   STATUS   AVAILABILITY   MANAGER STATUS   ENGINE VERSION",
        "n1   alpha      Ready    Active         Leader           berth 0.1",
        "n2   beta       Ready    Active         Reachable        berth 0.1",
        "n3   gamma      Down     Drain                           berth 0.1",
        ""));
  }

  @Test
  void nodeInspectShowsTheLeadersUsageReading() {
    Node reporting = node("n1", "alpha", NodeRole.WORKER).toBuilder()
        .setDescription(NodeDescription.newBuilder().setHostname("alpha")
            .setResources(dev.berth.api.v1.Resources.newBuilder().setNanoCpus(4_000_000_000L).setMemoryBytes(8L << 30)))
        .setUsage(dev.berth.api.v1.NodeUsage.newBuilder().setSampledAtMs(NOW - 3_000)
            .setUsed(dev.berth.api.v1.Resources.newBuilder().setNanoCpus(1_500_000_000L).setMemoryBytes(2L << 30)))
        .build();
    server.nodes.put("n1", reporting);
    server.nodes.put("n2", node("n2", "beta", NodeRole.WORKER));

    CliHarness.Result pretty = cli.run("node", "inspect", "--pretty", "n1", "n2");
    assertThat(pretty.exit()).isZero();
    assertThat(pretty.out().lines().toList()).contains(
        "Hostname:       alpha",
        "Resources:      CPUs 4, Memory 8GiB",
        "Usage:          CPUs 1.5 (37.5%), Memory 2GiB (25.0%), sampled 3 seconds ago",
        "Usage:          not reported (the leader holds agents' readings)");

    CliHarness.Result json = cli.run("node", "inspect", "n1");
    assertThat(json.out()).contains("\"usage\": {", "\"nanoCpus\": \"1500000000\"", "\"memoryBytes\": \"2147483648\"");
  }

  @Test
  void serviceInspectPrintsAJsonArray() throws Exception {
    server.putService(service("id1", "web", ServiceSpec.newBuilder().setReplicated(ReplicatedService.newBuilder().setReplicas(2))));
    CliHarness.Result r = cli.run("service", "inspect", "web");
    assertThat(r.exit()).isZero();
    String body = r.out().strip();
    assertThat(body).startsWith("[").endsWith("]");
    Service.Builder parsed = Service.newBuilder();
    JsonFormat.parser().merge(body.substring(1, body.length() - 1), parsed);
    assertThat(parsed.build()).isEqualTo(server.service("web"));
  }
}
