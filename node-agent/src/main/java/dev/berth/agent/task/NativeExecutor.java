package dev.berth.agent.task;

import dev.berth.agent.cgroup.CgroupManager;
import dev.berth.agent.health.ExecResult;
import dev.berth.agent.image.ConfigMerger;
import dev.berth.registry.ImageException;
import dev.berth.agent.image.ImageGc;
import dev.berth.agent.image.ImageService;
import dev.berth.agent.image.PulledImage;
import dev.berth.agent.runtime.ContainerConfig;
import dev.berth.agent.runtime.ContainerInfo;
import dev.berth.agent.runtime.ContainerRuntime;
import dev.berth.agent.runtime.ContainerRuntimeException;
import dev.berth.agent.runtime.ExitStatus;
import dev.berth.agent.runtime.LauncherBinary;
import dev.berth.agent.runtime.LogReader;
import dev.berth.agent.runtime.RuntimeSettings;
import dev.berth.agent.session.NodeIdStore;
import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.ContainerStatus;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskUsage;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The real {@link TaskExecutor}: pulls and unpacks the task's image with {@link ImageService}, merges the
 * image config into the spec with {@link ConfigMerger}, and runs the container with {@link ContainerRuntime}
 * (the native launcher; a monitor process per container that outlives the agent).
 *
 * <p>The runtime is made on first use, because its host resources (cgroups {@code berth-<nodeId>}, state
 * {@code runtime/<nodeId>}) are named with the node id, which an agent learns only when it registers. On
 * creation every container the node left behind is adopted ({@link ContainerRuntime#adopt()}); the first
 * full task set then {@link #retain retains} only those the manager still assigns.
 *
 * <p>Thread model: thread-safe. Blocking methods run on the task manager's workers; {@link #usage} and
 * {@link #probeAddress} do not block (usage reads a few cgroup files). Exits are found by one daemon
 * thread that polls the monitors' exit records of the started and adopted containers every
 * {@value #POLL_MS} ms and tells the exit listener. Error contract: an image that does not exist, is
 * refused, invalid or for another platform, or a spec the image cannot run (no command) is a {@link
 * TaskRejectedException}; an unreachable or failing registry or a host failure is a plain exception; the
 * messages are the image service's and runtime's (they name the image, registry or container).
 */
public final class NativeExecutor implements TaskExecutor, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(NativeExecutor.class.getName());
    static final long POLL_MS = 200;

    private final ImageService images;
    private final Supplier<ContainerRuntime> runtimeFactory;
    private final Clock clock;
    private final TaskNetworking networking;
    private final ScheduledExecutorService poller;
    private final Map<String, Ready> ready = new ConcurrentHashMap<>();
    private final Set<String> watched = ConcurrentHashMap.newKeySet();
    private final Set<String> known = ConcurrentHashMap.newKeySet();
    private final Object createLock = new Object();
    private volatile ContainerRuntime runtime;
    private volatile ExitListener listener = (id, exit) -> { };
    /** Collects unused images on {@link #poller}; null for executors made without {@link #create}. */
    private volatile ImageGc imageGc;

    /** The merged spec and layers of a prepared task. */
    private record Ready(ContainerSpec spec, List<Path> lowerDirs) {
    }

    /**
     * @param runtimeFactory makes the node's runtime on first use (called once)
     */
    public NativeExecutor(ImageService images, Supplier<ContainerRuntime> runtimeFactory, Clock clock) {
        this(images, runtimeFactory, clock, TaskNetworking.NONE);
    }

    /**
     * @param networking wires the namespaces of tasks attached to networks (before their process starts)
     *     and removes them when the tasks end
     */
    public NativeExecutor(ImageService images, Supplier<ContainerRuntime> runtimeFactory, Clock clock,
                          TaskNetworking networking) {
        this.images = images;
        this.runtimeFactory = runtimeFactory;
        this.clock = clock;
        this.networking = networking;
        this.poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "berth-exit-watch");
            t.setDaemon(true);
            return t;
        });
        poller.scheduleWithFixedDelay(this::pollExits, POLL_MS, POLL_MS, TimeUnit.MILLISECONDS);
    }

    /**
     * The agent's executor over {@code stateDir}: images in {@code images/}, the launcher in {@code bin/},
     * containers in {@code runtime/<nodeId>/}; the node id is read from the state dir's node-id file (the
     * session writes it when it registers, before any task arrives).
     */
    public static NativeExecutor create(Path stateDir, Set<String> insecureRegistries, Clock clock,
                                        TaskNetworking networking) throws IOException, ImageException {
        ImageService images = ImageService.create(stateDir.resolve("images"), insecureRegistries,
                Executors.newFixedThreadPool(3, r -> {
                    Thread t = new Thread(r, "berth-layer-fetch");
                    t.setDaemon(true);
                    return t;
                }));
        NodeIdStore ids = new NodeIdStore(stateDir);
        NativeExecutor executor = new NativeExecutor(images, () -> {
            String nodeId = ids.load().orElseThrow(() -> new IllegalStateException(
                    "no node id in " + stateDir + " yet: the agent has not registered"));
            return new ContainerRuntime(RuntimeSettings.defaults(nodeId, stateDir,
                    LauncherBinary.extract(stateDir.resolve("bin"))), CgroupManager.detect(nodeId), clock);
        }, clock, networking);
        executor.imageGc = new ImageGc(images, executor::layerDirsInUse, ImageGc.DiskUse.of(images.fileStore()), clock,
                ImageGc.Policy.defaults());
        executor.imageGc.start(executor.poller);
        return executor;
    }

    /**
     * Image layer stacks this node uses: its containers' (any state, adopted ones included, read from their launch
     * configs) and those of tasks prepared but not yet created. What image GC must keep.
     */
    public List<List<Path>> layerDirsInUse() {
        List<List<Path>> out = new ArrayList<>();
        ready.values().forEach(r -> out.add(r.lowerDirs()));
        out.addAll(runtime().lowerDirsInUse());
        return out;
    }

    @Override
    public String name() {
        return "native";
    }

    @Override
    public void onExit(ExitListener l) {
        this.listener = l;
    }

    /** The node's runtime, made (and its leftover containers adopted) on first call. */
    public ContainerRuntime runtime() {
        ContainerRuntime rt = runtime;
        if (rt != null) {
            return rt;
        }
        synchronized (this) {
            if (runtime == null) {
                ContainerRuntime made = runtimeFactory.get();
                List<ContainerInfo> found = made.adopt();
                long running = found.stream().filter(c -> c.state() == ContainerInfo.State.RUNNING).count();
                LOG.log(System.Logger.Level.INFO, "container runtime for node " + made.nodeId() + ": found "
                        + found.size() + " container(s) from before, " + running + " running");
                runtime = made;
            }
            return runtime;
        }
    }

    @Override
    public Prepared prepare(Task task) throws Exception {
        String id = task.getMeta().getId();
        checkId(id);
        known.add(id);
        ContainerSpec spec = task.getSpec().getContainer();
        PulledImage image;
        ContainerSpec merged;
        try {
            image = images.pull(spec);
            merged = ConfigMerger.merge(image.config(), spec);
        } catch (ImageException e) {
            throw switch (e.kind()) {
                case NOT_FOUND, AUTH_FAILED, INVALID, UNSUPPORTED -> new TaskRejectedException(e.getMessage(), e);
                default -> e;
            };
        } catch (IllegalArgumentException e) {
            throw new TaskRejectedException("image " + spec.getImage() + ": " + e.getMessage(), e);
        }
        ready.put(id, new Ready(merged, image.lowerDirs()));
        return new Prepared(Optional.ofNullable(image.config().healthcheck()),
                Optional.of(image.config().stopSignal()).filter(s -> !s.isEmpty()));
    }

    private static void checkId(String id) throws TaskRejectedException {
        try {
            CgroupManager.checkName("task id", id);
        } catch (IllegalArgumentException e) {
            throw new TaskRejectedException(e.getMessage());
        }
    }

    @Override
    public ContainerStatus start(Task task) throws Exception {
        String id = task.getMeta().getId();
        known.add(id);
        ContainerRuntime rt = runtime();
        Optional<ContainerInfo> existing = find(id);
        ContainerInfo info;
        if (existing.isPresent() && existing.get().state() != ContainerInfo.State.CREATED) {
            info = existing.get(); // a retried start: it already ran
        } else {
            if (existing.isEmpty()) {
                Ready r = ready.get(id);
                if (r == null) {
                    prepare(task);
                    r = ready.get(id);
                }
                Ready prepared = r;
                ContainerConfig plain = new ContainerConfig(id, r.spec(), task.getSpec().getResources(), r.lowerDirs());
                Optional<TaskNetworking.Attachment> net = networking.attach(task, plain.hostname());
                try {
                    synchronized (createLock) {
                        rt.create(net.map(n -> new ContainerConfig(id, prepared.spec(), task.getSpec().getResources(),
                                prepared.lowerDirs(), n.netns(), n.files())).orElse(plain));
                    }
                } catch (RuntimeException e) {
                    release(id, e);
                    throw e;
                }
            }
            info = rt.startDetached(id); // the exit watcher below polls exit records; no waiter per container
        }
        watched.add(id);
        return status(info);
    }

    private static ContainerStatus status(ContainerInfo info) {
        ContainerStatus.Builder b = ContainerStatus.newBuilder().setContainerId(info.id()).setPid((int) info.initPid());
        info.exit().ifPresent(x -> b.setExitCode(x.exitCode()).setOomKilled(x.oomKilled()));
        return b.build();
    }

    @Override
    public Exit stop(String taskId, Duration grace, String signal) throws Exception {
        watched.remove(taskId);
        Optional<ContainerInfo> found = find(taskId);
        if (found.isEmpty()) {
            return new Exit(0, false, "no container");
        }
        return switch (found.get().state()) {
            case CREATED -> new Exit(0, false, "never started");
            case LOST -> lostExit();
            case EXITED -> exit(found.get().exit().orElseThrow());
            // a container adopted from before a restart was not prepared here, so the task manager does not
            // know the image's stop signal: the one recorded at create (spec, else image, else SIGTERM) applies
            case RUNNING -> {
                Exit x = exit(ready.containsKey(taskId) ? runtime().stop(taskId, signal, grace) : runtime().stop(taskId));
                release(taskId, null);
                yield x;
            }
        };
    }

    @Override
    public void remove(String taskId) throws Exception {
        watched.remove(taskId);
        ready.remove(taskId);
        Optional<ContainerInfo> found = find(taskId);
        if (found.isPresent()) {
            if (found.get().state() == ContainerInfo.State.RUNNING) {
                runtime().stop(taskId, "SIGKILL", Duration.ZERO);
            }
            runtime().remove(taskId);
        }
        networking.release(taskId);
        known.remove(taskId);
    }

    @Override
    public Optional<TaskUsage> usage(String taskId) {
        ContainerRuntime rt = runtime;
        if (rt == null || !watched.contains(taskId)) {
            return Optional.empty();
        }
        try {
            var u = rt.usage(taskId);
            return Optional.of(TaskUsage.newBuilder().setNanoCpus(u.nanoCpus()).setMemoryBytes(u.memoryBytes())
                    .setSampledAtMs(clock.millis()).build());
        } catch (ContainerRuntimeException e) {
            return Optional.empty(); // exited between the check and the read
        }
    }

    @Override
    public ExecResult exec(String taskId, List<String> argv, Duration timeout) throws Exception {
        var r = runtime().exec(taskId, argv, timeout);
        return new ExecResult(r.exitCode(), r.stdout() + r.stderr());
    }

    @Override
    public Process execAttached(String taskId, List<String> argv) {
        return runtime().execProcess(taskId, argv);
    }

    @Override
    public LogReader openLog(String taskId) {
        return runtime().openLog(taskId);
    }

    /**
     * A task wired to networks: its gateway-leg address, which the node reaches over its gateway bridge.
     * Any other task has only its own empty namespace: the agent's loopback (ports published on the host).
     */
    @Override
    public InetAddress probeAddress(String taskId) {
        return networking.address(taskId).orElse(InetAddress.getLoopbackAddress());
    }

    @Override
    public Optional<Adoption> adopt(Task task) {
        String id = task.getMeta().getId();
        known.add(id);
        runtime();
        Optional<ContainerInfo> found = find(id);
        if (found.isEmpty() || found.get().state() == ContainerInfo.State.CREATED) {
            return Optional.empty();
        }
        ContainerInfo c = found.get();
        return Optional.of(switch (c.state()) {
            case RUNNING -> {
                watched.add(id);
                yield new Adoption(status(c), Optional.empty());
            }
            case EXITED -> {
                release(id, null);
                yield new Adoption(status(c), Optional.of(exit(c.exit().orElseThrow())));
            }
            default -> {
                release(id, null);
                yield new Adoption(status(c), Optional.of(lostExit()));
            }
        });
    }

    /**
     * Kills and removes every container (and stray cgroup) of this node that is neither in {@code owned}
     * nor touched by this executor since it started. Called once with the first full task set.
     */
    @Override
    public void retain(Set<String> owned) {
        Set<String> keep = new HashSet<>(owned);
        synchronized (createLock) {
            keep.addAll(known);
            List<String> removed = runtime().removeAllExcept(keep);
            if (!removed.isEmpty()) {
                LOG.log(System.Logger.Level.INFO, "removed " + removed.size() + " container(s) this node no longer owns: "
                        + removed);
            }
        }
    }

    /** Stops the exit watcher and the runtime's launcher server; containers keep running. */
    @Override
    public void close() {
        if (imageGc != null) {
            imageGc.close();
        }
        poller.shutdownNow();
        ContainerRuntime rt = runtime;
        if (rt != null) {
            rt.close();
        }
    }

    private Optional<ContainerInfo> find(String id) {
        try {
            return Optional.of(runtime().inspect(id));
        } catch (ContainerRuntimeException e) {
            if (e.reason() == ContainerRuntimeException.Reason.NOT_FOUND) {
                return Optional.empty();
            }
            throw e;
        }
    }

    private void pollExits() {
        for (String id : watched) {
            try {
                ContainerInfo c = runtime.inspect(id);
                if (c.state() == ContainerInfo.State.EXITED || c.state() == ContainerInfo.State.LOST) {
                    if (watched.remove(id)) {
                        release(id, null);
                        listener.exited(id, c.exit().map(NativeExecutor::exit).orElseGet(NativeExecutor::lostExit));
                    }
                }
            } catch (RuntimeException e) {
                if (e instanceof ContainerRuntimeException cre && cre.reason() == ContainerRuntimeException.Reason.NOT_FOUND) {
                    watched.remove(id);
                } else {
                    LOG.log(System.Logger.Level.WARNING, "watching container " + id + ": " + e.getMessage());
                }
            }
        }
    }

    /**
     * Takes an ended task's namespace off the data plane (its endpoints go from DNS and the mesh with the
     * manager's next assignments); a failure is logged, or added to {@code cause} when there is one, and
     * retried by {@link #remove}.
     */
    private void release(String taskId, Exception cause) {
        try {
            networking.release(taskId);
        } catch (Exception e) {
            if (cause != null) {
                cause.addSuppressed(e);
            } else {
                LOG.log(System.Logger.Level.WARNING, "releasing the network of task " + taskId + ": " + e.getMessage());
            }
        }
    }

    private static Exit exit(ExitStatus s) {
        String message = s.startError().orElse(!s.oomKilled() && s.signal() != 0 ? "killed by signal " + s.signal() : "");
        return new Exit(s.exitCode(), s.oomKilled(), message);
    }

    private static Exit lostExit() {
        return new Exit(-1, false, "the container's monitor vanished without recording an exit");
    }
}
