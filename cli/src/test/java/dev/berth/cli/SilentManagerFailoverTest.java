package dev.berth.cli;

import static dev.berth.cli.ServiceCommandsTest.assertUserError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.CreateServiceRequest;
import dev.berth.api.v1.ListRequest;
import dev.berth.api.v1.LogChunk;
import dev.berth.api.v1.LogStream;
import io.grpc.Status;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Managers that take a connection (or a request) and never answer: the CLI moves on after the
 * answer timeout instead of waiting for the server's own 30 s, for reads, writes and streams.
 */
class SilentManagerFailoverTest extends InProcessClusterTest {
  private static final String OTHER = "127.0.0.1:4701";

  @Test
  void readSkipsAManagerThatAcceptsTheConnectionButNeverAnswers() throws IOException {
    try (ServerSocket paused = CliHarness.silentPort()) {
      String silent = CliHarness.address(paused);
      CliHarness.Result r = cli.run("--manager", silent + "," + M, "--manager-timeout", "1s", "service", "ls");
      assertThat(r.err()).isEmpty();
      assertThat(r.exit()).isZero();
      assertThat(server.received(ListRequest.class)).hasSize(1);
      assertThat(cli.sleeps).isEmpty();
    }
  }

  @Test
  void writeThatStalledAfterReachingAManagerIsResentElsewhereWithTheSameRequestId() throws IOException {
    FakeClusterService other = cli.start(OTHER);
    server.hangNext("CreateService", 1);
    CliHarness.Result r = cli.run("--manager", M + "," + OTHER, "--manager-timeout", "300ms",
        "service", "create", "--name", "web", "nginx");

    assertThat(r.err()).isEmpty();
    assertThat(r.exit()).isZero();
    String first = server.received(CreateServiceRequest.class).get(0).getWrite().getRequestId();
    assertThat(first).hasSize(36);
    assertThat(other.received(CreateServiceRequest.class)).singleElement()
        .satisfies(c -> assertThat(c.getWrite().getRequestId()).isEqualTo(first));
  }

  @Test
  void logsStreamSkipsAManagerThatNeverCompletesTheHandshake() throws IOException {
    server.logChunks = List.of(LogChunk.newBuilder().setTaskId("task1aaaaaaaaaaaaaaa").setNodeId("node1abcdefghijk")
        .setSlot(1).setStream(LogStream.STDOUT).setText("hello").build());
    try (ServerSocket paused = CliHarness.silentPort()) {
      cli.env.put(GlobalOptions.MANAGER_ENV, CliHarness.address(paused) + "," + M);
      cli.env.put(GlobalOptions.MANAGER_TIMEOUT_ENV, "1s");
      CliHarness.Result r = cli.run("service", "logs", "web");
      assertThat(r.err()).isEmpty();
      assertThat(r.out()).contains("hello");
    }
  }

  @Test
  void everyManagerSilentIsUnavailableAfterOneTimeoutEachWithoutRetryRounds() throws IOException {
    server.hangNext("ListServices", 5);
    try (ServerSocket paused = CliHarness.silentPort()) {
      String silent = CliHarness.address(paused);
      CliHarness.Result r = cli.run("--manager", silent + "," + M, "--manager-timeout", "300ms", "service", "ls");
      assertThat(r.exit()).isEqualTo(ExitCodes.UNAVAILABLE);
      assertThat(r.err()).isEqualTo("berth: cluster unavailable at " + silent + "," + M + ": no answer within 300ms\n");
      assertThat(server.received(ListRequest.class)).hasSize(1);
      assertThat(cli.sleeps).isEmpty();
    }
  }

  @Test
  void aSilentManagerCostsItsTimeoutOnceWhileOthersRideOutAnElection() throws IOException {
    FakeClusterService other = cli.start(OTHER);
    server.hangNext("ListServices", 5);
    other.failNext("ListServices", Status.UNAVAILABLE.withDescription("electing"),
        Status.UNAVAILABLE.withDescription("electing"));
    CliHarness.Result r = cli.run("--manager", M + "," + OTHER, "--manager-timeout", "300ms", "service", "ls");

    assertThat(r.exit()).isZero();
    assertThat(server.received(ListRequest.class)).hasSize(1);
    assertThat(other.received(ListRequest.class)).hasSize(3);
    assertThat(cli.sleeps).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200));
  }

  @Test
  void badTimeoutIsAUserErrorNamingItsSource() {
    assertUserError(cli.run("--manager-timeout", "0", "service", "ls"), "berth: --manager-timeout: must be at least 1ms");
    cli.env.put(GlobalOptions.MANAGER_TIMEOUT_ENV, "soon");
    assertUserError(cli.run("service", "ls"), "berth: BERTH_MANAGER_TIMEOUT: invalid duration 'soon'");
    assertThat(server.received()).isEmpty();
  }
}
