package dev.berth.agent.net;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import dev.berth.testhosts.TestHosts;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;

/**
 * The test's handle on one {@link NodeHarness} process in a test host's namespace: sends a command line,
 * returns the "ok" answer's remainder, throws on "err".
 */
final class TestNode implements AutoCloseable {
    final String id;
    final String hostNs;
    final String ip;
    private final List<String> args;
    private final Path log;
    private Process process;
    private BufferedReader in;
    private Writer out;

    TestNode(String id, String hostNs, String ip, Path state, Path imageTar, String upstreamIp) {
        this.id = id;
        this.hostNs = hostNs;
        this.ip = ip;
        this.log = state.resolveSibling(id + ".log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        this.args = TestHosts.inHost(hostNs, List.of(java, "-XX:+UseSerialGC", "-Xmx128m",
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), NodeHarness.class.getName(),
                id, state.toString(), ip, imageTar.toString(), upstreamIp));
    }

    /** Starts (or restarts) the node's process and waits until it is ready. */
    TestNode start() throws IOException {
        process = new ProcessBuilder(args).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        out = new java.io.OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        String first = in.readLine();
        assertThat(first).as("node %s started (log %s)", id, log).isEqualTo("ready");
        return this;
    }

    String send(String command) throws IOException {
        out.write(command + "\n");
        out.flush();
        String answer = in.readLine();
        if (answer == null || !answer.startsWith("ok")) {
            throw new IOException("node " + id + ": '" + command.split(" ")[0] + "' answered " + answer + " (log " + log + ")");
        }
        return answer.length() > 3 ? answer.substring(3) : "";
    }

    void assign(Message assignments) throws IOException {
        send("assign " + b64(assignments.toByteArray()));
    }

    void start(Message task) throws IOException {
        send("start " + b64(task.toByteArray()));
    }

    /** Runs argv in a task: exit code and output. */
    Exec exec(String taskId, String... argv) throws IOException {
        String[] r = send("exec " + taskId + " " + b64(String.join("\u0000", argv).getBytes(StandardCharsets.UTF_8)))
                .split(" ", 2);
        return new Exec(Integer.parseInt(r[0]),
                r.length > 1 ? new String(Base64.getDecoder().decode(r[1]), StandardCharsets.UTF_8) : "");
    }

    record Exec(int code, String output) {
    }

    /** Ends the process without touching containers or the data plane (an agent restart). */
    void quit() throws IOException {
        send("quit");
        waitFor();
    }

    private static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }

    private void waitFor() {
        try {
            process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        process.destroyForcibly();
    }

    /** Removes the node's containers and network state, then ends the process. */
    @Override
    public void close() {
        if (process == null || !process.isAlive()) {
            return;
        }
        try {
            send("teardown");
            send("quit");
        } catch (IOException e) {
            System.err.println("tearing down node " + id + ": " + e.getMessage());
        }
        waitFor();
    }
}
