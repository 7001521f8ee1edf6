package dev.berth.agent.task;

import dev.berth.api.v1.TaskStatus;

/**
 * Receives every status transition {@link TaskManager} makes, in order, on the event loop. The session
 * client batches them to the manager and re-sends them until acknowledged.
 */
@FunctionalInterface
public interface StatusSink {
    void report(String taskId, TaskStatus status);
}
