package dev.berth.testkit.hosts;

import dev.berth.testhosts.TestHosts;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One Berth JVM (a manager or an agent) running in a test host's network namespace: the module
 * classpath of the test, serial GC, a small heap, C1 only (they are short-lived). Output is
 * appended to a log file, which survives restarts and a failed test.
 *
 * <p>Thread model: start/kill from the test thread; one daemon thread per run copies the output.
 * Errors: {@link #start} fails with an {@link IOException} naming the log when the process exits
 * or stays silent before printing its ready line.
 */
public final class HostJvm {
  private final String namespace;
  private final String mainClass;
  private final Path log;
  private Process process;

  public HostJvm(String namespace, String mainClass, Path log) {
    this.namespace = namespace;
    this.mainClass = mainClass;
    this.log = log;
  }

  /** The classpath spawned JVMs get: the test's own (surefire's), which holds every Berth module. */
  static String classpath() {
    return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
  }

  /**
   * Starts {@code mainClass args} and waits up to {@code timeoutSeconds} for a line starting with
   * {@code readyPrefix} (null: returns once started).
   */
  public void start(List<String> args, String readyPrefix, int timeoutSeconds) throws IOException {
    if (alive()) {
      throw new IllegalStateException(mainClass + " in " + namespace + " is already running");
    }
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:+UseSerialGC", "-Xmx192m", "-Xss512k", "-XX:TieredStopAtLevel=1",
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
        "-Dorg.slf4j.simpleLogger.showDateTime=true",
        "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
        "-Dorg.slf4j.simpleLogger.log.dev.berth=info",
        "-cp", classpath(), mainClass));
    cmd.addAll(args);
    Files.createDirectories(log.getParent());
    process = new ProcessBuilder(TestHosts.inHost(namespace, cmd)).redirectErrorStream(true).start();
    CompletableFuture<Void> ready = new CompletableFuture<>();
    if (readyPrefix == null) {
      ready.complete(null);
    }
    Process p = process;
    Thread pump = new Thread(() -> pump(p, readyPrefix, ready), "pump-" + namespace);
    pump.setDaemon(true);
    pump.start();
    try {
      ready.get(timeoutSeconds, TimeUnit.SECONDS);
    } catch (TimeoutException | ExecutionException e) {
      kill();
      throw new IOException(mainClass + " in " + namespace + " not ready within " + timeoutSeconds + " s; see " + log, e);
    } catch (InterruptedException e) {
      kill();
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  private void pump(Process p, String readyPrefix, CompletableFuture<Void> ready) {
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        var out = Files.newBufferedWriter(log, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
            StandardOpenOption.APPEND)) {
      String line;
      while ((line = r.readLine()) != null) {
        out.write(line);
        out.newLine();
        out.flush();
        if (readyPrefix != null && line.startsWith(readyPrefix)) {
          ready.complete(null);
        }
      }
    } catch (IOException e) {
      // the process is gone
    }
    ready.completeExceptionally(new IOException("exited before it was ready"));
  }

  public boolean alive() {
    return process != null && process.isAlive();
  }

  /** The JVM's pid (nsenter execs it, so this is the java process itself). */
  public long pid() {
    return process.pid();
  }

  public Path log() {
    return log;
  }

  /** kill -9, and waits (bounded) until it is gone. */
  public void kill() {
    stop(true);
  }

  /** SIGTERM (the JVM runs its shutdown hooks), then kill -9 after 20 s. */
  public void terminate() {
    stop(false);
  }

  private void stop(boolean forcibly) {
    if (process == null) {
      return;
    }
    try {
      if (!forcibly) {
        process.destroy();
        if (process.waitFor(20, TimeUnit.SECONDS)) {
          return;
        }
      }
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
