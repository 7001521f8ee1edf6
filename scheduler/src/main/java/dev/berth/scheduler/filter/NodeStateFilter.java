package dev.berth.scheduler.filter;

import dev.berth.scheduler.NodeInfo;

/** The node heartbeats ({@code NODE_READY}) and its availability is {@code ACTIVE} (not paused, not drained). */
public final class NodeStateFilter implements Filter {

  public static final NodeStateFilter INSTANCE = new NodeStateFilter();

  private NodeStateFilter() {}

  @Override
  public boolean check(NodeInfo node) {
    return node.isReady() && node.isActive();
  }

  @Override
  public boolean isStatic() {
    return true;
  }

  @Override
  public String reason() {
    return "node not ready or not active";
  }
}
