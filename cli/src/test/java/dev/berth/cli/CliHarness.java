package dev.berth.cli;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Runs {@code berth} command lines against real gRPC servers in this JVM. Targets named in
 * {@link #servers} reach an in-process server; any other target is dialled over real TCP (so a
 * closed loopback port gives a real "connection refused"). Sleeps are recorded, not slept.
 */
final class CliHarness implements AutoCloseable {
  /** Fixed "now" of every command run by the harness. */
  static final Instant NOW = Instant.parse("2026-11-23T12:00:00Z");

  record Result(int exit, String out, String err) {}

  final Map<String, FakeClusterService> servers = new HashMap<>();
  final List<Duration> sleeps = new ArrayList<>();
  final Map<String, String> env = new HashMap<>();
  /** What the commands read as standard input. */
  String stdin = "";
  private final List<Server> running = new ArrayList<>();
  private final String prefix = UUID.randomUUID().toString();

  /** Starts a fake manager reachable as {@code target} (a HOST:PORT string). */
  FakeClusterService start(String target) throws IOException {
    FakeClusterService fake = new FakeClusterService();
    running.add(InProcessServerBuilder.forName(prefix + target).directExecutor().addService(fake).build().start());
    servers.put(target, fake);
    return fake;
  }

  Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CliContext ctx = CliContext.withStreams(new java.io.ByteArrayInputStream(stdin.getBytes(java.nio.charset.StandardCharsets.UTF_8)),
        null, null, new CliContext(new PrintWriter(out), new PrintWriter(err),
        Clock.fixed(NOW, ZoneOffset.UTC), env, this::channel,
        CliContext.defaultSettings(d -> sleeps.add(d))));
    int exit = BerthCli.run(ctx, args);
    return new Result(exit, out.toString(), err.toString());
  }

  private ManagedChannel channel(String target) {
    return servers.containsKey(target)
        ? InProcessChannelBuilder.forName(prefix + target).directExecutor().build()
        : Channels.plaintext(target);
  }

  /** A loopback address where nothing listens. */
  static String closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return "127.0.0.1:" + s.getLocalPort();
    }
  }

  /**
   * A loopback port whose kernel completes TCP handshakes but where nobody ever reads or answers: a
   * paused (SIGSTOP) or wedged manager as a client sees it. Close it after the test.
   */
  static ServerSocket silentPort() throws IOException {
    return new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
  }

  static String address(ServerSocket s) {
    return "127.0.0.1:" + s.getLocalPort();
  }

  @Override
  public void close() {
    running.forEach(Server::shutdownNow);
  }
}
