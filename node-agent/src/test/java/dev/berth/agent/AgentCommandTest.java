package dev.berth.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.berth.agent.session.ChannelFactory;
import dev.berth.agent.session.ScriptedManager;
import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.Meta;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class AgentCommandTest {
    @TempDir
    Path stateDir;

    private record Run(int exit, String err) {
    }

    private static Run run(String... args) {
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new AgentCommand());
        cl.setErr(new PrintWriter(err));
        return new Run(cl.execute(args), err.toString());
    }

    @Test
    void badOptionsAreUsageErrorsNamingTheOption() {
        assertThat(run("--token", "BERTH-1-x-y").err()).contains("--join");
        Run badPort = run("--join", "m1:99999", "--token", "BERTH-1-x-y", "--executor", "simulated");
        assertThat(badPort.exit()).isEqualTo(2);
        assertThat(badPort.err()).contains("--join: port 99999 out of range");
        assertThat(run("--join", "m1", "--token", "BERTH-1-x-y").err()).contains("--join: 'm1' is not HOST:PORT");
        assertThat(run("--join", "m1:1", "--token", "secret").err()).contains("--token: expected a join token");
        assertThat(run("--join", "m1:1", "--token", "BERTH-1-x-y", "--label", "=v").err()).contains("--label: bad key");
        assertThat(run("--join", "m1:1", "--token", "BERTH-1-x-y", "--advertise-addr", "example.org").err())
                .contains("--advertise-addr: 'example.org' is not an IP address");
        assertThat(run("--join", "m1:1", "--token", "BERTH-1-x-y", "--gateway-subnet", "172.18.0.0").err())
                .contains("--gateway-subnet: '172.18.0.0'");
        // the overlay runs over the device holding the advertised address: it must be this host's
        Run notMine = run("--join", "127.0.0.1:1", "--token", "BERTH-1-x-y", "--state-dir", stateDir.toString(),
                "--advertise-addr", "192.0.2.77");
        assertThat(notMine.exit()).isEqualTo(2);
        assertThat(notMine.err()).contains("--advertise-addr: no network device on this host holds the address 192.0.2.77");
    }

    @Test
    void unknownExecutorsAreUsageErrors() {
        Run r = run("--join", "127.0.0.1:1", "--token", "BERTH-1-x-y", "--state-dir", stateDir.toString(),
                "--executor", "docker");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--executor: 'docker' is not available in this build (available: native, simulated)");
        assertThat(stateDir.resolve("node-id")).doesNotExist();
    }

    @Test
    void theNativeAgentIsTheDefaultAndFailsATaskWhoseRegistryIsDownNamingIt() throws Exception {
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        String registry = "127.0.0.1:" + closed;
        try (ScriptedManager m = ScriptedManager.onLoopback(List.of())) {
            AgentCommand cmd = new AgentCommand();
            new CommandLine(cmd).parseArgs("--join", "127.0.0.1:" + m.port(), "--token", "BERTH-1-ca-secret",
                    "--state-dir", stateDir.toString(), "--insecure-registry", registry);
            try (Agent agent = cmd.startAgent(Clock.systemUTC(), ChannelFactory.plaintext())) {
                await().atMost(Duration.ofSeconds(20)).until(() -> m.sessions.size() == 1);
                assertThat(m.registrations.get(0).getDescription().getEngineVersion()).contains("executor native");
                m.session(0).full(1, Task.newBuilder().setMeta(Meta.newBuilder().setId("t1"))
                        .setDesiredState(TaskState.RUNNING)
                        .setSpec(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage(registry + "/app:1")))
                        .setStatus(TaskStatus.newBuilder().setState(TaskState.ASSIGNED)).build());
                await().atMost(Duration.ofSeconds(60)).until(() -> m.session(0).transitions("t1").contains("FAILED"));
                assertThat(m.session(0).transitions("t1")).doesNotContain("REJECTED", "RUNNING");
                var failed = m.session(0).updates().stream().filter(u -> u.getTaskId().equals("t1"))
                        .map(u -> u.getStatus()).filter(st -> st.getState() == TaskState.FAILED).findFirst().orElseThrow();
                assertThat(failed.getErr()).contains("registry " + registry + " unreachable");
            }
        }
    }

    @Test
    void aSimulatedAgentJoinsOverTcpAndRunsItsTasks() throws Exception {
        try (ScriptedManager m = ScriptedManager.onLoopback(List.of())) {
            String addr = "127.0.0.1:" + m.port();
            AgentCommand cmd = new AgentCommand();
            new CommandLine(cmd).parseArgs("--join", addr, "--token", "BERTH-1-ca-secret", "--label", "zone=b",
                    "--state-dir", stateDir.toString(), "--advertise-addr", "10.1.2.3", "--executor", "simulated");
            try (Agent agent = cmd.startAgent(Clock.systemUTC(), ChannelFactory.plaintext())) {
                await().atMost(Duration.ofSeconds(20)).until(() -> m.sessions.size() == 1);
                assertThat(m.registrations.get(0).getLabelsMap()).containsEntry("zone", "b");
                assertThat(m.registrations.get(0).getDescription().getAddr()).isEqualTo("10.1.2.3");
                assertThat(m.registrations.get(0).getDescription().getEngineVersion()).contains("executor simulated");
                assertThat(m.registrations.get(0).getDescription().getResources().getMemoryBytes()).isPositive();
                m.session(0).full(1, Task.newBuilder().setMeta(Meta.newBuilder().setId("t1"))
                        .setDesiredState(TaskState.RUNNING)
                        .setSpec(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage("busybox")))
                        .setStatus(TaskStatus.newBuilder().setState(TaskState.ASSIGNED)).build());
                await().atMost(Duration.ofSeconds(20)).until(() -> m.session(0).transitions("t1").contains("RUNNING"));
                assertThat(Files.readString(stateDir.resolve("node-id")).strip()).isEqualTo(m.session(0).nodeId());
            }
        }
    }
}
