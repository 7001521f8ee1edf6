package dev.berth.scheduler;

import dev.berth.api.v1.PortBinding;
import dev.berth.api.v1.PortConfig;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.TaskSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * What placing one (service, task spec) group needs, derived once per group: reservations, host ports,
 * parsed constraints and preferences. Placement rules come from the task's own spec (a task keeps the spec it
 * was created from during a rolling update); the strategy and published ports come from the service.
 */
final class GroupSpec {
  final Service service;
  final String serviceId;
  final TaskSpec spec;
  final long cpu;
  final long memory;
  final List<PortBinding> hostPorts;
  final int[] portKeys;
  final List<Constraint> constraints;
  final List<NodeAttribute> preferences;
  /** Why the spec cannot be placed anywhere (bad constraint or preference), else null. */
  final String invalid;

  GroupSpec(Service service, TaskSpec spec) {
    this.service = service;
    this.serviceId = service.getMeta().getId();
    this.spec = spec;
    this.cpu = Math.max(0, spec.getResources().getReservations().getNanoCpus());
    this.memory = Math.max(0, spec.getResources().getReservations().getMemoryBytes());
    List<PortBinding> ports = new ArrayList<>();
    for (PortConfig p : service.getSpec().getEndpoint().getPortsList()) {
      // published_port 0 in host mode lets the agent bind an ephemeral port: nothing to reserve here.
      if (p.getPublishMode() == PortConfig.PublishMode.HOST && p.getPublishedPort() != 0) {
        ports.add(PortBinding.newBuilder().setProtocol(p.getProtocol()).setPort(p.getPublishedPort()).build());
      }
    }
    this.hostPorts = List.copyOf(ports);
    this.portKeys = ports.stream().mapToInt(b -> NodeInfo.portKey(b.getProtocol(), b.getPort())).toArray();
    List<Constraint> cs = List.of();
    List<NodeAttribute> prefs = new ArrayList<>();
    String error = null;
    try {
      cs = Constraint.parseAll(spec.getPlacement().getConstraintsList());
      for (var pref : spec.getPlacement().getPreferencesList()) {
        try {
          prefs.add(NodeAttribute.parse(pref.getSpreadDescriptor()));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(
              "invalid placement preference \"spread=" + pref.getSpreadDescriptor() + "\": " + e.getMessage());
        }
      }
    } catch (IllegalArgumentException e) {
      error = e.getMessage();
    }
    this.constraints = cs;
    this.preferences = List.copyOf(prefs);
    this.invalid = error;
  }

  int maxReplicasPerNode() {
    return spec.getPlacement().getMaxReplicasPerNode() == 0
        ? 0
        : (int) Math.min(Integer.MAX_VALUE, Integer.toUnsignedLong(spec.getPlacement().getMaxReplicasPerNode()));
  }
}
