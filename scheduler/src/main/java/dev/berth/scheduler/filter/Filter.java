package dev.berth.scheduler.filter;

import dev.berth.scheduler.NodeInfo;

/**
 * One feasibility check of the placement pipeline, built for one task group (service + task spec) and run once
 * per node for that group, never per task.
 *
 * <p>Filters are immutable and read {@link NodeInfo} only; they are as thread-safe as the view they read.
 */
public interface Filter {

  /** Capacity of a node that this filter does not limit. */
  int UNLIMITED = Integer.MAX_VALUE;

  /** Whether the node could take one more task of the group now. */
  boolean check(NodeInfo node);

  /**
   * How many more tasks of the group the node can take as far as this filter is concerned: {@link #UNLIMITED}
   * for filters that don't depend on what is placed, 0 when {@link #check} fails. Lets the scheduler place a
   * whole group after one pass of the filters.
   */
  default int capacity(NodeInfo node) {
    return check(node) ? UNLIMITED : 0;
  }

  /**
   * Whether the filter is about the node itself (state, constraints, platform) rather than about what is
   * already placed on it (resources, ports, replica counts). Global services are eligible on nodes that pass the
   * static filters; the dynamic ones only decide whether their task fits yet.
   */
  boolean isStatic();

  /** Why a node fails, without a count, e.g. {@code insufficient memory}. */
  String reason();

  /** Why {@code nodes} nodes failed, e.g. {@code insufficient memory on 7 nodes}. */
  default String explain(int nodes) {
    return reason() + " on " + nodes + (nodes == 1 ? " node" : " nodes");
  }
}
