package dev.berth.scheduler.score;

import dev.berth.scheduler.NodeInfo;

/**
 * A node that passed the filters for one task group, with the counters the scorers order by. The counters are
 * cached here (rather than read from {@link NodeInfo}'s maps on every comparison) and advanced by
 * {@link #placedOne()} as the group is placed. A batch keeps one candidate per node and {@link #reset}s it for
 * each group, so placing hundreds of groups on 10,000 nodes does not allocate millions of objects. Mutable,
 * confined to one scheduling pass.
 */
public final class Candidate {

  private final NodeInfo node;
  private final long tiebreak;
  private int capacity;
  private int serviceTasks;
  private int totalTasks;

  /**
   * @param capacity how many tasks of the group the node can still take (at least 1)
   * @param serviceTasks counted tasks of the group's service on the node
   * @param tiebreak seeded random rank; equal scores are ordered by it, so the seed decides ties
   */
  public Candidate(NodeInfo node, int capacity, int serviceTasks, long tiebreak) {
    this.node = node;
    this.tiebreak = tiebreak;
    reset(capacity, serviceTasks);
  }

  /** Reuses the candidate for another group; the total task count is re-read from the node. */
  public void reset(int capacity, int serviceTasks) {
    this.capacity = capacity;
    this.serviceTasks = serviceTasks;
    this.totalTasks = node.taskCount();
  }

  /** Sets the count of the group's service on the node (after {@link #reset}). */
  public void setServiceTasks(int serviceTasks) {
    this.serviceTasks = serviceTasks;
  }

  /** Records one more task of the group on this node. */
  public void placedOne() {
    capacity--;
    serviceTasks++;
    totalTasks++;
  }

  public NodeInfo node() {
    return node;
  }

  public int capacity() {
    return capacity;
  }

  public int serviceTasks() {
    return serviceTasks;
  }

  public int totalTasks() {
    return totalTasks;
  }

  public long tiebreak() {
    return tiebreak;
  }

  /** SplitMix64 finaliser: a seeded, well-mixed rank for a value's 64-bit hash. */
  public static long rank(long seed, long hash) {
    long z = seed + hash * 0x9e3779b97f4a7c15L;
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
