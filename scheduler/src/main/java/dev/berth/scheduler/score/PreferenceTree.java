package dev.berth.scheduler.score;

import dev.berth.scheduler.NodeAttribute;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Placement preferences as a tree, like swarmkit's: level i groups the candidates by the value of the i-th
 * spread descriptor (nodes lacking the attribute form their own branch, value ""), and the leaves are heaps of
 * candidates in {@link NodeOrder}. Without preferences the tree is a single leaf.
 *
 * <p>Each task goes, at every level, to the branch holding the fewest tasks of the service (seeded tie-break),
 * then to the best node of that leaf. Placing one task at a time this way is the same water-filling that
 * swarmkit does for a whole group, and it keeps each level balanced given what is already running. A branch
 * whose nodes are full leaves its parent's heap. Cost per task: O(levels × log branches + log nodes).
 *
 * <p>Usage: {@link #poll()} the best candidate, record the placement, then {@link #placed(Candidate)}.
 * Mutable, confined to one scheduling pass.
 */
public final class PreferenceTree {

  private static final Comparator<Branch> BRANCH_ORDER =
      Comparator.comparingLong((Branch b) -> b.serviceTasks)
          .thenComparingLong(b -> b.tiebreak)
          .thenComparing(b -> b.value);

  private static final class Branch {
    final Branch parent;
    final String value;
    final long tiebreak;
    long serviceTasks;
    PriorityQueue<Branch> children;
    CandidateHeap leaf;
    /** Leaf members while building. */
    List<Candidate> members;

    Branch(Branch parent, String value, long tiebreak) {
      this.parent = parent;
      this.value = value;
      this.tiebreak = tiebreak;
    }

    boolean isEmpty() {
      return children != null ? children.isEmpty() : leaf.isEmpty();
    }
  }

  private final Branch root;
  /** Branches polled on the way to the last candidate, deepest first. */
  private final ArrayDeque<Branch> path = new ArrayDeque<>();
  private Candidate pending;
  /** Value -> child lookups, needed only while building; kept aside so branches stay small. */
  private final Map<Branch, Map<String, Branch>> building = new HashMap<>();

  /**
   * @param descriptors spread descriptors, outermost first (e.g. {@code node.labels.zone})
   * @param seed seeds the tie-break between branches with equal counts
   */
  public PreferenceTree(List<Candidate> candidates, List<NodeAttribute> descriptors, Comparator<Candidate> order,
      long seed) {
    root = new Branch(null, "", 0);
    if (descriptors.isEmpty()) {
      root.leaf = new CandidateHeap(candidates, order);
      return;
    }
    for (Candidate c : candidates) {
      Branch b = root;
      for (NodeAttribute d : descriptors) {
        b = child(b, d.valueOf(c.node().node()), seed);
        b.serviceTasks += c.serviceTasks();
      }
      if (b.members == null) {
        b.members = new ArrayList<>();
      }
      b.members.add(c);
    }
    heapify(root, order);
    if (root.children == null) {
      root.leaf = new CandidateHeap(List.of(), order);
    }
  }

  private Branch child(Branch parent, String value, long seed) {
    String v = value == null ? "" : value;
    return building.computeIfAbsent(parent, p -> new HashMap<>())
        .computeIfAbsent(v, k -> new Branch(parent, k, Candidate.rank(seed, k.hashCode())));
  }

  private void heapify(Branch b, Comparator<Candidate> order) {
    if (b.members != null) {
      b.leaf = new CandidateHeap(b.members, order);
      b.members = null;
      return;
    }
    Map<String, Branch> kids = building.remove(b);
    if (kids == null) {
      return;
    }
    b.children = new PriorityQueue<>(Math.max(1, kids.size()), BRANCH_ORDER);
    for (Branch k : kids.values()) {
      heapify(k, order);
      b.children.add(k);
    }
  }

  /** The best candidate for the next task, or null when every candidate is full. */
  public Candidate poll() {
    if (pending != null) {
      throw new IllegalStateException("placed() was not called for the previous candidate");
    }
    path.clear();
    Branch b = root;
    while (b.children != null) {
      Branch next = b.children.poll();
      if (next == null) {
        return null;
      }
      path.push(next);
      b = next;
    }
    pending = b.leaf.poll();
    if (pending == null) {
      restorePath();
    }
    return pending;
  }

  /**
   * Re-inserts the candidate returned by the last {@link #poll()} after one task was placed on it (call
   * {@link Candidate#placedOne()} and record the placement first), and updates the branch counts.
   */
  public void placed(Candidate c) {
    if (c != pending) {
      throw new IllegalArgumentException("placed() must get the candidate returned by poll()");
    }
    pending = null;
    Branch leaf = path.isEmpty() ? root : path.peek();
    if (c.capacity() > 0) {
      leaf.leaf.add(c);
    }
    for (Branch b : path) {
      b.serviceTasks++;
    }
    restorePath();
  }

  private void restorePath() {
    while (!path.isEmpty()) {
      Branch b = path.pop();
      if (!b.isEmpty()) {
        b.parent.children.add(b);
      }
    }
  }
}
