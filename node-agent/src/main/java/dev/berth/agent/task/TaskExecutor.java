package dev.berth.agent.task;

import dev.berth.agent.health.ExecResult;
import dev.berth.agent.runtime.LogReader;
import dev.berth.api.v1.ContainerStatus;
import dev.berth.api.v1.HealthCheck;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskUsage;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The port through which {@link TaskManager} runs containers: the narrow set of operations the task state
 * machine needs. The native implementation sits on the image service and the container runtime; {@link
 * SimulatedTaskExecutor} is the in-memory one.
 *
 * <p>Thread model: {@link #prepare}, {@link #start}, {@link #stop}, {@link #remove}, {@link #exec} and
 * {@link #adopt} may block and are called from worker threads, at most one of them at a time per task.
 * {@link #usage} and {@link #probeAddress} are called from the event loop and must not block. The exit
 * listener may be called from any thread.
 *
 * <p>Error contract: {@link #prepare} throws {@link TaskRejectedException} for a task this node can never
 * run (reported REJECTED) and any other exception for a failure (reported FAILED with its message). Every
 * method is idempotent per task id: a retried call after an agent restart must be harmless.
 */
public interface TaskExecutor {

    /** Name shown in logs and the node description, e.g. "native" or "simulated". */
    String name();

    /** Registers the listener told about containers that exit on their own (or are killed). Called once. */
    void onExit(ExitListener listener);

    /** Pulls and unpacks the image, creates the container root. Returns what the image adds to the spec. */
    Prepared prepare(Task task) throws Exception;

    /** Starts the prepared container and returns its id and pid. */
    ContainerStatus start(Task task) throws Exception;

    /**
     * Sends {@code signal}, waits up to {@code grace}, then kills. Returns once the container has exited;
     * for a container that already exited, returns that exit.
     */
    Exit stop(String taskId, Duration grace, String signal) throws Exception;

    /** Releases everything kept for the task (root, cgroup, logs, state). Unknown ids are ignored. */
    void remove(String taskId) throws Exception;

    /** Current usage of a running task, if known. */
    Optional<TaskUsage> usage(String taskId);

    /** Runs a command inside the running container (health checks). */
    ExecResult exec(String taskId, List<String> argv, Duration timeout) throws Exception;

    /**
     * Starts a command in the running container for {@code berth exec}: stdin, stdout and stderr are the
     * returned process's pipes, its exit value the command's exit code; destroying it ends the command.
     * Fails with a message naming the task when it has no running container here.
     */
    default Process execAttached(String taskId, List<String> argv) throws Exception {
        throw new UnsupportedOperationException("the " + name() + " executor cannot run commands in containers");
    }

    /** Opens the task's log (kept lines, then what follows) for {@code berth service logs}; the caller closes it. */
    default LogReader openLog(String taskId) throws Exception {
        throw new UnsupportedOperationException("the " + name() + " executor keeps no logs");
    }

    /** Address the task's ports are reachable at from the agent (HTTP / TCP health probes). */
    InetAddress probeAddress(String taskId);

    /**
     * After an agent restart: what the executor still knows about a task the manager says was started
     * (a container that still runs, or one that ended meanwhile). Empty when it knows nothing.
     */
    Optional<Adoption> adopt(Task task) throws Exception;

    /**
     * After an agent restart, with the first full task set: removes every container this executor left
     * behind that is not in {@code owned} (and that it has not been given since it started).
     */
    void retain(Set<String> owned) throws Exception;

    /** What the image contributes: its health check and stop signal (empty when it has none). */
    record Prepared(Optional<HealthCheck> imageHealthcheck, Optional<String> imageStopSignal) {
        public static final Prepared NONE = new Prepared(Optional.empty(), Optional.empty());
    }

    /** How a container ended. {@code message} is a human explanation ("" for a plain exit). */
    record Exit(int exitCode, boolean oomKilled, String message) {
        public Exit {
            message = message == null ? "" : message;
        }
    }

    /** A container found after a restart: still running ({@code exit} empty) or ended meanwhile. */
    record Adoption(ContainerStatus container, Optional<Exit> exit) {
    }

    /** Told when a container exits without the agent having asked it to stop (or while it stops). */
    @FunctionalInterface
    interface ExitListener {
        void exited(String taskId, Exit exit);
    }
}
