package dev.berth.scheduler.filter;

import dev.berth.scheduler.NodeInfo;

/** {@code --replicas-max-per-node}: at most {@code max} counted tasks of the service on one node. */
public final class MaxReplicasFilter implements Filter {

  private final String serviceId;
  private final int max;

  public MaxReplicasFilter(String serviceId, int max) {
    if (max <= 0) {
      throw new IllegalArgumentException("max replicas per node must be positive, got " + max);
    }
    this.serviceId = serviceId;
    this.max = max;
  }

  @Override
  public boolean check(NodeInfo node) {
    return capacity(node) > 0;
  }

  @Override
  public int capacity(NodeInfo node) {
    return Math.max(0, max - node.tasksOf(serviceId));
  }

  @Override
  public boolean isStatic() {
    return false;
  }

  @Override
  public String reason() {
    return "max replicas per node (" + max + ") reached";
  }
}
