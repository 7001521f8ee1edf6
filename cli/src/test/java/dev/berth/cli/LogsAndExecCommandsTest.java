package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.ExecStart;
import dev.berth.api.v1.ListNodesResponse;
import dev.berth.api.v1.LogChunk;
import dev.berth.api.v1.LogStream;
import dev.berth.api.v1.Meta;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeDescription;
import dev.berth.api.v1.ServiceLogsRequest;
import io.grpc.Status;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code berth service logs} and {@code berth exec} against an in-process ClusterService. */
class LogsAndExecCommandsTest extends InProcessClusterTest {
  private static final long T = Instant.parse("2026-11-23T10:00:00.5Z").getEpochSecond() * 1_000_000_000L + 500_000_000L;

  private static LogChunk line(String task, long slot, LogStream stream, String text) {
    return LogChunk.newBuilder().setTaskId(task).setNodeId("node1abcdefghijk").setSlot(slot).setStream(stream)
        .setTimeUnixNanos(T).setText(text).build();
  }

  @Test
  void logsPrintPrefixedLinesStdoutAndStderrApartAndNotes() {
    server.listNodes = ListNodesResponse.newBuilder().addNodes(Node.newBuilder()
        .setMeta(Meta.newBuilder().setId("node1abcdefghijk")).setDescription(NodeDescription.newBuilder().setHostname("h1"))).build();
    server.logChunks = List.of(line("task1aaaaaaaaaaaaaaa", 1, LogStream.STDOUT, "hello"),
        line("task1aaaaaaaaaaaaaaa", 1, LogStream.STDERR, "warning"),
        LogChunk.newBuilder().setTaskId("task2bbbbbbbbbbbbbbb").setSlot(2).setNodeId("deadnode12345678")
            .setNote("node deadnode12345678 is not connected (down or restarting): no logs from it").build());
    CliHarness.Result r = cli.run("service", "logs", "--tail", "5", "-t", "web");
    assertThat(r.exit()).isZero();
    assertThat(r.out()).isEqualTo("web.1.task1aaaaaaa@h1    | 2026-11-23T10:00:00.500Z hello\n");
    assertThat(r.err()).isEqualTo("web.1.task1aaaaaaa@h1    | 2026-11-23T10:00:00.500Z warning\n"
        + "web.2.task2bbbbbbb@deadnode1234: node deadnode12345678 is not connected (down or restarting): no logs from it\n");
    ServiceLogsRequest req = server.received(ServiceLogsRequest.class).get(0);
    assertThat(req.getService()).isEqualTo("web");
    assertThat(req.getTail()).isEqualTo(5);
    assertThat(req.getFollow()).isFalse();

    CliHarness.Result plain = cli.run("service", "logs", "-f", "web");
    assertThat(plain.out()).isEqualTo("web.1.task1aaaaaaa@h1    | hello\n");
    ServiceLogsRequest followed = server.received(ServiceLogsRequest.class).get(1);
    assertThat(followed.getFollow()).isTrue();
    assertThat(followed.hasTail()).isFalse();

    assertThat(cli.run("service", "logs", "--tail", "-1", "web").err()).contains("--tail: must be 0 or more");
  }

  @Test
  void logsGoToTheNextManagerWhenAFollowerRefuses() throws Exception {
    FakeClusterService leader = cli.start("127.0.0.1:4701");
    server.failNext("ServiceLogs", Status.UNAVAILABLE.withDescription("logs and exec are served by the leader"));
    leader.logChunks = List.of(line("task1aaaaaaaaaaaaaaa", 1, LogStream.STDOUT, "from the leader"));
    CliHarness.Result r = cli.run("--manager", M + ",127.0.0.1:4701", "service", "logs", "web");
    assertThat(r.err()).isEmpty();
    assertThat(r.out()).contains("from the leader");
  }

  @Test
  void execRelaysStdinAndOutputAndExitsWithTheCommandsCode() {
    server.execExitCode = 42;
    cli.stdin = "typed input\n";
    CliHarness.Result r = cli.run("exec", "-i", "task1aaa", "--", "sh", "-c", "cat; exit 42");
    assertThat(r.exit()).isEqualTo(42);
    assertThat(r.out()).isEqualTo("ran sh -c cat; exit 42\ntyped input\n");
    assertThat(r.err()).isEqualTo("to stderr\n");
    ExecStart start = server.received(ExecStart.class).get(0);
    assertThat(start.getTask()).isEqualTo("task1aaa");
    assertThat(start.getArgvList()).containsExactly("sh", "-c", "cat; exit 42");

    server.execExitCode = 0;
    CliHarness.Result noStdin = cli.run("exec", "task1aaa", "hostname");
    assertThat(noStdin.exit()).isZero();
    assertThat(noStdin.out()).isEqualTo("ran hostname\n"); // without -i the command's stdin is empty
  }

  @Test
  void execOfAnUnknownTaskFailsWithTheManagersMessage() {
    server.failNext("Exec", Status.NOT_FOUND.withDescription("task \"nope\" not found"));
    CliHarness.Result r = cli.run("exec", "nope", "true");
    assertThat(r.exit()).isEqualTo(ExitCodes.USER_ERROR);
    assertThat(r.err()).isEqualTo("berth: task \"nope\" not found\n");
    assertThat(cli.run("exec", "task1").err()).contains("CMD");
  }
}
