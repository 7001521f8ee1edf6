package dev.berth.scheduler;

import dev.berth.api.v1.GlobalService;
import dev.berth.api.v1.Meta;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeAvailability;
import dev.berth.api.v1.NodeDescription;
import dev.berth.api.v1.NodeRole;
import dev.berth.api.v1.NodeSpec;
import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.NodeStatus;
import dev.berth.api.v1.Placement;
import dev.berth.api.v1.PlacementPreference;
import dev.berth.api.v1.Platform;
import dev.berth.api.v1.ReplicatedService;
import dev.berth.api.v1.ResourceRequirements;
import dev.berth.api.v1.Resources;
import dev.berth.api.v1.SchedulingStrategy;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import java.util.List;
import java.util.Map;

/** Builders for the proto objects the tests need. */
public final class Fixtures {

  public static final long CORE = 1_000_000_000L;
  public static final long MB = 1024L * 1024;

  private Fixtures() {}

  public static Node.Builder nodeBuilder(String id, long cpu, long memory, Map<String, String> labels) {
    return Node.newBuilder()
        .setMeta(Meta.newBuilder().setId(id))
        .setSpec(NodeSpec.newBuilder().putAllLabels(labels).setAvailability(NodeAvailability.ACTIVE))
        .setDescription(NodeDescription.newBuilder()
            .setHostname("host-" + id)
            .setPlatform(Platform.newBuilder().setOs("linux").setArchitecture("amd64"))
            .setResources(Resources.newBuilder().setNanoCpus(cpu).setMemoryBytes(memory)))
        .setStatus(NodeStatus.newBuilder().setState(NodeState.NODE_READY))
        .setRole(NodeRole.WORKER);
  }

  public static Node node(String id, long cpu, long memory, Map<String, String> labels) {
    return nodeBuilder(id, cpu, memory, labels).build();
  }

  public static Node node(String id) {
    return node(id, 4 * CORE, 8192 * MB, Map.of());
  }

  public static TaskSpec spec(long cpu, long memory, List<String> constraints, List<String> prefs, int maxPerNode) {
    Placement.Builder p = Placement.newBuilder().addAllConstraints(constraints).setMaxReplicasPerNode(maxPerNode);
    prefs.forEach(d -> p.addPreferences(PlacementPreference.newBuilder().setSpreadDescriptor(d)));
    return TaskSpec.newBuilder()
        .setResources(ResourceRequirements.newBuilder()
            .setReservations(Resources.newBuilder().setNanoCpus(cpu).setMemoryBytes(memory)))
        .setPlacement(p)
        .build();
  }

  public static TaskSpec spec(long cpu, long memory) {
    return spec(cpu, memory, List.of(), List.of(), 0);
  }

  public static Service.Builder serviceBuilder(String id, TaskSpec spec) {
    return Service.newBuilder()
        .setMeta(Meta.newBuilder().setId(id))
        .setSpec(ServiceSpec.newBuilder().setName("svc-" + id).setTask(spec)
            .setReplicated(ReplicatedService.newBuilder().setReplicas(1)));
  }

  public static Service service(String id, TaskSpec spec) {
    return serviceBuilder(id, spec).build();
  }

  public static Service binpackService(String id, TaskSpec spec) {
    Service.Builder b = serviceBuilder(id, spec);
    b.getSpecBuilder().setStrategy(SchedulingStrategy.BINPACK);
    return b.build();
  }

  public static Service globalService(String id, TaskSpec spec) {
    Service.Builder b = serviceBuilder(id, spec);
    b.getSpecBuilder().setGlobal(GlobalService.getDefaultInstance());
    return b.build();
  }

  /** An unassigned task of {@code service} with the service's task spec. */
  public static Task task(String id, Service service) {
    return Task.newBuilder()
        .setMeta(Meta.newBuilder().setId(id))
        .setServiceId(service.getMeta().getId())
        .setSpec(service.getSpec().getTask())
        .setDesiredState(TaskState.RUNNING)
        .setStatus(TaskStatus.newBuilder().setState(TaskState.PENDING))
        .build();
  }

  /** A running task of {@code service} on {@code nodeId}. */
  public static Task running(String id, Service service, String nodeId) {
    return task(id, service).toBuilder().setNodeId(nodeId)
        .setStatus(TaskStatus.newBuilder().setState(TaskState.RUNNING)).build();
  }
}
