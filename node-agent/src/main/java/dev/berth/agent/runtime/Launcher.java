package dev.berth.agent.runtime;

import static dev.berth.agent.runtime.ContainerRuntimeException.Reason.HOST_ERROR;
import static dev.berth.agent.runtime.ContainerRuntimeException.Reason.NOT_RUNNING;
import static dev.berth.agent.runtime.ContainerRuntimeException.Reason.START_FAILED;

import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The JVM's side of the native launcher. Starts go to one resident {@code berth-launcher serve}
 * process, spawned on first use (and again if it died): each start is taken by a spare it forked
 * in advance, which becomes the container's monitor, so a start costs no process spawn from the
 * JVM, no exec, no fork on its path and no copy of the launcher into a sealed memfd (the server
 * made that copy once). Monitors are detached from the server and
 * outlive it and the JVM; the server exits when the JVM does (EOF on its stdin). Stop, kill and
 * exec, which are rare, run the launcher as a one-shot process.
 *
 * <p>A start's connection doubles as an exit notice: with {@code wait}, the monitor keeps it open
 * until it has recorded the exit, so the caller learns of the exit by EOF instead of polling.
 *
 * <p>Thread-safe. Errors are {@link ContainerRuntimeException}s.
 */
final class Launcher implements AutoCloseable {
  /** The kernel's limit on a unix socket path (sun_path, 108 bytes including the NUL). */
  private static final int MAX_SOCKET_PATH = 107;
  /** Where sockets go whose preferred path is too long: short, root-only, outside any state dir. */
  private static final String SHORT_SOCKET_DIR_NAME = "/run/berth";
  private static final Path SHORT_SOCKET_DIR = Path.of(SHORT_SOCKET_DIR_NAME);

  /** A started container: its init and monitor pids, and the open exit notice if one was asked for. */
  record Started(long initPid, long monitorPid, SocketChannel exitNotice) {}

  private final Path binary;
  private final Path socket;
  private Process server; // guarded by this

  Launcher(Path binary, Path preferredSocket) {
    this.binary = binary;
    this.socket = socketFor(preferredSocket);
  }

