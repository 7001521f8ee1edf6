package dev.berth.manager.store;

import dev.berth.api.v1.Cluster;
import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.Meta;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeDescription;
import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.NodeStatus;
import dev.berth.api.v1.ReplicatedService;
import dev.berth.api.v1.ResourceRequirements;
import dev.berth.api.v1.Resources;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.CreateService;
import dev.berth.internal.v1.InitCluster;
import dev.berth.internal.v1.LogEntry;
import dev.berth.internal.v1.Plan;
import dev.berth.internal.v1.RegisterNode;
import dev.berth.internal.v1.ReportTaskStatus;
import dev.berth.internal.v1.TaskStatusChange;

/** Builders for log entries used by the store tests. */
final class Fixtures {
  static final String HASH = "a".repeat(64);

  private Fixtures() {}

  static LogEntry entry(String requestId, Command... commands) {
    return LogEntry.newBuilder().setRequestId(requestId).setTimestampMs(1_700_000_000_000L)
        .addAllCommands(java.util.List.of(commands)).build();
  }

  static Command init() {
    return Command.newBuilder().setInitCluster(InitCluster.newBuilder().setCluster(
        Cluster.newBuilder().setMeta(Meta.newBuilder().setId("cluster1")).setName("test")
            .setWorkerTokenHash(HASH).setManagerTokenHash(HASH))).build();
  }

  static ServiceSpec spec(String name, long replicas) {
    return ServiceSpec.newBuilder().setName(name)
        .setReplicated(ReplicatedService.newBuilder().setReplicas(replicas))
        .setTask(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage("busybox")))
        .build();
  }

  static Command createService(String id, ServiceSpec spec) {
    return Command.newBuilder()
        .setCreateService(CreateService.newBuilder().setId(id).setSpec(spec)).build();
  }

  static Command registerNode(String id, long nanoCpus, long memory) {
    return Command.newBuilder().setRegisterNode(RegisterNode.newBuilder().setNode(Node.newBuilder()
        .setMeta(Meta.newBuilder().setId(id))
        .setDescription(NodeDescription.newBuilder().setHostname("host-" + id).setAddr("192.0.2." + (id.hashCode() & 127))
            .setResources(Resources.newBuilder().setNanoCpus(nanoCpus).setMemoryBytes(memory)))
        .setStatus(NodeStatus.newBuilder().setState(NodeState.NODE_READY)))).build();
  }

  static Task newTask(String id, String serviceId, long slot, long cpu, long mem) {
    return Task.newBuilder().setMeta(Meta.newBuilder().setId(id)).setServiceId(serviceId)
        .setSlot(slot).setDesiredState(TaskState.RUNNING)
        .setSpec(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage("busybox"))
            .setResources(ResourceRequirements.newBuilder().setReservations(
                Resources.newBuilder().setNanoCpus(cpu).setMemoryBytes(mem))))
        .setStatus(TaskStatus.newBuilder().setState(TaskState.NEW)).build();
  }

  static Command createNetwork(String id, String name, String subnet) {
    return Command.newBuilder().setCreateNetwork(dev.berth.internal.v1.CreateNetwork.newBuilder().setId(id)
        .setSpec(dev.berth.api.v1.NetworkSpec.newBuilder().setName(name).setSubnet(subnet))).build();
  }

  /** A service on the given networks, publishing {@code published} (0: none) through the mesh. */
  static ServiceSpec networked(String name, int published, String... networks) {
    ServiceSpec.Builder b = spec(name, 1).toBuilder();
    for (String n : networks) {
      b.getTaskBuilder().addNetworks(dev.berth.api.v1.NetworkAttachmentConfig.newBuilder().setTarget(n));
    }
    if (published != 0) {
      b.getEndpointBuilder().addPorts(dev.berth.api.v1.PortConfig.newBuilder()
          .setPublishedPort(published).setTargetPort(80));
    }
    return b.build();
  }

  /** A new task attached (without addresses, as TaskFactory makes it) to the given network ids. */
  static Task attachedTask(String id, String serviceId, String... networkIds) {
    Task.Builder t = newTask(id, serviceId, 1, 0, 0).toBuilder();
    for (String n : networkIds) {
      t.addNetworks(dev.berth.api.v1.NetworkAttachment.newBuilder().setNetworkId(n));
    }
    return t.build();
  }

  static Command plan(Plan.Builder p) {
    return Command.newBuilder().setPlan(p).build();
  }

  static Plan.Assignment assignment(String taskId, String nodeId) {
    return Plan.Assignment.newBuilder().setTaskId(taskId).setNodeId(nodeId).build();
  }

  static Command report(String nodeId, String taskId, TaskState state) {
    return Command.newBuilder().setReportTaskStatus(ReportTaskStatus.newBuilder().setNodeId(nodeId)
        .addChanges(TaskStatusChange.newBuilder().setTaskId(taskId)
            .setStatus(TaskStatus.newBuilder().setState(state)))).build();
  }
}
