package dev.berth.agent.task;

import dev.berth.api.v1.Task;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * The port through which {@link NativeExecutor} gives a container its network before the user's process
 * starts, and takes it away when the task ends. The agent's implementation is {@code
 * dev.berth.agent.net.NetworkController}.
 *
 * <p>Thread model: called from the task manager's workers; implementations serialise internally.
 * Error contract: {@link #attach} throws when the namespace cannot be wired (the task then fails with
 * that message); {@link #release} is idempotent and ignores unknown tasks.
 */
public interface TaskNetworking {
    /** No networking: every container gets its own empty namespace with loopback (simulated runs, tests). */
    TaskNetworking NONE = new TaskNetworking() {
        @Override
        public Optional<Attachment> attach(Task task, String hostname) {
            return Optional.empty();
        }

        @Override
        public void release(String taskId) {
        }

        @Override
        public Optional<InetAddress> address(String taskId) {
            return Optional.empty();
        }
    };

    /**
     * Wires a namespace for a task attached to networks: empty for a task with none.
     *
     * @param hostname the container's hostname, for its /etc/hosts
     */
    Optional<Attachment> attach(Task task, String hostname) throws Exception;

    /** Detaches the task's namespace from the data plane and deletes it. */
    void release(String taskId) throws Exception;

    /**
     * Where the agent reaches a wired task's ports (health probes): its gateway-leg address, also for a
     * container adopted after an agent restart. Empty for a task that is not wired. Never blocks.
     */
    Optional<InetAddress> address(String taskId);

    /**
     * A wired namespace.
     *
     * @param netns path of the namespace the container joins
     * @param files files for the container's root (/etc/resolv.conf, /etc/hosts)
     */
    record Attachment(Path netns, Map<String, String> files) {
        public Attachment {
            files = Map.copyOf(files);
        }
    }
}
