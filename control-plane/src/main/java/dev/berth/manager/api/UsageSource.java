package dev.berth.manager.api;

import dev.berth.api.v1.NodeUsage;
import dev.berth.api.v1.TaskUsage;
import java.util.Optional;

/**
 * Latest usage readings agents sent with their heartbeats, which stay in the leader's memory
 * and never go into the log. API reads use it to fill {@code Node.usage} and {@code
 * Task.usage}; a manager that is not the leader has no readings (its reads leave usage empty
 * rather than forward: the leader is one {@code --manager} away, and a follower's answer must
 * not depend on another server being reachable).
 *
 * <p>Thread model: implementations are thread-safe and cheap (called inside store reads).
 */
public interface UsageSource {
  Optional<NodeUsage> nodeUsage(String nodeId);

  Optional<TaskUsage> taskUsage(String nodeId, String taskId);

  /** No readings (a manager without a dispatcher). */
  UsageSource NONE = new UsageSource() {
    @Override
    public Optional<NodeUsage> nodeUsage(String nodeId) {
      return Optional.empty();
    }

    @Override
    public Optional<TaskUsage> taskUsage(String nodeId, String taskId) {
      return Optional.empty();
    }
  };
}
