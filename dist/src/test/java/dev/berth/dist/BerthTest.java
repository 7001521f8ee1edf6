package dev.berth.dist;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.cli.CliContext;
import dev.berth.cli.ExitCodes;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.time.Clock;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The launcher's command tree: client commands, server commands, shared error handling. */
class BerthTest {
  private final StringWriter out = new StringWriter();
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CliContext ctx = new CliContext(new PrintWriter(out), new PrintWriter(err), Clock.systemUTC(), Map.of(),
        target -> io.grpc.netty.NettyChannelBuilder.forTarget(target).usePlaintext().build(),
        CliContext.defaultSettings(d -> { }));
    return Berth.run(ctx, args);
  }

  @Test
  void helpListsClientAndServerCommands() {
    assertThat(run("--help")).isZero();
    assertThat(out.toString()).startsWith("Usage: berth").contains("service", "node", "network", "cluster",
        "manager", "agent");
  }

  @Test
  void serverCommandsAreBuiltIn() {
    assertThat(run("manager", "--help")).isZero();
    assertThat(out.toString()).contains("init", "join", "run", "leave");
    assertThat(run("agent", "--help")).isZero();
    assertThat(out.toString()).contains("--join", "--token", "--executor");
  }

  @Test
  void serverCommandUsageErrorsNameTheOption() {
    assertThat(run("manager", "join", "127.0.0.1:4700")).isEqualTo(ExitCodes.USER_ERROR);
    assertThat(err.toString()).contains("--token");
  }

  @Test
  void clientCommandsRunWithTheCliErrorHandling() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    assertThat(run("service", "ls", "--manager", "127.0.0.1:" + port)).isEqualTo(ExitCodes.UNAVAILABLE);
    assertThat(err.toString()).startsWith("berth: cluster unavailable at 127.0.0.1:" + port);
  }
}
