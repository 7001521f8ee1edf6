package dev.berth.agent.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.berth.agent.cgroup.CgroupManager;
import dev.berth.agent.fs.FileTrees;
import dev.berth.agent.image.ImageService;
import dev.berth.registry.TestImages;
import dev.berth.registry.TestRegistry;
import dev.berth.agent.loop.EventLoop;
import dev.berth.agent.runtime.ContainerRuntime;
import dev.berth.agent.runtime.ContainerRuntimeException;
import dev.berth.agent.runtime.LauncherBinary;
import dev.berth.agent.runtime.LogLine;
import dev.berth.agent.runtime.RuntimeFixture;
import dev.berth.agent.runtime.RuntimeSettings;
import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.Meta;
import dev.berth.api.v1.ResourceRequirements;
import dev.berth.api.v1.Resources;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * End to end on this host: a real registry (Debian's docker-registry on loopback) holding a busybox-static
 * image built with umoci and pushed with skopeo; the task manager drives {@link NativeExecutor}, which pulls,
 * unpacks and runs real containers through the native launcher. Every test removes its containers, cgroups
 * and state and checks that nothing of its node is left.
 */
class NativeExecutorTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static Path fixtures;
    private static TestRegistry registry;
    private static String image;

    private Path state;
    private String nodeId;
    private ExecutorService pool;
    private Agent agent;

    /** One agent incarnation: an executor and a task manager over the shared state dir. */
    private final class Agent implements AutoCloseable {
        final EventLoop loop = new EventLoop("test-loop", Clock.systemUTC());
        final NativeExecutor executor;
        final TaskManager manager;
        final Map<String, List<TaskStatus>> reports = new ConcurrentHashMap<>();

        Agent() throws Exception {
            ImageService images = ImageService.create(state.resolve("images"), Set.of(registry.host()), pool);
            executor = new NativeExecutor(images, () -> new ContainerRuntime(RuntimeSettings.defaults(nodeId, state,
                    LauncherBinary.extract(state.resolve("bin"))), CgroupManager.detect(nodeId), Clock.systemUTC()),
                    Clock.systemUTC());
            manager = new TaskManager(executor, loop, pool,
                    (id, s) -> reports.computeIfAbsent(id, k -> new CopyOnWriteArrayList<>()).add(s));
        }

        void full(Task... tasks) {
            loop.execute(() -> manager.applyFull(List.of(tasks)));
        }

        void change(Task task) {
            loop.execute(() -> manager.applyChanges(List.of(task), List.of()));
        }

        List<TaskState> states(String id) {
            return reports.getOrDefault(id, List.of()).stream().map(TaskStatus::getState).toList();
        }

        TaskStatus awaitState(String id, TaskState state) {
            await().atMost(WAIT).until(() -> states(id).contains(state));
            return reports.get(id).stream().filter(s -> s.getState() == state).findFirst().orElseThrow();
        }

        @Override
        public void close() {
            executor.close();
            loop.close();
        }
    }

    @BeforeAll
    static void pushImage() throws Exception {
        RuntimeFixture.assumeHost();
        TestRegistry.requireTools("docker-registry", "skopeo", "umoci", "busybox");
        fixtures = Files.createTempDirectory("berth-e2e-images");
        registry = TestRegistry.start();
        TestImages.busybox(fixtures.resolve("busybox"));
        registry.push(fixtures.resolve("busybox"), "1", "busybox:1", null, null);
        image = registry.host() + "/busybox:1";
    }

    @AfterAll
    static void stopRegistry() throws Exception {
        if (registry != null) {
            registry.close();
        }
        if (fixtures != null) {
            FileTrees.deleteTree(fixtures);
        }
    }

    @BeforeEach
    void newNode() throws Exception {
        state = Files.createTempDirectory("berth-e2e-");
        nodeId = "e2e-" + UUID.randomUUID().toString().substring(0, 8);
        pool = Executors.newCachedThreadPool();
        agent = new Agent();
    }

    @AfterEach
    void removeEverything() throws Exception {
        try {
            agent.close();
            agent.executor.runtime().destroyAll();
            RuntimeFixture.assertNothingLeaked(nodeId, state);
        } finally {
            pool.shutdownNow();
            FileTrees.deleteTree(state);
        }
    }

    private static Task task(String id, String img, Consumer<ContainerSpec.Builder> spec) {
        return task(id, img, spec, ResourceRequirements.getDefaultInstance());
    }

    private static Task task(String id, String img, Consumer<ContainerSpec.Builder> spec, ResourceRequirements res) {
        ContainerSpec.Builder c = ContainerSpec.newBuilder().setImage(img);
        spec.accept(c);
        return Task.newBuilder().setMeta(Meta.newBuilder().setId(id)).setDesiredState(TaskState.RUNNING)
                .setSpec(TaskSpec.newBuilder().setContainer(c).setResources(res))
                .setStatus(TaskStatus.newBuilder().setState(TaskState.ASSIGNED)).build();
    }

    private static Task shell(String id, String script) {
        return task(id, image, c -> c.addCommand("/bin/sh").addArgs("-c").addArgs(script));
    }

    private static Task desired(Task t, TaskState s) {
        return t.toBuilder().setDesiredState(s).build();
    }

    private List<String> stdout(String id) {
        return agent.executor.runtime().logs(id).stream().filter(l -> l.stream().equals("stdout"))
                .map(LogLine::text).toList();
    }

    @Test
    void aTaskFromTheRegistryRunsLogsAndShutsDown() throws Exception {
        String digest = ImageService.create(state.resolve("resolve"), Set.of(registry.host()), pool)
                .resolve(image, dev.berth.registry.RegistryCredentials.anonymous()).toString();
        Task t = task("web1", image, c -> c.setImageDigest(digest).addCommand("sh").addArgs("-c")
                .addArgs("echo hello; echo $FOO; trap 'echo got-quit; exit 7' QUIT; busybox sleep 1000 & wait")
                .setStopGracePeriodMs(20_000));
        agent.full(t);
        TaskStatus running = agent.awaitState("web1", TaskState.RUNNING);
        assertThat(agent.states("web1")).containsExactly(TaskState.ACCEPTED, TaskState.PREPARING, TaskState.STARTING,
                TaskState.RUNNING);
        assertThat(running.getContainer().getPid()).isPositive();
        // the image's Env reached the container through the merge
        await().atMost(WAIT).until(() -> stdout("web1"), out -> out.equals(List.of("hello", "bar")));
        await().atMost(WAIT).until(() -> agent.manager.usage().containsKey("web1"));

        agent.change(desired(t, TaskState.SHUTDOWN));
        TaskStatus down = agent.awaitState("web1", TaskState.SHUTDOWN);
        // the image's StopSignal (SIGQUIT) was sent, and the container ended by it within the grace period
        assertThat(down.getContainer().getExitCode()).isEqualTo(7);
        assertThat(stdout("web1")).containsExactly("hello", "bar", "got-quit");
        assertThat(agent.states("web1")).doesNotContain(TaskState.FAILED);
    }

    @Test
    void anImportedLayoutRunsWithoutARegistryWithTheImagesEntrypointAndCmd() throws Exception {
        Path tar = state.resolve("busybox.tar");
        TestRegistry.run(List.of("tar", "-C", fixtures.resolve("busybox").toString(), "-cf", tar.toString(), "."));
        java.io.StringWriter out = new java.io.StringWriter();
        picocli.CommandLine cli = new picocli.CommandLine(new dev.berth.agent.ImageCommand());
        cli.setOut(new java.io.PrintWriter(out));
        assertThat(cli.execute("import", tar.toString(), "--name", "local/app", "--state-dir", state.toString()))
                .isZero();
        assertThat(out.toString()).contains("imported docker.io/local/app:1 sha256:");
        agent.close();
        agent = new Agent(); // the agent reads the store's names at start
        agent.full(task("imported", "local/app:1", c -> { }));
        TaskStatus done = agent.awaitState("imported", TaskState.COMPLETE);
        assertThat(done.getContainer().getExitCode()).isZero();
        assertThat(stdout("imported")).containsExactly("hi"); // Entrypoint /bin/sh, Cmd -c "echo hi"
    }

    @Test
    void exitCodesFailuresAndBadImagesAreReportedWithTheirReasons() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        String unknown = registry.host() + "/no-such-image:1";
        String down = "127.0.0.1:" + closed + "/busybox:1";
        agent.full(shell("exit3", "echo bye; exit 3"),
                task("unknown", unknown, c -> c.addCommand("true")),
                task("down", down, c -> c.addCommand("true")),
                task("nobin", image, c -> c.addCommand("/no/such/binary")));
        TaskStatus failed = agent.awaitState("exit3", TaskState.FAILED);
        assertThat(failed.getContainer().getExitCode()).isEqualTo(3);
        assertThat(failed.getContainer().getOomKilled()).isFalse();
        assertThat(failed.getMessage()).isEqualTo("exited with code 3");
        assertThat(stdout("exit3")).containsExactly("bye");

        TaskStatus rejected = agent.awaitState("unknown", TaskState.REJECTED);
        assertThat(rejected.getErr()).contains("no-such-image").contains("not found");
        TaskStatus unreachable = agent.awaitState("down", TaskState.FAILED);
        assertThat(unreachable.getErr()).contains("127.0.0.1:" + closed).contains("unreachable");
        assertThat(agent.states("down")).doesNotContain(TaskState.REJECTED);
        TaskStatus nobin = agent.awaitState("nobin", TaskState.FAILED);
        assertThat(nobin.getMessage()).isEqualTo("starting failed");
        assertThat(nobin.getErr()).contains("/no/such/binary");
    }

    @Test
    void aMemoryHogIsReportedOomKilled() {
        ResourceRequirements res = ResourceRequirements.newBuilder()
                .setLimits(Resources.newBuilder().setMemoryBytes(32L << 20)).build();
        agent.full(task("hog", image, c -> c.addCommand("busybox").addArgs("dd").addArgs("if=/dev/zero")
                .addArgs("of=/dev/null").addArgs("bs=256M").addArgs("count=1"), res));
        TaskStatus failed = agent.awaitState("hog", TaskState.FAILED);
        assertThat(failed.getContainer().getOomKilled()).isTrue();
        assertThat(failed.getContainer().getExitCode()).isEqualTo(137);
        assertThat(failed.getMessage()).startsWith("OOM killed");
    }

    @Test
    void twoContainersOfOneImageShareItsLayersAndGrowDiskByTheirUpperDirsOnly() throws Exception {
        String writeAndWait = "busybox dd if=/dev/zero of=/data bs=1024 count=1024 2>/dev/null && echo written; busybox sleep 1000";
        agent.full(shell("one", writeAndWait));
        await().atMost(WAIT).until(() -> agent.states("one").contains(TaskState.RUNNING) && stdout("one").contains("written"));
        long imagesBefore = du(state.resolve("images"));
        long runtimeBefore = du(runtimeDir());
        agent.full(shell("one", writeAndWait), shell("two", writeAndWait));
        await().atMost(WAIT).until(() -> agent.states("two").contains(TaskState.RUNNING) && stdout("two").contains("written"));

        assertThat(du(state.resolve("images"))).as("no layer stored again").isEqualTo(imagesBefore);
        Path upperOne = runtimeDir().resolve("one/upper");
        Path upperTwo = runtimeDir().resolve("two/upper");
        assertThat(Files.size(upperOne.resolve("data"))).isEqualTo(1 << 20);
        assertThat(Files.size(upperTwo.resolve("data"))).isEqualTo(1 << 20);
        long growth = du(runtimeDir()) - runtimeBefore;
        // the second container's upper dir (1 MiB) plus its config, records and log: far below a layer copy
        assertThat(growth).isBetween(du(upperTwo), du(upperTwo) + (64 << 10));
        long layerBytes = du(state.resolve("images/layers"));
        assertThat(layerBytes).as("the busybox layer").isGreaterThan(1 << 20);
        // both overlays list the same unpacked layer dirs
        assertThat(lowers("one")).isEqualTo(lowers("two")).isNotEmpty()
                .allSatisfy(l -> assertThat(l).startsWith(state.resolve("images/layers").toString()));
        // what one container wrote is invisible to the other and absent from the layer
        assertThat(agent.executor.exec("two", List.of("/bin/sh", "-c", "echo x > /only-two; ls /"), Duration.ofSeconds(20))
                .output()).contains("only-two");
        assertThat(agent.executor.exec("one", List.of("/bin/sh", "-c", "test -e /only-two; echo $?"),
                Duration.ofSeconds(20)).output().trim()).isEqualTo("1");
        try (Stream<Path> s = Files.walk(state.resolve("images/layers"))) {
            assertThat(s.filter(p -> p.getFileName().toString().equals("only-two")).toList()).isEmpty();
        }
    }

    @Test
    void aRestartedAgentAdoptsItsRunningContainerAndRemovesOnesItNoLongerOwns() throws Exception {
        Task kept = shell("kept", "echo started; busybox sleep 1000");
        Task dropped = shell("dropped", "busybox sleep 1000");
        Task quitter = shell("quitter", "trap 'echo got-quit; exit 7' QUIT; busybox sleep 1000 & wait");
        agent.full(kept, dropped, quitter);
        TaskStatus running = agent.awaitState("kept", TaskState.RUNNING);
        TaskStatus quitterRunning = agent.awaitState("quitter", TaskState.RUNNING);
        agent.awaitState("dropped", TaskState.RUNNING);
        agent.close(); // the agent goes away; its containers' monitors keep them running

        agent = new Agent();
        // the manager's view: "kept" runs here; "dropped" was reassigned elsewhere meanwhile
        agent.full(kept.toBuilder().setStatus(running).build(), quitter.toBuilder().setStatus(quitterRunning).build());
        await().atMost(WAIT).until(() -> agent.manager.usage().containsKey("kept"));
        await().atMost(WAIT).untilAsserted(() -> assertThat(agent.executor.runtime().list())
                .extracting(c -> c.id()).containsExactlyInAnyOrder("kept", "quitter"));

        // stopping an adopted container still sends its image's stop signal (SIGQUIT), not a blind SIGTERM
        agent.change(desired(quitter.toBuilder().setStatus(quitterRunning).build(), TaskState.SHUTDOWN));
        assertThat(agent.awaitState("quitter", TaskState.SHUTDOWN).getContainer().getExitCode()).isEqualTo(7);
        assertThat(stdout("quitter")).containsExactly("got-quit");
        assertThat(agent.reports).doesNotContainKey("kept"); // still RUNNING as reported: nothing new to say
        assertThat(stdout("kept")).containsExactly("started");
        assertThat(agent.executor.exec("kept", List.of("busybox", "hostname"), Duration.ofSeconds(20)).output().trim())
                .isEqualTo("kept");

        // the adopted container's exit is still observed
        agent.executor.runtime().kill("kept", "SIGKILL");
        TaskStatus failed = agent.awaitState("kept", TaskState.FAILED);
        assertThat(failed.getContainer().getExitCode()).isEqualTo(137);
        assertThat(failed.getContainer().getOomKilled()).isFalse();
        try {
            agent.executor.runtime().inspect("dropped");
            throw new AssertionError("dropped container still exists");
        } catch (ContainerRuntimeException e) {
            assertThat(e.reason()).isEqualTo(ContainerRuntimeException.Reason.NOT_FOUND);
        }
    }

    private Path runtimeDir() {
        return state.resolve("runtime").resolve(nodeId);
    }

    private List<String> lowers(String id) throws IOException {
        String[] kv = Files.readString(runtimeDir().resolve(id).resolve("config")).split("\0");
        List<String> out = new ArrayList<>();
        for (int i = 0; i + 1 < kv.length; i += 2) {
            if (kv[i].equals("lower")) {
                out.add(kv[i + 1]);
            }
        }
        return out;
    }

    /** Bytes of the regular files in a tree (links not followed, each file counted once per path). */
    private static long du(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    return 0; // rotated or removed meanwhile
                }
            }).sum();
        }
    }
}
