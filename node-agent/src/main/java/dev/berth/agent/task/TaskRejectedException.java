package dev.berth.agent.task;

/**
 * Thrown by {@link TaskExecutor#prepare} when this node can never run the task as specified (unknown image,
 * impossible spec): the task is reported REJECTED with the message, not FAILED. The message is shown to
 * users as is, so it names the problem ("image registry:5000/web:1.2 not found").
 */
public final class TaskRejectedException extends Exception {
    public TaskRejectedException(String message) {
        super(message);
    }

    public TaskRejectedException(String message, Throwable cause) {
        super(message, cause);
    }
}
