package dev.berth.scheduler;

import dev.berth.scheduler.score.Candidate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * State shared by the groups of one {@link Scheduler#schedule} call: the static-filter results per
 * (constraints, platforms) key, which placements cannot change, and one reusable {@link Candidate} per node.
 * The view's node list does not change during a batch (placements add tasks, not nodes), so node positions
 * index the arrays. Confined to the call.
 */
final class Batch {

  private final ClusterView view;
  private final long seed;
  private final Map<Object, List<NodeInfo>> eligible = new HashMap<>();
  private final Candidate[] candidates;
  /** Group number that last used each node's candidate. */
  private final int[] stamps;
  private int group;

  Batch(ClusterView view, long seed) {
    this.view = view;
    this.seed = seed;
    this.candidates = new Candidate[view.nodes().size()];
    this.stamps = new int[candidates.length];
  }

  List<NodeInfo> eligible(Pipeline pipeline) {
    return eligible.computeIfAbsent(pipeline.staticKey(), k -> pipeline.eligible(view));
  }

  /** Starts a group; returns its stamp. */
  int nextGroup() {
    return ++group;
  }

  /** The node's candidate, reset for the group with the given stamp (service count 0 until set). */
  Candidate candidate(NodeInfo node, int capacity, int stamp) {
    Candidate c = candidates[node.index];
    if (c == null) {
      c = new Candidate(node, capacity, 0, Candidate.rank(seed, node.idHash()));
      candidates[node.index] = c;
    } else {
      c.reset(capacity, 0);
    }
    stamps[node.index] = stamp;
    return c;
  }

  /** The node's candidate if it is one for the group with this stamp, else null. */
  Candidate candidateOf(NodeInfo node, int stamp) {
    return node.index >= 0 && stamps[node.index] == stamp ? candidates[node.index] : null;
  }
}
