package dev.berth.scheduler;

import static dev.berth.scheduler.Fixtures.CORE;
import static dev.berth.scheduler.Fixtures.MB;

import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeAvailability;
import dev.berth.api.v1.NodeRole;
import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.PortConfig;
import dev.berth.api.v1.Protocol;
import dev.berth.api.v1.SchedulingStrategy;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Random clusters and specs for the property tests. QuickTheories generates the sizes and a seed; this class
 * expands the seed into nodes (labels, roles, states, capacities), services (constraints, preferences,
 * reservations, max per node, strategy, host ports) and already running tasks that fit their nodes.
 */
final class RandomCluster {

  static final String[] ZONES = {"a", "b", "c"};
  static final String[] RACKS = {"r1", "r2", "r3", "r4"};
  static final List<String> CONSTRAINT_POOL = List.of(
      "node.labels.zone==a", "node.labels.zone!=c", "node.labels.rack!=r1", "node.role==worker",
      "node.role!=manager", "node.platform.os==linux", "node.labels.ssd==true", "node.labels.zone==b");
  static final List<String> PREF_POOL = List.of("node.labels.zone", "node.labels.rack");

  final List<Node> nodes = new ArrayList<>();
  final List<Service> services = new ArrayList<>();
  final List<Task> running = new ArrayList<>();
  private final SplittableRandom random;

  /**
   * @param healthyOnly every node ready and active (for spread properties)
   * @param ample nodes big enough that resources never limit (for balance properties)
   */
  RandomCluster(long seed, int nodeCount, int serviceCount, boolean healthyOnly, boolean ample) {
    this.random = new SplittableRandom(seed);
    for (int i = 0; i < nodeCount; i++) {
      Map<String, String> labels = new HashMap<>();
      if (random.nextInt(10) > 0) {
        labels.put("zone", ZONES[random.nextInt(ZONES.length)]);
      }
      labels.put("rack", RACKS[random.nextInt(RACKS.length)]);
      if (random.nextBoolean()) {
        labels.put("ssd", "true");
      }
      long cpu = ample ? 1000 * CORE : (1 + random.nextInt(8)) * CORE;
      long mem = ample ? 1_000_000 * MB : (512L << random.nextInt(6)) * MB;
      Node.Builder b = Fixtures.nodeBuilder("node-" + i, cpu, mem, labels)
          .setRole(random.nextInt(5) == 0 ? NodeRole.MANAGER : NodeRole.WORKER);
      if (!healthyOnly) {
        if (random.nextInt(10) == 0) {
          b.getStatusBuilder().setState(NodeState.NODE_DOWN);
        }
        int a = random.nextInt(10);
        b.getSpecBuilder().setAvailability(a == 0 ? NodeAvailability.DRAIN
            : a == 1 ? NodeAvailability.PAUSE : NodeAvailability.ACTIVE);
      }
      nodes.add(b.build());
    }
    for (int s = 0; s < serviceCount; s++) {
      services.add(randomService("svc-" + s, ample));
    }
  }

  Service randomService(String id, boolean ample) {
    List<String> constraints = new ArrayList<>();
    for (int c = random.nextInt(3); c > 0; c--) {
      constraints.add(CONSTRAINT_POOL.get(random.nextInt(CONSTRAINT_POOL.size())));
    }
    long cpu = ample ? random.nextInt(3) * CORE / 10 : random.nextInt(5) * CORE / 2;
    long mem = ample ? random.nextInt(3) * MB : random.nextInt(5) * 256 * MB;
    int maxPerNode = ample ? 0 : random.nextInt(4);
    TaskSpec spec = Fixtures.spec(cpu, mem, constraints, List.of(), maxPerNode);
    Service.Builder b = Fixtures.serviceBuilder(id, spec);
    if (!ample && random.nextBoolean()) {
      b.getSpecBuilder().setStrategy(SchedulingStrategy.BINPACK);
    }
    if (!ample && random.nextInt(4) == 0) {
      b.getSpecBuilder().getEndpointBuilder().addPorts(PortConfig.newBuilder().setProtocol(Protocol.TCP)
          .setTargetPort(80).setPublishedPort(8000 + random.nextInt(3)).setPublishMode(PortConfig.PublishMode.HOST));
    }
    return b.build();
  }

  /** Picks 0..levels random spread descriptors (distinct, random order). */
  List<String> randomPrefs(int levels) {
    List<String> pool = new ArrayList<>(PREF_POOL);
    List<String> out = new ArrayList<>();
    for (int i = 0; i < levels && !pool.isEmpty(); i++) {
      out.add(pool.remove(random.nextInt(pool.size())));
    }
    return out;
  }

  /** Upserts nodes and services, then up to {@code tasks} running tasks placed only where they fit. */
  ClusterView view(int tasks) {
    ClusterView view = new ClusterView();
    nodes.forEach(view::upsertNode);
    services.forEach(view::upsertService);
    if (running.isEmpty() && !services.isEmpty() && !nodes.isEmpty()) {
      for (int i = 0; i < tasks; i++) {
        Service s = services.get(random.nextInt(services.size()));
        Node n = nodes.get(random.nextInt(nodes.size()));
        NodeInfo info = view.node(n.getMeta().getId());
        var r = s.getSpec().getTask().getResources().getReservations();
        if (info.freeCpu() >= r.getNanoCpus() && info.freeMemory() >= r.getMemoryBytes()
            && s.getSpec().getEndpoint().getPortsCount() == 0) {
          Task t = Fixtures.running("pre-" + i, s, n.getMeta().getId());
          running.add(t);
          view.upsertTask(t);
        }
      }
    } else {
      running.forEach(view::upsertTask);
    }
    return view;
  }

  /** {@code count} unassigned tasks spread over the services. */
  List<Task> batch(int count) {
    List<Task> out = new ArrayList<>();
    for (int i = 0; i < count && !services.isEmpty(); i++) {
      out.add(Fixtures.task("new-" + i, services.get(random.nextInt(services.size()))));
    }
    return out;
  }
}
