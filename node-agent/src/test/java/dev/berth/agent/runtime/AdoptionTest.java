package dev.berth.agent.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.agent.cgroup.CgroupLimits;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Containers outlive their agent: a SIGKILLed agent JVM, a new runtime adopting, two nodes on one host. */
class AdoptionTest {
  @Test
  void runtimeAdoptsContainersOfAKilledAgentJvmWithLogsAndExitCodesIntact() throws Exception {
    RuntimeFixture.assumeHost();
    try (RuntimeFixture f = new RuntimeFixture("adopt")) {
      Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
      Process agent = new ProcessBuilder(javaBin.toString(), "-XX:+UseSerialGC", "-Xmx64m", "-cp",
          System.getProperty("java.class.path"), AgentCrashMain.class.getName(), f.settings.stateRoot().toString(),
          f.settings.launcher().toString(), f.nodeId, f.lower.toString())
          .redirectErrorStream(true).start();
      try {
        BufferedReader r = new BufferedReader(new InputStreamReader(agent.getInputStream()));
        String line;
        StringBuilder seen = new StringBuilder();
        while ((line = r.readLine()) != null && !line.equals("STARTED")) {
          seen.append(line).append('\n');
        }
        assertThat(line).as("agent output: " + seen).isEqualTo("STARTED");
      } finally {
        agent.destroyForcibly(); // SIGKILL: no shutdown hooks, no cleanup
        assertThat(agent.waitFor(20, TimeUnit.SECONDS)).isTrue();
      }

      ContainerRuntime restarted = f.restartedRuntime();
      Map<String, ContainerInfo> found = restarted.adopt().stream()
          .collect(Collectors.toMap(ContainerInfo::id, c -> c));
      assertThat(found).containsOnlyKeys("early", "later", "long");
      assertThat(found.get("early").state()).isEqualTo(ContainerInfo.State.EXITED);
      assertThat(found.get("early").exit().orElseThrow().exitCode()).isEqualTo(3);
      assertThat(found.get("long").state()).isEqualTo(ContainerInfo.State.RUNNING);
      // the monitor of a running container survived the JVM and is no longer its child
      long monitor = found.get("long").monitorPid();
      assertThat(ProcessHandle.of(monitor)).isPresent();
      assertThat(ProcessHandle.of(monitor).flatMap(ProcessHandle::parent).map(ProcessHandle::pid))
          .isNotEqualTo(Optional.of(agent.pid()));

      // "later" finishes while no JVM watches it: its monitor still logs and records the exit
      ExitStatus later = restarted.awaitExit("later", Duration.ofSeconds(30)).orElseThrow();
      assertThat(later.exitCode()).isEqualTo(5);
      assertThat(restarted.logs("later")).extracting(LogLine::stream, LogLine::text).containsExactly(
          org.assertj.core.groups.Tuple.tuple("stdout", "before"), org.assertj.core.groups.Tuple.tuple("stdout", "after"),
          org.assertj.core.groups.Tuple.tuple("stderr", "late-err"));
      assertThat(restarted.logs("early")).extracting(LogLine::text).containsExactly("early-out");

      // the adopted container is fully controllable
      ExecResult exec = restarted.exec("long", List.of("hostname"), Duration.ofSeconds(20));
      assertThat(exec.stdout().trim()).isEqualTo("long");
      ExitStatus stopped = restarted.stop("long", "SIGTERM", Duration.ofSeconds(20));
      assertThat(stopped.signal()).isEqualTo(15);
      assertThat(restarted.logs("long")).extracting(LogLine::text).containsExactly("long-running");
      // the monitor exits after recording; its new parent reaps it
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
          .until(() -> ProcessHandle.of(monitor).map(ProcessHandle::isAlive).orElse(false), alive -> !alive);
    } // close(): removes everything, then asserts no cgroup, mount or process of the node is left
  }

  @Test
  void twoNodesOnOneHostDoNotTouchEachOthersContainersAndStrayCgroupsAreRemoved() throws Exception {
    RuntimeFixture.assumeHost();
    try (RuntimeFixture b = new RuntimeFixture("nodeb")) {
      b.start(b.config("shared-name", s -> s.addCommand("sleep").addArgs("60")));
      try (RuntimeFixture a = new RuntimeFixture("nodea")) {
        a.start(a.config("shared-name", s -> s.addCommand("sleep").addArgs("60")));
        // a cgroup of node A without a container (as a crash between mkdir and state could leave)
        a.cgroups.create("orphan", CgroupLimits.defaults());
        assertThat(a.runtime.removeAllExcept(Set.of("shared-name"))).containsExactly("orphan");
        assertThat(a.cgroups.containerIds()).containsExactly("shared-name");
        a.runtime.stop("shared-name", "SIGKILL", Duration.ZERO);
      } // A's close() removes all of A's resources
      assertThat(b.runtime.inspect("shared-name").state()).isEqualTo(ContainerInfo.State.RUNNING);
      assertThat(b.cgroups.containerIds()).containsExactly("shared-name");
      assertThat(b.runtime.exec("shared-name", List.of("true"), Duration.ofSeconds(20)).exitCode()).isZero();
    }
  }
}
