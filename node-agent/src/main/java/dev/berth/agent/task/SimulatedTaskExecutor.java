package dev.berth.agent.task;

import dev.berth.agent.health.ExecResult;
import dev.berth.agent.runtime.LogLine;
import dev.berth.agent.runtime.LogReader;
import dev.berth.api.v1.ContainerStatus;
import dev.berth.api.v1.HealthCheck;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskUsage;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.Predicate;

/**
 * An in-memory {@link TaskExecutor}: no processes, no images. A "container" runs from {@link #start} until
 * it is stopped or a test ends it with {@link #exit}. Used by tests, by fake agents, and by {@code berth
 * agent --executor simulated}, which says so in its logs.
 *
 * <p>Thread model: safe to call from any thread. Error contract: {@link #prepare} rejects images the
 * {@code imageKnown} predicate refuses, and fails (not rejects) while {@link #failPrepares} is set.
 */
public final class SimulatedTaskExecutor implements TaskExecutor {
    private final Clock clock;
    private final Predicate<String> imageKnown;
    private final Map<String, Container> containers = new ConcurrentHashMap<>();
    private final Map<String, HealthCheck> imageHealthchecks = new ConcurrentHashMap<>();
    private final Set<String> removed = ConcurrentHashMap.newKeySet();
    private final AtomicInteger nextPid = new AtomicInteger(1000);
    private volatile ExitListener listener = (id, exit) -> { };
    private volatile String failPrepares;
    private volatile BiFunction<String, List<String>, ExecResult> execHandler = (id, argv) -> new ExecResult(0, "");

    private final Map<String, List<LogLine>> logs = new ConcurrentHashMap<>();
    private final AtomicInteger openLogs = new AtomicInteger();

    private record Container(String id, int pid, boolean running, Exit exit) {
    }

    /** @param imageKnown which image references exist (others are rejected as unknown) */
    public SimulatedTaskExecutor(Clock clock, Predicate<String> imageKnown) {
        this.clock = clock;
        this.imageKnown = imageKnown;
    }

    /** Accepts every image. */
    public SimulatedTaskExecutor(Clock clock) {
        this(clock, image -> true);
    }

    @Override
    public String name() {
        return "simulated";
    }

    @Override
    public void onExit(ExitListener l) {
        this.listener = l;
    }

    /** Gives an image a health check in its config (as an image's HEALTHCHECK would). */
    public void setImageHealthcheck(String image, HealthCheck check) {
        imageHealthchecks.put(image, check);
    }

    /** Makes every prepare fail with this message (e.g. "registry unreachable"); null to stop. */
    public void failPrepares(String message) {
        this.failPrepares = message;
    }

    /** Decides what health-check commands "run" inside a container return: (task id, argv) to result. */
    public void onExec(BiFunction<String, List<String>, ExecResult> handler) {
        this.execHandler = handler;
    }

    @Override
    public Prepared prepare(Task task) throws Exception {
        String image = task.getSpec().getContainer().getImage();
        if (!imageKnown.test(image)) {
            throw new TaskRejectedException("image " + image + " not found");
        }
        String fail = failPrepares;
        if (fail != null) {
            throw new java.io.IOException(fail);
        }
        return new Prepared(Optional.ofNullable(imageHealthchecks.get(image)), Optional.empty());
    }

    @Override
    public ContainerStatus start(Task task) {
        String id = task.getMeta().getId();
        Container c = containers.compute(id, (k, old) -> old != null && old.running ? old
                : new Container("sim-" + id, nextPid.incrementAndGet(), true, null));
        log(id, "stdout", "simulated container " + c.id + " of image " + task.getSpec().getContainer().getImage()
                + " started");
        return ContainerStatus.newBuilder().setContainerId(c.id).setPid(c.pid).build();
    }

    /** Records a line as if the task's container had written it (stream "stdout" or "stderr"). */
    public void log(String taskId, String stream, String text) {
        logs.computeIfAbsent(taskId, k -> new CopyOnWriteArrayList<>()).add(new LogLine(clock.instant(), stream, text));
    }

