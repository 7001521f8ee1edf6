package dev.berth.agent;

import dev.berth.agent.attach.AttachHandler;
import dev.berth.agent.loop.EventLoop;
import dev.berth.agent.net.NetworkController;
import dev.berth.agent.loop.Scheduler;
import dev.berth.agent.session.ChannelFactory;
import dev.berth.agent.session.HostDescription;
import dev.berth.agent.session.NodeIdStore;
import dev.berth.agent.session.SessionClient;
import dev.berth.agent.session.SessionConfig;
import dev.berth.agent.task.TaskExecutor;
import dev.berth.agent.task.TaskManager;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One running node agent: the event loop, the task manager over an executor, and the session client,
 * wired together. Usable embedded (fake agents in tests and benchmarks) as well as from {@link
 * AgentCommand}.
 *
 * <p>Thread model: one event loop thread owns the session and task state; blocking executor calls
 * (pulls, starts, stops, health probes) run on a pool of daemon worker threads. Error contract: {@link
 * #terminated()} completes exceptionally when the cluster refuses the node; transient failures are
 * retried by the session client.
 */
public final class Agent implements AutoCloseable {
    public static final String VERSION = "berth-agent/0.1.0";
    /** How often followed logs ({@code service logs -f}) are checked for new lines. */
    private static final Duration LOG_POLL = Duration.ofMillis(200);

    private final AutoCloseable ownedResources;
    private final TaskManager tasks;
    private final SessionClient session;
    private AutoCloseable network = () -> { };

    /**
     * An agent with its own event loop thread and worker pool (closed with the agent).
     *
     * @param advertiseAddr address other nodes reach this one at ("" to let the manager use the peer address)
     */
    public Agent(SessionConfig config, Path stateDir, String advertiseAddr, TaskExecutor executor,
                 ChannelFactory channels, HostDescription host, Clock clock, Random random) {
        this(config, stateDir, advertiseAddr, executor, channels, host, OwnedThreads.create(clock), random);
    }

    private Agent(SessionConfig config, Path stateDir, String advertiseAddr, TaskExecutor executor,
                  ChannelFactory channels, HostDescription host, OwnedThreads threads, Random random) {
        this(config, stateDir, advertiseAddr, executor, channels, host, threads.loop, threads.workers, random, threads);
    }

    /**
     * An agent on a given loop and worker executor, which the caller owns: many embedded agents (fake
     * agents in tests and benchmarks) may share one loop, since each agent's state is only touched by
     * tasks run on it.
     */
    public Agent(SessionConfig config, Path stateDir, String advertiseAddr, TaskExecutor executor,
                 ChannelFactory channels, HostDescription host, Scheduler loop, Executor workers, Random random) {
        this(config, stateDir, advertiseAddr, executor, channels, host, loop, workers, random, () -> { });
    }

    private Agent(SessionConfig config, Path stateDir, String advertiseAddr, TaskExecutor executor,
                  ChannelFactory channels, HostDescription host, Scheduler loop, Executor workers, Random random,
                  AutoCloseable ownedResources) {
        String engine = VERSION + " (executor " + executor.name() + ")";
        this.session = new SessionClient(config, channels, new NodeIdStore(stateDir),
                () -> host.describe(advertiseAddr, engine), loop, random);
        this.tasks = new TaskManager(executor, loop, workers, session);
        session.onAttachRequest(new AttachHandler(executor, workers, LOG_POLL)::handle);
        this.ownedResources = ownedResources;
    }

    /** The loop and worker pool of an agent that owns its threads. */
    private record OwnedThreads(EventLoop loop, ExecutorService workers) implements AutoCloseable {
        static OwnedThreads create(Clock clock) {
            AtomicInteger n = new AtomicInteger();
            return new OwnedThreads(new EventLoop("berth-agent-loop", clock), Executors.newCachedThreadPool(r -> {
                Thread t = new Thread(r, "berth-agent-worker-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
            }));
        }

        @Override
        public void close() {
            loop.close();
            workers.shutdownNow();
        }
    }

    /**
     * Feeds the session's assignments to the node's network controller (overlay, DNS, routing mesh),
     * which is closed with the agent. Call before {@link #start}.
     */
    public Agent network(NetworkController controller) {
        session.observeAssignments(controller);
        this.network = controller;
        return this;
    }

    /** Registers and opens the session; returns at once. */
    public Agent start() {
        session.start(tasks);
        return this;
    }

    public SessionClient session() {
        return session;
    }

    /** Completes when the agent stops: normally after {@link #close}, exceptionally on a fatal error. */
    public CompletableFuture<Void> terminated() {
        return session.terminated();
    }

    /** Leaves the session and stops the loop; containers keep running (they outlive the agent). */
    @Override
    public void close() {
        session.close();
        try {
            network.close();
            ownedResources.close();
        } catch (Exception e) {
            throw new IllegalStateException("stopping the agent's threads", e);
        }
    }
}
