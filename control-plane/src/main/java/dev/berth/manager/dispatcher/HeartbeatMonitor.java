package dev.berth.manager.dispatcher;

import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeDescription;
import dev.berth.api.v1.NodeRole;
import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.NodeStatus;
import dev.berth.internal.v1.SetNodeStatus;
import dev.berth.manager.store.StoreView;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * Decides node up/down changes from the leader's heartbeat record: a node not heard from for
 * longer than the grace period goes DOWN; a node with an open session that is not READY goes
 * READY (with the description its agent sent at session open). Only these changes reach the
 * log, as one {@link SetNodeStatus} per check.
 *
 * <p>Thread model: {@link #changes} is a pure function of its arguments plus the thread-safe
 * tracker; the dispatcher calls it from its single housekeeping thread.
 */
public final class HeartbeatMonitor {
  private final HeartbeatTracker tracker;
  private final long graceMs;

  public HeartbeatMonitor(HeartbeatTracker tracker, long graceMs) {
    this.tracker = tracker;
    this.graceMs = graceMs;
  }

  /**
   * @param connected open sessions: node id -> the description sent at session open
   */
  public List<SetNodeStatus.Change> changes(StoreView view, Map<String, NodeDescription> connected, long nowMs) {
    List<Node> nodes = new ArrayList<>(view.nodes());
    nodes.sort(Comparator.comparing(n -> n.getMeta().getId()));
    List<SetNodeStatus.Change> changes = new ArrayList<>();
    for (Node node : nodes) {
      String id = node.getMeta().getId();
      NodeState state = node.getStatus().getState();
      long silentMs = nowMs - tracker.lastSeenMs(id);
      boolean fresh = silentMs <= graceMs;
      NodeDescription description = connected.get(id);
      if (description != null && fresh && state != NodeState.NODE_READY) {
        SetNodeStatus.Change.Builder up = SetNodeStatus.Change.newBuilder().setNodeId(id)
            .setStatus(NodeStatus.newBuilder().setState(NodeState.NODE_READY)
                .setChangedAtMs(nowMs).setMessage("session open"));
        if (!description.equals(NodeDescription.getDefaultInstance())) {
          up.setDescription(description);
        }
        changes.add(up.build());
      } else if (!fresh && (state == NodeState.NODE_READY
          || state == NodeState.NODE_UNKNOWN && !managerWithoutAgent(node))) {
        String why = tracker.heardFrom(id)
            ? "heartbeat missed for " + silentMs / 1000 + "s"
            : "not heard from since this manager became leader " + silentMs / 1000 + "s ago";
        changes.add(SetNodeStatus.Change.newBuilder().setNodeId(id)
            .setStatus(NodeStatus.newBuilder().setState(NodeState.NODE_DOWN)
                .setChangedAtMs(nowMs).setMessage(why))
            .build());
      }
    }
    return changes;
  }

  /**
   * A manager registers its node object itself; until an agent runs on it there is nothing to
   * heartbeat, so it stays UNKNOWN rather than being reported down while it serves the cluster.
   */
  private static boolean managerWithoutAgent(Node node) {
    return node.getRole() == NodeRole.MANAGER;
  }
}
