package dev.berth.scheduler;

/** What one counted task takes on its node; kept by {@link ClusterView} so an upsert can undo it exactly. */
final class Reservation {
  final String taskId;
  final String serviceId;
  final NodeInfo node;
  final long cpu;
  final long memory;
  /** Host ports as {@link NodeInfo#portKey} values. */
  final int[] ports;

  Reservation(String taskId, String serviceId, NodeInfo node, long cpu, long memory, int[] ports) {
    this.taskId = taskId;
    this.serviceId = serviceId;
    this.node = node;
    this.cpu = cpu;
    this.memory = memory;
    this.ports = ports;
  }
}