  /**
   * Where the server listens: {@code preferred} when its path fits in sun_path, otherwise a short
   * path in {@value #SHORT_SOCKET_DIR_NAME} named by a hash of {@code preferred}, so one state dir
   * always maps to the same socket (a restarted agent finds its server's) and two never share one.
   * Without it a deep state dir (test hosts under a CI checkout's target/, say) could not run
   * containers at all.
   */
  static Path socketFor(Path preferred) {
    Path p = preferred.toAbsolutePath();
    if (p.toString().getBytes(StandardCharsets.UTF_8).length <= MAX_SOCKET_PATH) {
      return p;
    }
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(p.toString().getBytes(StandardCharsets.UTF_8));
      return SHORT_SOCKET_DIR.resolve("launcher-" + HexFormat.of().formatHex(h, 0, 12) + ".sock");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  /** The socket the server listens on (see {@link #socketFor}). */
  Path socket() {
    return socket;
  }

  /** Starts the container of state dir {@code dir}; returns once its process has exec'd. */
  Started start(Path dir, boolean wait) {
    String id = dir.getFileName().toString();
    SocketChannel ch = connect();
    try {
      ch.write(ByteBuffer.wrap(("run " + dir.toAbsolutePath() + (wait ? " wait" : "") + "\n")
          .getBytes(StandardCharsets.UTF_8)));
      String reply = readLine(ch);
      if (reply.startsWith("ok ")) {
        String[] pids = reply.substring(3).trim().split(" ");
        if (!wait) {
          ch.close();
        }
        return new Started(Long.parseLong(pids[0]), Long.parseLong(pids[1]), wait ? ch : null);
      }
      ch.close();
      if (reply.startsWith("err ")) {
        throw new ContainerRuntimeException(START_FAILED, "container " + id + " failed to start: " + reply.substring(4));
      }
      if (reply.startsWith("fail ")) {
        throw new ContainerRuntimeException(HOST_ERROR, "container " + id + " failed to start: " + reply.substring(5));
      }
      throw new ContainerRuntimeException(HOST_ERROR, "container " + id + " failed to start: its monitor exited early: "
          + monitorErrors(dir));
    } catch (IOException e) {
      closeQuietly(ch);
      throw new ContainerRuntimeException(HOST_ERROR, "talking to the launcher about " + id + ": " + e.getMessage(), e);
    }
  }

  private static String monitorErrors(Path dir) {
    try {
      String s = Files.readString(dir.resolve("monitor.err")).trim();
      return s.isEmpty() ? "(monitor.err is empty)" : s;
    } catch (IOException e) {
      return "(no " + dir.resolve("monitor.err") + ")";
    }
  }

  /** Reads up to the first newline; the monitor writes one line and then nothing until its EOF. */
  private static String readLine(SocketChannel ch) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(2048);
    while (b.hasRemaining() && (b.position() == 0 || b.get(b.position() - 1) != '\n')) {
      if (ch.read(b) < 0) {
        break;
      }
    }
    return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8).trim();
  }

  /**
   * Waits up to {@code timeout} for EOF on a start's exit notice, i.e. for the monitor to have
   * recorded the exit (or to have died). Returns whether it came.
   */
  static boolean awaitExitNotice(SocketChannel ch, Duration timeout) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (ch) {
      ch.configureBlocking(false);
      try (Selector sel = Selector.open()) {
        ch.register(sel, SelectionKey.OP_READ);
        ByteBuffer b = ByteBuffer.allocate(64);
        for (;;) {
          b.clear();
          if (ch.read(b) < 0) {
            return true;
          }
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            return false;
          }
          if (Thread.interrupted()) {
            throw new InterruptedException();
          }
          sel.select(Math.max(1, left / 1_000_000));
        }
      }
    }
  }

  private SocketChannel connect() {
    UnixDomainSocketAddress addr = UnixDomainSocketAddress.of(socket);
    for (int attempt = 0; ; attempt++) {
      ensureServer(attempt > 0);
      SocketChannel ch = null;
      try {
        ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        ch.connect(addr);
        return ch;
      } catch (IOException e) {
        closeQuietly(ch);
        if (attempt > 0) {
          throw new ContainerRuntimeException(HOST_ERROR, "connecting to the launcher at " + socket + ": " + e.getMessage(), e);
        }
      }
    }
  }

  /** Spawns the server unless one is running (or, with {@code replace}, even then). */
  private synchronized void ensureServer(boolean replace) {
    if (server != null && server.isAlive() && !replace) {
      return;
    }
    stopServer();
    try {
      if (socket.getParent().equals(SHORT_SOCKET_DIR)) {
        // root-only: whoever can connect to the server can start containers
        Files.createDirectories(SHORT_SOCKET_DIR, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Files.setPosixFilePermissions(SHORT_SOCKET_DIR, PosixFilePermissions.fromString("rwx------"));
      } else {
        Files.createDirectories(socket.getParent());
      }
      Process p = new ProcessBuilder(binary.toString(), "serve", socket.toString()).redirectErrorStream(true).start();
      String ready = readLine(p.getInputStream());
      if (!ready.equals("ready")) {
        p.destroyForcibly();
        throw new ContainerRuntimeException(HOST_ERROR, "the launcher server did not start: "
            + ready + new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim());
      }
      server = p;
    } catch (IOException e) {
      throw new ContainerRuntimeException(HOST_ERROR, "starting the launcher server " + binary + ": " + e.getMessage(), e);
    }
  }

  private static String readLine(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    for (int b; (b = in.read()) >= 0 && b != '\n'; ) {
      sb.append((char) b);
    }
    return sb.toString();
  }

  private void stopServer() {
    if (server == null) {
      return;
    }
    try {
      server.getOutputStream().close(); // EOF: the server unlinks its socket and exits
      if (!server.waitFor(5, TimeUnit.SECONDS)) {
        server.destroyForcibly();
      }
    } catch (IOException e) {
      server.destroyForcibly();
    } catch (InterruptedException e) {
      server.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    server = null;
  }

  /** Stops the server; running containers and their monitors are not affected. */
  @Override
  public synchronized void close() {
    stopServer();
  }

  /** Runs a one-shot launcher command ({@code stop}, {@code kill}) on a container; returns its output. */
  String command(Path dir, String... args) {
    List<String> cmd = new ArrayList<>(List.of(binary.toString(), args[0], dir.toString()));
    cmd.addAll(List.of(args).subList(1, args.length));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (p.waitFor() != 0) {
        throw new ContainerRuntimeException(out.contains("is not running") ? NOT_RUNNING : HOST_ERROR,
            "launcher " + args[0] + " for " + dir.getFileName() + ": " + out);
      }
      return out;
    } catch (IOException e) {
      throw new ContainerRuntimeException(HOST_ERROR, "running launcher " + args[0] + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ContainerRuntimeException(HOST_ERROR, "interrupted during launcher " + args[0], e);
    }
  }

  /** Starts {@code command} inside the running container of {@code dir} (launcher {@code exec}). */
  Process exec(Path dir, List<String> command) {
    List<String> cmd = new ArrayList<>(List.of(binary.toString(), "exec", dir.toString(), "--"));
    cmd.addAll(command);
    try {
      return new ProcessBuilder(cmd).start();
    } catch (IOException e) {
      throw new ContainerRuntimeException(HOST_ERROR, "running launcher exec: " + e.getMessage(), e);
    }
  }

  /** Closes the input of an exec'd process and collects its output; kills it after {@code timeout}. */
  static ExecResult collect(Process p, String what, Duration timeout) {
    try {
      p.getOutputStream().close();
      CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
      byte[] out = readAll(p.getInputStream());
      if (!p.waitFor(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
        p.destroyForcibly();
        throw new ContainerRuntimeException(HOST_ERROR, what + " timed out after " + timeout);
      }
      return new ExecResult(p.exitValue(), new String(out, StandardCharsets.UTF_8),
          new String(err.join(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new ContainerRuntimeException(HOST_ERROR, what + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      p.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new ContainerRuntimeException(HOST_ERROR, "interrupted during " + what, e);
    }
  }

  private static byte[] readAll(InputStream in) {
    try {
      return in.readAllBytes();
    } catch (IOException e) {
      return new byte[0];
    }
  }

  static void closeQuietly(SocketChannel ch) {
    if (ch != null) {
      try {
        ch.close();
      } catch (IOException ignored) {
        // closing a unix socket we no longer need; nothing to recover
      }
    }
  }
}
