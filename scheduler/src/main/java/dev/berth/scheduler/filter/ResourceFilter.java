package dev.berth.scheduler.filter;

import dev.berth.scheduler.NodeInfo;

/**
 * The node's free CPU or memory (capacity minus the reservations of every counted task, including placements
 * made earlier in the same batch) covers the task's reservation. One instance per resource so explanations say
 * which one ran out.
 */
public final class ResourceFilter implements Filter {

  private final boolean cpu;
  private final long required;

  private ResourceFilter(boolean cpu, long required) {
    if (required <= 0) {
      throw new IllegalArgumentException("resource filter needs a positive requirement, got " + required);
    }
    this.cpu = cpu;
    this.required = required;
  }

  /** CPU reservation in nano-CPUs (positive). */
  public static ResourceFilter cpu(long nanoCpus) {
    return new ResourceFilter(true, nanoCpus);
  }

  /** Memory reservation in bytes (positive). */
  public static ResourceFilter memory(long bytes) {
    return new ResourceFilter(false, bytes);
  }

  @Override
  public boolean check(NodeInfo node) {
    return capacity(node) > 0;
  }

  @Override
  public int capacity(NodeInfo node) {
    long free = cpu ? node.freeCpu() : node.freeMemory();
    return free <= 0 ? 0 : (int) Math.min(UNLIMITED, free / required);
  }

  @Override
  public boolean isStatic() {
    return false;
  }

  @Override
  public String reason() {
    return cpu ? "insufficient cpu" : "insufficient memory";
  }
}
