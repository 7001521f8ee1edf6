package dev.berth.agent.task;

import dev.berth.agent.AgentCommand;
import dev.berth.agent.cgroup.CgroupManager;
import dev.berth.agent.fs.FileTrees;
import dev.berth.registry.TestImages;
import dev.berth.registry.TestRegistry;
import dev.berth.agent.runtime.ContainerRuntime;
import dev.berth.agent.runtime.LauncherBinary;
import dev.berth.agent.runtime.RuntimeSettings;
import dev.berth.agent.session.ScriptedManager;
import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.Meta;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Benchmark harness (a main, kept out of {@code mvn verify}): a real {@code berth agent --executor native} in
 * its own JVM, joined to a scripted manager on loopback, pulling a busybox-static image from a local
 * docker-registry. Measures the agent JVM's RSS at idle and with N running {@code sleep} containers, and the
 * time from assignment (the manager sends the task) to RUNNING (the manager receives the report) for an image
 * already present, one task at a time. Run as root with docker-registry, skopeo, umoci, busybox-static:
 * <pre>
 * mvn -o -q -pl node-agent -am test-compile org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
 *     -Dmdep.outputFile=/tmp/berth-cp.txt -Dmdep.includeScope=test
 * java -XX:+UseSerialGC -cp node-agent/target/test-classes:node-agent/target/classes:proto/target/classes:$(cat /tmp/berth-cp.txt) \
 *     dev.berth.agent.task.NodeAgentBenchmark [containers=100] [timedRuns=20] [agentJvmFlags="-XX:+UseSerialGC -Xmx64m"]
 * </pre>
 */