    @Override
    public LogReader openLog(String taskId) {
        List<LogLine> lines = logs.get(taskId);
        if (lines == null) {
            throw new IllegalStateException("task " + taskId + " has no simulated container on this node");
        }
        openLogs.incrementAndGet();
        return new LogReader() {
            private int read;
            private boolean closed;

            @Override
            public List<LogLine> existing() {
                return poll();
            }

            @Override
            public List<LogLine> poll() {
                List<LogLine> all = List.copyOf(lines);
                List<LogLine> fresh = all.subList(Math.min(read, all.size()), all.size());
                read = all.size();
                return fresh;
            }

            @Override
            public synchronized void close() {
                if (!closed) {
                    closed = true;
                    openLogs.decrementAndGet();
                }
            }
        };
    }

    /** Log readers opened and not yet closed (a followed log holds one until its caller goes away). */
    public int openLogReaders() {
        return openLogs.get();
    }

    /** Runs the exec handler; the returned process has already ended with its output and exit code. */
    @Override
    public Process execAttached(String taskId, List<String> argv) throws Exception {
        ExecResult r = exec(taskId, argv, Duration.ZERO);
        return new SimulatedProcess(r.output(), r.exitCode());
    }

    /** Ends a running container as if its process exited (or was OOM-killed). Returns false if not running. */
    public boolean exit(String taskId, int code, boolean oomKilled) {
        Exit exit = new Exit(code, oomKilled, "");
        boolean[] ended = {false};
        containers.computeIfPresent(taskId, (k, c) -> {
            ended[0] = c.running;
            return c.running ? new Container(c.id, c.pid, false, exit) : c;
        });
        if (ended[0]) {
            listener.exited(taskId, exit);
        }
        return ended[0];
    }

    @Override
    public Exit stop(String taskId, Duration grace, String signal) {
        Container c = containers.computeIfPresent(taskId, (k, old) -> old.running
                ? new Container(old.id, old.pid, false, new Exit(signal.equals("SIGKILL") ? 137 : 143, false, ""))
                : old);
        return c == null ? new Exit(0, false, "no container") : c.exit;
    }

    @Override
    public void remove(String taskId) {
        containers.remove(taskId);
        logs.remove(taskId);
        removed.add(taskId);
    }

    /** Whether {@link #remove} was called for the task. */
    public boolean wasRemoved(String taskId) {
        return removed.contains(taskId);
    }

    /** Whether the task's simulated container is running. */
    public boolean isRunning(String taskId) {
        Container c = containers.get(taskId);
        return c != null && c.running;
    }

    /** Ids of the running simulated containers. */
    public Set<String> running() {
        return Set.copyOf(containers.entrySet().stream().filter(e -> e.getValue().running).map(Map.Entry::getKey).toList());
    }

    @Override
    public Optional<TaskUsage> usage(String taskId) {
        // a fixed small reading, so heartbeats carry something the manager can aggregate
        return isRunning(taskId) ? Optional.of(TaskUsage.newBuilder().setNanoCpus(10_000_000L)
                .setMemoryBytes(8L << 20).setSampledAtMs(clock.millis()).build()) : Optional.empty();
    }

    @Override
    public ExecResult exec(String taskId, List<String> argv, Duration timeout) throws Exception {
        if (!isRunning(taskId)) {
            throw new IllegalStateException("container of task " + taskId + " is not running");
        }
        return execHandler.apply(taskId, argv);
    }

    @Override
    public InetAddress probeAddress(String taskId) {
        return InetAddress.getLoopbackAddress();
    }

    @Override
    public void retain(Set<String> owned) {
        containers.keySet().removeIf(id -> !owned.contains(id));
    }

    @Override
    public Optional<Adoption> adopt(Task task) {
        Container c = containers.get(task.getMeta().getId());
        if (c == null) {
            return Optional.empty();
        }
        return Optional.of(new Adoption(ContainerStatus.newBuilder().setContainerId(c.id).setPid(c.pid).build(),
                Optional.ofNullable(c.exit)));
    }
}
