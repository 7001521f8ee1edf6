package dev.berth.manager;

import dev.berth.api.v1.ClusterServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A manager running as a separate JVM (the test classpath; serial GC and a small heap, or the
 * launcher's manager flags for the benchmark), for multi-process tests and the benchmark.
 * Output goes to {@code <stateDir>.log}.
 */
public final class ManagerProcess implements AutoCloseable {
  final Path stateDir;
  final int apiPort;
  final int raftPort;
  private Process process;
  private ManagedChannel channel;

  public ManagerProcess(Path stateDir) throws IOException {
    this.stateDir = stateDir;
    this.apiPort = freePort();
    this.raftPort = freePort();
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** Test JVMs: serial GC, small heap, C1 only (many of them share 2 cores and start fast). */
  static final List<String> TEST_JVM = List.of("-XX:+UseSerialGC", "-Xmx256m", "-XX:TieredStopAtLevel=1");
  /** What {@code bin/berth manager} runs with (keep in step with it); the benchmark's default. */
  static final List<String> PRODUCTION_JVM = List.of("-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Xms256m",
      "-Xmx1g", "-XX:TieredStopAtLevel=1");

  /**
   * {@code -Dberth.manager.jvm=production} selects the launcher's manager flags; any other value
   * but {@code test} is taken as the flags themselves, space-separated (benchmark comparisons).
   */
  private static List<String> jvmFlags() {
    String jvm = System.getProperty("berth.manager.jvm", "test").trim();
    return switch (jvm) {
      case "test" -> TEST_JVM;
      case "production" -> PRODUCTION_JVM;
      default -> List.of(jvm.split("\\s+"));
    };
  }

  public String addr() {
    return "127.0.0.1:" + apiPort;
  }

  /** Starts {@code berth manager <command> ...} and waits for its ready line. */
  public void start(boolean roomy, String command, String... extra) throws Exception {
    List<String> jvm = jvmFlags();
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvm);
    cmd.addAll(List.of(
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
        "-Dorg.slf4j.simpleLogger.showDateTime=true",
        "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
        "-Dorg.slf4j.simpleLogger.log.dev.berth=info",
        "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")),
        ManagerMain.class.getName(), command,
        "--state-dir", stateDir.toString(), "--listen-addr", addr(),
        "--raft-port", String.valueOf(raftPort), "--metrics-port", "-1"));
    // benchmarks: extra JVM flags for the manager (e.g. GC logging), space-separated
    String extraJvm = System.getProperty("berth.manager.jvmArgs", "").trim();
    if (!extraJvm.isEmpty()) {
      cmd.addAll(1 + jvm.size(), List.of(extraJvm.replace("%DIR%", stateDir.toString()).split("\\s+")));
    }
    if (roomy) {
      cmd.add("--roomy-raft");
    }
    cmd.addAll(List.of(extra));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    process = pb.start();
    Path log = Path.of(stateDir + ".log");
    CompletableFuture<Void> ready = new CompletableFuture<>();
    Thread pump = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
          StandardCharsets.UTF_8));
          var out = java.nio.file.Files.newBufferedWriter(log, StandardCharsets.UTF_8,
              java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND)) {
        String line;
        while ((line = r.readLine()) != null) {
          out.write(line);
          out.newLine();
          out.flush();
          if (line.startsWith("BERTH-MANAGER-READY")) {
            ready.complete(null);
          }
        }
      } catch (IOException e) {
        // process gone
      }
      ready.completeExceptionally(new IOException("manager exited before ready; see " + log));
    }, "pump-" + apiPort);
    pump.setDaemon(true);
    pump.start();
    ready.get(120, TimeUnit.SECONDS);
  }

  public ClusterServiceGrpc.ClusterServiceBlockingStub api() {
    if (channel == null) {
      channel = NettyChannelBuilder.forTarget(addr()).usePlaintext().build();
    }
    return ClusterServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  public boolean alive() {
    return process != null && process.isAlive();
  }

  /** Sends a signal ("STOP" pauses the process, "CONT" resumes it). */
  public void signal(String name) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + name, String.valueOf(process.pid())).inheritIO().start();
    if (kill.waitFor() != 0) {
      throw new IOException("kill -" + name + " " + process.pid() + " failed");
    }
  }

  /** kill -9. */
  public void kill() throws InterruptedException {
    if (process != null) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }
    if (channel != null) {
      channel.shutdownNow();
      channel = null;
    }
  }

  /** SIGTERM (shutdown hooks run: a flight recording is dumped), kill -9 after 10 s. */
  public void stop() throws InterruptedException {
    if (process != null && process.isAlive()) {
      process.destroy();
      process.waitFor(10, TimeUnit.SECONDS);
    }
    kill();
  }

  @Override
  public void close() throws InterruptedException {
    kill();
  }
}