public final class NodeAgentBenchmark {
    private NodeAgentBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int containers = args.length > 0 ? Integer.parseInt(args[0]) : 100;
        int timedRuns = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        String jvmFlags = args.length > 2 ? args[2] : "-XX:+UseSerialGC -Xmx64m";
        Path work = Files.createTempDirectory("berth-agent-bench");
        Path state = work.resolve("state");
        Process agent = null;
        try (TestRegistry registry = TestRegistry.start(); ScriptedManager manager = ScriptedManager.onLoopback(List.of())) {
            TestImages.busybox(work.resolve("layout"));
            registry.push(work.resolve("layout"), "1", "busybox:1", null, null);
            String image = registry.host() + "/busybox:1";
            manager.heartbeatPeriod(5000);

            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.addAll(List.of(jvmFlags.trim().split("\\s+")));
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), AgentCommand.class.getName(),
                    "--join", "127.0.0.1:" + manager.port(), "--token", "BERTH-1-bench-secret", "--state-dir",
                    state.toString(), "--insecure-registry", registry.host()));
            agent = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(work.resolve("agent.log").toFile()).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (manager.sessions.isEmpty()) {
                if (!agent.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("agent did not connect: " + Files.readString(work.resolve("agent.log")));
                }
                Thread.sleep(20);
            }
            ScriptedManager.Session session = manager.session(0);
            List<Task> assigned = new ArrayList<>();
            long seq = 1;
            session.full(seq++);
            Thread.sleep(10_000);
            long idleRss = rssKb(agent.pid());

            // first task pulls the image; not timed
            assigned.add(task("pull", image));
            session.changes(seq++, List.of(assigned.get(0)), List.of());
            awaitRunning(session, "pull", 120);

            List<Long> latencies = new ArrayList<>();
            for (int i = 0; i < timedRuns; i++) {
                Task t = task("timed" + i, image);
                assigned.add(t);
                long t0 = System.nanoTime();
                session.changes(seq++, List.of(t), List.of());
                awaitRunning(session, t.getMeta().getId(), 60);
                latencies.add(System.nanoTime() - t0);
            }
            int batch = 10;
            while (assigned.size() < containers) {
                List<Task> more = new ArrayList<>();
                for (int i = 0; i < batch && assigned.size() < containers; i++) {
                    Task t = task("c" + assigned.size(), image);
                    assigned.add(t);
                    more.add(t);
                }
                session.changes(seq++, more, List.of());
                for (Task t : more) {
                    awaitRunning(session, t.getMeta().getId(), 120);
                }
            }
            Thread.sleep(10_000);
            long busyRss = rssKb(agent.pid());
            long monitorsRss = monitorsRssKb(state);

            Collections.sort(latencies);
            System.out.printf("agent JVM flags: %s%n", jvmFlags);
            System.out.printf("agent RSS idle (registered, no containers): %.1f MiB%n", idleRss / 1024.0);
            System.out.printf("agent RSS with %d running containers: %.1f MiB%n", assigned.size(), busyRss / 1024.0);
            System.out.printf("launcher processes outside the JVM (one monitor per container), RSS total: %.1f MiB (%.0f KiB each)%n",
                    monitorsRss / 1024.0, (double) monitorsRss / assigned.size());
            System.out.printf("assignment -> RUNNING, image present, %d runs: median %.1f ms, p90 %.1f ms, max %.1f ms%n",
                    latencies.size(), ms(latencies.get(latencies.size() / 2)),
                    ms(latencies.get((int) Math.min(latencies.size() - 1, Math.round(latencies.size() * 0.9)))),
                    ms(latencies.get(latencies.size() - 1)));

            // the empty full set stops and removes every container
            session.full(seq++);
            Path containersDir = state.resolve("runtime");
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
            while (countContainers(containersDir) > 0 && System.nanoTime() < deadline) {
                Thread.sleep(200);
            }
        } finally {
            if (agent != null) {
                agent.destroyForcibly().waitFor(20, TimeUnit.SECONDS);
            }
            cleanUp(state);
            FileTrees.deleteTree(work);
        }
    }

    private static Task task(String id, String image) {
        return Task.newBuilder().setMeta(Meta.newBuilder().setId(id)).setDesiredState(TaskState.RUNNING)
                .setSpec(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage(image)
                        .addCommand("busybox").addArgs("sleep").addArgs("100000")))
                .setStatus(TaskStatus.newBuilder().setState(TaskState.ASSIGNED)).build();
    }

    private static void awaitRunning(ScriptedManager.Session session, String id, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (true) {
            List<String> states = session.transitions(id);
            if (states.contains("RUNNING")) {
                return;
            }
            if (states.contains("FAILED") || states.contains("REJECTED") || System.nanoTime() > deadline) {
                throw new IllegalStateException("task " + id + " did not run: " + states);
            }
            Thread.sleep(1);
        }
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }

    private static long rssKb(long pid) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS for " + pid);
    }

    /** RSS of the processes whose command line names the state dir (the containers' monitors). */
    private static long monitorsRssKb(Path state) throws Exception {
        long sum = 0;
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String cmdline = Files.readString(p.resolve("cmdline")).replace('\0', ' ');
                    if (cmdline.contains(state.toString()) && !cmdline.contains(AgentCommand.class.getName())) {
                        sum += rssKb(Long.parseLong(p.getFileName().toString()));
                    }
                } catch (java.io.IOException | IllegalStateException gone) {
                    // exited meanwhile
                }
            }
        }
        return sum;
    }

    private static long countContainers(Path runtimeDir) throws Exception {
        long n = 0;
        for (Path node : list(runtimeDir)) {
            n += list(node).size();
        }
        return n;
    }

    private static List<Path> list(Path dir) throws java.io.IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        } catch (java.nio.file.NoSuchFileException gone) {
            return List.of();
        }
    }

    /** Removes whatever the agent left (containers, cgroups) for the node id it registered with. */
    private static void cleanUp(Path state) throws Exception {
        Path nodeIdFile = state.resolve("node-id");
        if (Files.exists(nodeIdFile)) {
            String nodeId = Files.readString(nodeIdFile).strip();
            new ContainerRuntime(RuntimeSettings.defaults(nodeId, state, LauncherBinary.extract(state.resolve("bin"))),
                    CgroupManager.detect(nodeId), Clock.systemUTC()).destroyAll();
        }
    }
}
