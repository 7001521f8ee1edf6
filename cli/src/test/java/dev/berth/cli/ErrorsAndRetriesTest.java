package dev.berth.cli;

import static dev.berth.cli.ServiceCommandsTest.assertUserError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.CreateServiceRequest;
import dev.berth.api.v1.ListRequest;
import io.grpc.Status;
import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Exit codes, server error messages, failover over managers and same-id retries of writes. */
class ErrorsAndRetriesTest extends InProcessClusterTest {

  @Test
  void serverInvalidArgumentIsAUserErrorWithTheServersMessage() {
    server.failNext("CreateService", Status.INVALID_ARGUMENT.withDescription("spec.name: must be a DNS label"));
    assertUserError(cli.run("service", "create", "--name", "Bad_Name", "nginx"),
        "berth: spec.name: must be a DNS label");
  }

  @Test
  void notFoundAndAlreadyExistsAreUserErrors() {
    assertUserError(cli.run("service", "inspect", "ghost"), "berth: service ghost not found");
    server.failNext("CreateService", Status.ALREADY_EXISTS.withDescription("service web already exists"));
    assertUserError(cli.run("service", "create", "--name", "web", "nginx"), "berth: service web already exists");
  }

  @Test
  void retryAfterUnavailableReusesTheSameRequestId() {
    server.failNext("CreateService", Status.UNAVAILABLE.withDescription("no leader"),
        Status.UNAVAILABLE.withDescription("no leader"));
    CliHarness.Result r = cli.run("service", "create", "--name", "web", "nginx");

    assertThat(r.exit()).isZero();
    var sent = server.received(CreateServiceRequest.class);
    assertThat(sent).hasSize(3);
    assertThat(sent).extracting(c -> c.getWrite().getRequestId()).containsOnly(sent.get(0).getWrite().getRequestId());
    assertThat(sent.get(0).getWrite().getRequestId()).hasSize(36);
    assertThat(cli.sleeps).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200));
  }

  @Test
  void persistentUnavailableGivesUpAfterBoundedRetriesWithExitTwo() {
    Status[] always = new Status[10];
    java.util.Arrays.fill(always, Status.UNAVAILABLE.withDescription("no quorum"));
    server.failNext("CreateService", always);
    CliHarness.Result r = cli.run("service", "create", "--name", "web", "nginx");

    assertThat(r.exit()).isEqualTo(ExitCodes.UNAVAILABLE);
    assertThat(r.err()).isEqualTo("berth: cluster unavailable at " + M + ": no quorum\n");
    assertThat(server.received(CreateServiceRequest.class)).hasSize(5);
    assertThat(cli.sleeps).containsExactly(
        Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(400), Duration.ofMillis(800));
  }

  @Test
  void readsAlsoRideOutAShortUnavailability() {
    server.failNext("ListServices", Status.UNAVAILABLE.withDescription("electing"));
    assertThat(cli.run("service", "ls").exit()).isZero();
    assertThat(server.received(ListRequest.class)).hasSize(2);
  }

  @Test
  void downManagerFailsFastWithExitTwoAndNoRetryRounds() throws IOException {
    String down = CliHarness.closedPort();
    CliHarness.Result r = cli.run("--manager", down, "service", "ls");
    assertThat(r.exit()).isEqualTo(ExitCodes.UNAVAILABLE);
    assertThat(r.err()).startsWith("berth: cluster unavailable at " + down + ": ").contains("refused");
    assertThat(cli.sleeps).isEmpty();
  }

  @Test
  void nextManagerInTheListIsTriedWhenTheFirstIsDown() throws IOException {
    String down = CliHarness.closedPort();
    CliHarness.Result r = cli.run("service", "ls", "--manager", down + "," + M);
    assertThat(r.exit()).isZero();
    assertThat(server.received(ListRequest.class)).hasSize(1);
  }

  @Test
  void writeFailsOverToAnotherManagerWithTheSameRequestId() throws IOException {
    FakeClusterService second = cli.start("10.0.0.2:4700");
    server.failNext("CreateService", Status.UNAVAILABLE.withDescription("not leader"));
    CliHarness.Result r = cli.run("--manager", M + ",10.0.0.2:4700", "service", "create", "nginx");
    assertThat(r.exit()).isZero();
    String first = server.received(CreateServiceRequest.class).get(0).getWrite().getRequestId();
    assertThat(second.received(CreateServiceRequest.class)).singleElement()
        .satisfies(c -> assertThat(c.getWrite().getRequestId()).isEqualTo(first));
    assertThat(cli.sleeps).isEmpty();
  }

  @Test
  void managerComesFromTheEnvironmentWhenNoFlagIsGiven() throws IOException {
    FakeClusterService other = cli.start("10.9.9.9:4711");
    cli.env.put("BERTH_MANAGER", "10.9.9.9:4711");
    assertThat(cli.run("service", "ls").exit()).isZero();
    assertThat(other.received()).hasSize(1);
    assertThat(server.received()).isEmpty();
    assertThat(cli.run("--manager", M, "service", "ls").exit()).isZero();
    assertThat(server.received()).hasSize(1);
  }

  @Test
  void badManagerAddressIsAUserError() {
    assertUserError(cli.run("--manager", "nohost", "service", "ls"), "berth: --manager: 'nohost' is not HOST:PORT");
    assertUserError(cli.run("--manager", "h:70000", "service", "ls"),
        "berth: --manager: port of 'h:70000' must be 1..65535");
    cli.env.put("BERTH_MANAGER", "h:x");
    assertUserError(cli.run("service", "ls"), "berth: BERTH_MANAGER: 'h:x' is not HOST:PORT");
  }

  @Test
  void internalServerErrorsAreReportedWithTheirCode() {
    server.failNext("ListServices", Status.INTERNAL.withDescription("boom"));
    assertUserError(cli.run("service", "ls"), "berth: server error (INTERNAL): boom");
  }

  @Test
  void usageErrorsExitOneWithOneLine() {
    assertUserError(cli.run("service", "frobnicate"), "berth: Unmatched argument");
    assertUserError(cli.run("service"), "berth: missing subcommand for 'berth service' (one of create, ls");
    assertUserError(cli.run("service", "create"), "berth: Missing required parameter: 'IMAGE'");
    CliHarness.Result help = cli.run("service", "create", "--help");
    assertThat(help.exit()).isZero();
    assertThat(help.out()).startsWith("Usage: berth service create [OPTIONS] IMAGE [ARG...]").contains("--reserve-memory");
  }
}
