package dev.berth.scheduler.bench;

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
import dev.berth.scheduler.ClusterView;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A reproducible benchmark cluster: nodes with zone/rack/ssd labels (a few managers, a few drained), services
 * with a mix of constraints, zone spread preferences, bin-packing and reservations, some running tasks, and a
 * batch of new tasks over the services.
 */
final class BenchCluster {

  static final long CORE = 1_000_000_000L;
  static final long MB = 1L << 20;
  private static final String[] ZONES = {"z1", "z2", "z3", "z4", "z5"};

  final List<Node> nodes = new ArrayList<>();
  final List<Service> services = new ArrayList<>();
  final List<Task> running = new ArrayList<>();
  final List<Task> batch = new ArrayList<>();

  BenchCluster(int nodeCount, int taskCount, int runningPerNode, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    for (int i = 0; i < nodeCount; i++) {
      nodes.add(Node.newBuilder()
          .setMeta(Meta.newBuilder().setId(String.format("node%06d", i)).setVersion(i + 1))
          .setSpec(NodeSpec.newBuilder()
              .putLabels("zone", ZONES[i % ZONES.length])
              .putLabels("rack", "r" + (i / 40))
              .putLabels("ssd", Boolean.toString(r.nextInt(3) == 0))
              .setAvailability(r.nextInt(100) == 0 ? NodeAvailability.DRAIN : NodeAvailability.ACTIVE))
          .setDescription(NodeDescription.newBuilder()
              .setHostname("host-" + i)
              .setPlatform(Platform.newBuilder().setOs("linux").setArchitecture("amd64"))
              .setResources(Resources.newBuilder().setNanoCpus(16 * CORE).setMemoryBytes(64L * 1024 * MB)))
          .setStatus(NodeStatus.newBuilder().setState(NodeState.NODE_READY))
          .setRole(i % 50 == 0 ? NodeRole.MANAGER : NodeRole.WORKER)
          .build());
    }
    int serviceCount = Math.max(10, taskCount / 500);
    for (int s = 0; s < serviceCount; s++) {
      Placement.Builder p = Placement.newBuilder();
      switch (s % 5) {
        case 0:
          p.addConstraints("node.labels.zone==" + ZONES[s % ZONES.length]);
          break;
        case 1:
          p.addConstraints("node.role!=manager").addConstraints("node.labels.ssd==true");
          break;
        case 2:
          p.addPreferences(PlacementPreference.newBuilder().setSpreadDescriptor("node.labels.zone"));
          break;
        case 3:
          p.setMaxReplicasPerNode(4);
          break;
        default:
          break;
      }
      TaskSpec spec = TaskSpec.newBuilder()
          .setResources(ResourceRequirements.newBuilder().setReservations(
              Resources.newBuilder().setNanoCpus(CORE / 20 * (1 + s % 4)).setMemoryBytes(64 * MB * (1 + s % 3))))
          .setPlacement(p)
          .build();
      services.add(Service.newBuilder()
          .setMeta(Meta.newBuilder().setId(String.format("svc%04d", s)))
          .setSpec(ServiceSpec.newBuilder().setName("svc-" + s).setTask(spec)
              .setStrategy(s % 7 == 6 ? SchedulingStrategy.BINPACK : SchedulingStrategy.SPREAD)
              .setReplicated(ReplicatedService.newBuilder().setReplicas(taskCount / serviceCount)))
          .build());
    }
    int t = 0;
    for (Node n : nodes) {
      for (int k = 0; k < runningPerNode; k++) {
        Service s = services.get(r.nextInt(services.size()));
        running.add(task("run" + t++, s).setNodeId(n.getMeta().getId())
            .setStatus(TaskStatus.newBuilder().setState(TaskState.RUNNING)).build());
      }
    }
    for (int i = 0; i < taskCount; i++) {
      batch.add(task("new" + i, services.get(r.nextInt(services.size()))).build());
    }
  }

  private static Task.Builder task(String id, Service s) {
    return Task.newBuilder()
        .setMeta(Meta.newBuilder().setId(id))
        .setServiceId(s.getMeta().getId())
        .setServiceName(s.getSpec().getName())
        .setSpec(s.getSpec().getTask())
        .setDesiredState(TaskState.RUNNING)
        .setStatus(TaskStatus.newBuilder().setState(TaskState.PENDING));
  }

  ClusterView view() {
    ClusterView view = new ClusterView();
    nodes.forEach(view::upsertNode);
    services.forEach(view::upsertService);
    running.forEach(view::upsertTask);
    return view;
  }
}
