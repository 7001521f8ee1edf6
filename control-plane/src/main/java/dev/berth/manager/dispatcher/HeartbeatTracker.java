package dev.berth.manager.dispatcher;

import dev.berth.api.v1.Heartbeat;
import dev.berth.api.v1.NodeUsage;
import dev.berth.api.v1.TaskUsage;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The leader's in-memory record of agent heartbeats and usage readings. Nothing here goes into
 * the log; a new leader starts with an empty tracker and counts every node as seen at its
 * start, which gives each node a full grace period.
 *
 * <p>Thread model: thread-safe (heartbeats arrive on gRPC threads, reads from the monitor and
 * API threads).
 */
public final class HeartbeatTracker {
  private record Seen(long atMs, NodeUsage usage, Map<String, TaskUsage> tasks) {}

  private final Map<String, Seen> seen = new ConcurrentHashMap<>();
  private volatile long leaderSinceMs;

  /** Forget everything; nodes not heard from count as seen at {@code nowMs}. */
  public void reset(long nowMs) {
    seen.clear();
    leaderSinceMs = nowMs;
  }

  public void heartbeat(String nodeId, long nowMs, Heartbeat heartbeat) {
    NodeUsage usage = heartbeat.hasNodeUsage()
        ? NodeUsage.newBuilder().setUsed(heartbeat.getNodeUsage()).setSampledAtMs(nowMs).build()
        : null;
    seen.compute(nodeId, (id, old) -> new Seen(nowMs,
        usage != null ? usage : old == null ? null : old.usage(),
        heartbeat.getTaskUsageCount() > 0 ? Map.copyOf(heartbeat.getTaskUsageMap())
            : old == null ? Map.of() : old.tasks()));
  }

  /** When the node was last heard from (the leader's start when never). */
  public long lastSeenMs(String nodeId) {
    Seen s = seen.get(nodeId);
    return s == null ? leaderSinceMs : Math.max(s.atMs(), leaderSinceMs);
  }

  /** Whether the node has been heard from since this leader started. */
  public boolean heardFrom(String nodeId) {
    return seen.containsKey(nodeId);
  }

  /** Latest node usage reading, for API reads to fill {@code Node.usage}. */
  public Optional<NodeUsage> nodeUsage(String nodeId) {
    Seen s = seen.get(nodeId);
    return s == null ? Optional.empty() : Optional.ofNullable(s.usage());
  }

  /** Latest usage of a task as its node reported it, for API reads to fill {@code Task.usage}. */
  public Optional<TaskUsage> taskUsage(String nodeId, String taskId) {
    Seen s = seen.get(nodeId);
    return s == null ? Optional.empty() : Optional.ofNullable(s.tasks().get(taskId));
  }
}
