package dev.berth.agent.net;

import dev.berth.agent.cgroup.CgroupManager;
import dev.berth.agent.health.ExecResult;
import dev.berth.agent.image.ImageService;
import dev.berth.agent.runtime.ContainerRuntime;
import dev.berth.agent.runtime.LauncherBinary;
import dev.berth.agent.runtime.RuntimeSettings;
import dev.berth.agent.task.NativeExecutor;
import dev.berth.api.v1.Assignments;
import dev.berth.api.v1.Task;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.Executors;

/**
 * One node of {@link NetworkIntegrationTest}: the agent's {@link NetworkController} and {@link NativeExecutor}
 * (real containers) in a JVM started inside a test host's network namespace (`nsenter --net`, as a JVM cannot
 * bind the DNS server and mesh ports in another namespace). Driven on stdin, one command per line, each
 * answered by one line "ok ..." or "err MESSAGE":
 * <ul>
 *   <li>{@code assign B64} applies an {@link Assignments} message as the session would, and waits for it;
 *   <li>{@code start B64} prepares and starts a {@link Task} (image imported from the layout tar);
 *   <li>{@code exec TASK B64ARGV} runs a command in a task ({@code ok CODE B64OUTPUT});
 *   <li>{@code stop TASK} kills and removes a task; {@code teardown} removes everything of the node;
 *   <li>{@code quit} exits leaving containers and the data plane as they are (an agent restart).
 * </ul>
 * Args: NODE_ID STATE_DIR UNDERLAY_IP IMAGE_TAR UPSTREAM_DNS_IP
 */
public final class NodeHarness {
    private NodeHarness() {
    }

    public static void main(String[] args) throws Exception {
        String nodeId = args[0];
        Path state = Path.of(args[1]);
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        NetworkController net = new NetworkController(new NetworkController.Settings(Underlay.find(args[2]),
                "172.18.0.0/16", List.of(new InetSocketAddress(args[4], 53))));
        ImageService images = ImageService.create(state.resolve("images"), java.util.Set.of(),
                Executors.newFixedThreadPool(2));
        images.importLayout(Path.of(args[3]), "busybox");
        NativeExecutor executor = new NativeExecutor(images, () -> new ContainerRuntime(RuntimeSettings.defaults(nodeId,
                state, LauncherBinary.extract(state.resolve("bin"))), CgroupManager.detect(nodeId), Clock.systemUTC()),
                Clock.systemUTC(), net);
        executor.runtime();
        out.println("ready");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        Base64.Decoder b64 = Base64.getDecoder();
        for (String line; (line = in.readLine()) != null; ) {
            String[] t = line.trim().split(" ");
            try {
                switch (t[0]) {
                    case "assign" -> {
                        net.accept(nodeId, Assignments.parseFrom(b64.decode(t[1])));
                        net.release("barrier"); // runs after the queued assignments
                        out.println("ok");
                    }
                    case "start" -> {
                        Task task = Task.parseFrom(b64.decode(t[1]));
                        executor.prepare(task);
                        out.println("ok " + executor.start(task).getPid());
                    }
                    case "exec" -> {
                        List<String> argv = List.of(new String(b64.decode(t[2]), StandardCharsets.UTF_8).split("\u0000"));
                        ExecResult r = executor.exec(t[1], argv, Duration.ofSeconds(30));
                        out.println("ok " + r.exitCode() + " " + Base64.getEncoder().encodeToString(
                                r.output().getBytes(StandardCharsets.UTF_8)));
                    }
                    case "stop" -> {
                        executor.stop(t[1], Duration.ZERO, "SIGKILL");
                        executor.remove(t[1]);
                        out.println("ok");
                    }
                    case "teardown" -> {
                        executor.runtime().destroyAll();
                        net.teardown();
                        out.println("ok");
                    }
                    case "quit" -> {
                        net.close();
                        executor.close();
                        out.println("ok");
                        System.exit(0);
                    }
                    default -> out.println("err unknown command " + t[0]);
                }
            } catch (Exception e) {
                out.println("err " + String.valueOf(e).replace('\n', ' '));
            }
        }
        System.exit(0);
    }
}
