package dev.berth.manager.orchestrator;

import dev.berth.api.v1.WatchEvent;
import dev.berth.manager.store.StoreListener;

import dev.berth.api.v1.Cluster;
import dev.berth.api.v1.Meta;
import dev.berth.api.v1.Network;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeAvailability;
import dev.berth.api.v1.NodeDescription;
import dev.berth.api.v1.NodeSpec;
import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.NodeStatus;
import dev.berth.api.v1.ReplicatedService;
import dev.berth.api.v1.Resources;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.GlobalService;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.Plan;
import dev.berth.internal.v1.TaskStatusChange;
import dev.berth.manager.store.StoreView;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * A mutable in-memory {@link StoreView} for reconciler tests, built from proto objects. {@link
 * #apply} plays a plan's effects the simple way (no validation): just enough to chain rounds.
 */
final class Fixture implements StoreView {
  long index = 1;
  /** Receives every change as the store would deliver it (null when no test needs events). */
  private final StoreListener listener;

  Fixture() {
    this(null);
  }

  Fixture(StoreListener listener) {
    this.listener = listener;
  }

  private void emit(WatchEvent.Builder event) {
    index++;
    if (listener != null) {
      listener.onApplied(index, List.of(event.setIndex(index).build()));
    }
  }
  Cluster cluster;
  final Map<String, Node> nodes = new LinkedHashMap<>();
  final Map<String, Service> services = new LinkedHashMap<>();
  final Map<String, Task> tasks = new LinkedHashMap<>();
  final Map<String, Network> networks = new LinkedHashMap<>();

  static IdGenerator sequentialIds() {
    AtomicInteger next = new AtomicInteger();
    return () -> String.format("t%04d", next.incrementAndGet());
  }

  static Node aNode(String id, long cpus, long memory) {
    return Node.newBuilder()
        .setMeta(Meta.newBuilder().setId(id))
        .setSpec(NodeSpec.newBuilder().setAvailability(NodeAvailability.ACTIVE))
        .setDescription(NodeDescription.newBuilder().setHostname("host-" + id)
            .setResources(Resources.newBuilder().setNanoCpus(cpus * 1_000_000_000L).setMemoryBytes(memory)))
        .setStatus(NodeStatus.newBuilder().setState(NodeState.NODE_READY))
        .build();
  }

  static Node aNode(String id) {
    return aNode(id, 4, 8L << 30);
  }

  static TaskSpec spec(String image) {
    return TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage(image)).build();
  }

  static Service replicated(String id, long replicas, TaskSpec task) {
    return Service.newBuilder()
        .setMeta(Meta.newBuilder().setId(id).setVersion(1))
        .setSpecVersion(1)
        .setSpec(ServiceSpec.newBuilder().setName("svc-" + id).setTask(task)
            .setReplicated(ReplicatedService.newBuilder().setReplicas(replicas)))
        .build();
  }

  static Service global(String id, TaskSpec task) {
    return Service.newBuilder()
        .setMeta(Meta.newBuilder().setId(id).setVersion(1))
        .setSpecVersion(1)
        .setSpec(ServiceSpec.newBuilder().setName("svc-" + id).setTask(task)
            .setGlobal(GlobalService.getDefaultInstance()))
        .build();
  }

  static Task task(String id, Service service, long slot, String nodeId, TaskState state) {
    return Task.newBuilder()
        .setMeta(Meta.newBuilder().setId(id))
        .setServiceId(service.getMeta().getId())
        .setSlot(slot)
        .setNodeId(nodeId)
        .setSpec(service.getSpec().getTask())
        .setDesiredState(TaskState.RUNNING)
        .setStatus(TaskStatus.newBuilder().setState(state))
        .build();
  }

  Fixture add(Node n) {
    nodes.put(n.getMeta().getId(), n);
    emit(WatchEvent.newBuilder().setNode(n));
    return this;
  }

  Fixture removeNode(String id) {
    Node gone = nodes.remove(id);
    if (gone != null) {
      emit(WatchEvent.newBuilder().setAction(WatchEvent.Action.REMOVE).setNode(gone));
    }
    return this;
  }

  Fixture add(Service s) {
    services.put(s.getMeta().getId(), s);
    emit(WatchEvent.newBuilder().setService(s));
    return this;
  }

  Fixture add(Task t) {
    tasks.put(t.getMeta().getId(), t);
    emit(WatchEvent.newBuilder().setTask(t));
    return this;
  }

  /** Applies every plan in the commands without validation; returns how many plans there were. */
  int apply(List<Command> commands, long nowMs) {
    index++;
    int plans = 0;
    for (Command command : commands) {
      if (!command.hasPlan()) {
        continue;
      }
      plans++;
      Plan plan = command.getPlan();
      for (Task t : plan.getCreateTasksList()) {
        add(t);
      }
      for (Plan.Desired d : plan.getDesiredList()) {
        update(d.getTaskId(), t -> t.setDesiredState(d.getDesiredState()), nowMs);
      }
      for (Plan.Assignment a : plan.getAssignmentsList()) {
        update(a.getTaskId(), t -> t.setNodeId(a.getNodeId()).addAllHostPorts(a.getHostPortsList())
            .setStatus(TaskStatus.newBuilder().setState(TaskState.ASSIGNED)), nowMs);
      }
      for (Plan.Pending p : plan.getPendingList()) {
        update(p.getTaskId(), t -> t.setStatus(
            TaskStatus.newBuilder().setState(TaskState.PENDING).setMessage(p.getReason())), nowMs);
      }
      for (TaskStatusChange c : plan.getStatusChangesList()) {
        update(c.getTaskId(), t -> t.setStatus(c.getStatus()), nowMs);
      }
      for (String id : plan.getDeleteTasksList()) {
        Task gone = tasks.remove(id);
        if (gone != null) {
          emit(WatchEvent.newBuilder().setAction(WatchEvent.Action.REMOVE).setTask(gone));
        }
      }
      for (Plan.ServiceUpdateStatus s : plan.getServiceStatusList()) {
        Service updated = services.computeIfPresent(s.getServiceId(), (k, v) -> v.toBuilder().setUpdateStatus(s.getStatus()).build());
        if (updated != null) {
          emit(WatchEvent.newBuilder().setAction(WatchEvent.Action.UPDATE).setService(updated));
        }
      }
    }
    return plans;
  }

  void setState(String taskId, TaskState state, long nowMs) {
    update(taskId, t -> t.setStatus(TaskStatus.newBuilder().setState(state).setTimestampMs(nowMs)), nowMs);
  }

  void update(String taskId, java.util.function.Consumer<Task.Builder> change, long nowMs) {
    Task.Builder t = tasks.get(taskId).toBuilder();
    change.accept(t);
    t.getMetaBuilder().setUpdatedAtMs(nowMs).setVersion(index);
    tasks.put(taskId, t.build());
    emit(WatchEvent.newBuilder().setAction(WatchEvent.Action.UPDATE).setTask(t));
  }

  List<Task> live(String serviceId) {
    return tasksOfService(serviceId).stream().filter(TaskStates::isLive).collect(Collectors.toList());
  }

  @Override public long index() { return index; }
  @Override public Optional<Cluster> cluster() { return Optional.ofNullable(cluster); }
  @Override public Optional<Node> node(String id) { return Optional.ofNullable(nodes.get(id)); }
  @Override public Collection<Node> nodes() { return nodes.values(); }
  @Override public Optional<Service> service(String id) { return Optional.ofNullable(services.get(id)); }
  @Override public Optional<Service> serviceByName(String name) {
    return services.values().stream().filter(s -> s.getSpec().getName().equals(name)).findFirst();
  }
  @Override public Collection<Service> services() { return services.values(); }
  @Override public Optional<Task> task(String id) { return Optional.ofNullable(tasks.get(id)); }
  @Override public Collection<Task> tasks() { return tasks.values(); }
  @Override public List<Task> tasksOfService(String serviceId) {
    List<Task> out = new ArrayList<>();
    for (Task t : tasks.values()) if (t.getServiceId().equals(serviceId)) out.add(t);
    return out;
  }
  @Override public java.util.Set<String> nodeIdsWithTasks() {
    return tasks.values().stream().map(Task::getNodeId).filter(n -> !n.isEmpty())
        .collect(Collectors.toSet());
  }
  @Override public List<Task> tasksOfNode(String nodeId) {
    List<Task> out = new ArrayList<>();
    for (Task t : tasks.values()) if (t.getNodeId().equals(nodeId)) out.add(t);
    return out;
  }
  @Override public Optional<Network> network(String id) { return Optional.ofNullable(networks.get(id)); }
  @Override public Optional<Network> networkByName(String name) {
    return networks.values().stream().filter(n -> n.getSpec().getName().equals(name)).findFirst();
  }
  @Override public Collection<Network> networks() { return networks.values(); }
}
