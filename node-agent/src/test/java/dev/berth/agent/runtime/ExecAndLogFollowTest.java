package dev.berth.agent.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code berth exec} and {@code berth service logs -f} at the runtime: an attached command in a real busybox
 * container (its namespaces, cgroup, root filesystem; piped stdin; exit code; killed with its launcher),
 * and a log reader following the monitor's files across rotations.
 */
class ExecAndLogFollowTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private RuntimeFixture f;

  @BeforeEach
  void setUp() throws Exception {
    RuntimeFixture.assumeHost();
    f = new RuntimeFixture("exec", s -> new RuntimeSettings(s.nodeId(), s.stateRoot(), s.launcher(),
        4096, 3, s.defaultPidsLimit(), s.userNsBase()));
  }

  @AfterEach
  void tearDown() throws Exception {
    if (f != null) {
      f.close();
    }
  }

  private static String hostLink(long pid, String ns) throws Exception {
    return Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/" + ns)).toString();
  }

  @Test
  void anAttachedCommandSharesTheContainersNamespacesCgroupAndRootAndReadsStdin() throws Exception {
    ContainerInfo c = f.start(f.config("box", s -> s.setHostname("box-host").addCommand("sh").addArgs("-c")
        .addArgs("echo only-in-this-container > /tmp/marker; exec sleep 4242")));
    await().atMost(WAIT).until(() -> Files.exists(f.settings.containersDir().resolve("box/upper/tmp/marker")));
    Process p = f.runtime.execProcess("box", List.of("sh", "-c", "read line; echo got:$line; hostname; cat /tmp/marker; "
        + "for n in pid mnt uts ipc net; do echo $n=$(readlink /proc/self/ns/$n); done; "
        + "cat /proc/self/cgroup; echo procs=$(ls /proc | grep -c '^[0-9]'); echo oops >&2; exit 7"));
    try (OutputStream stdin = p.getOutputStream()) {
      stdin.write("hello from stdin\n".getBytes(StandardCharsets.UTF_8));
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out + err).isEqualTo(7);
    assertThat(err).isEqualTo("oops\n");
    assertThat(out).contains("got:hello from stdin").contains("box-host").contains("only-in-this-container");
    for (String ns : List.of("pid", "mnt", "uts", "ipc", "net")) {
      assertThat(out).as(ns).contains(ns + "=" + hostLink(c.initPid(), ns));
      assertThat(hostLink(c.initPid(), ns)).as(ns).isNotEqualTo(hostLink(ProcessHandle.current().pid(), ns));
    }
    // the container's cgroup (read on the host for its init) is the command's
    String initCgroups = Files.readString(Path.of("/proc/" + c.initPid() + "/cgroup"));
    for (String line : initCgroups.lines().filter(l -> l.contains("berth-" + f.nodeId)).toList()) {
      assertThat(out).contains(line);
    }
    int procs = Integer.parseInt(out.lines().filter(l -> l.startsWith("procs=")).findFirst().orElseThrow().substring(6));
    assertThat(procs).as("processes visible: init, sleep, the command's sh and its pipeline").isBetween(3, 8);
  }

  @Test
  void destroyingTheAttachedLauncherEndsTheCommandInsideTheContainer() throws Exception {
    f.start(f.config("victim", s -> s.addCommand("sleep").addArgs("600")));
    Process p = f.runtime.execProcess("victim", List.of("sh", "-c", "trap '' TERM; echo started; exec sleep 4343"));
    assertThat(new String(p.getInputStream().readNBytes(8), StandardCharsets.UTF_8)).isEqualTo("started\n");
    await().atMost(WAIT).until(() -> commandsInside("victim").contains("sleep 4343")); // sh execs it after the echo
    p.destroy(); // SIGTERM, relayed to the command; it ignores it
    p.waitFor(10, TimeUnit.SECONDS);
    assertThat(commandsInside("victim")).contains("sleep 4343");
    p.destroyForcibly(); // the launcher dies; its parent-death signal takes the command with it
    assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    await().atMost(WAIT).until(() -> !commandsInside("victim").contains("sleep 4343"));

    Process cooperative = f.runtime.execProcess("victim", List.of("sleep", "4444"));
    await().atMost(WAIT).until(() -> commandsInside("victim").contains("sleep 4444"));
    cooperative.destroy();
    assertThat(cooperative.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(cooperative.exitValue()).isEqualTo(128 + 15);
    await().atMost(WAIT).until(() -> !commandsInside("victim").contains("sleep 4444"));
  }

  /** Command lines of the processes in the container's cgroup, read on the host. */
  private List<String> commandsInside(String id) throws Exception {
    List<String> out = new ArrayList<>();
    try (var procs = Files.list(Path.of("/proc"))) {
      for (Path p : procs.filter(x -> x.getFileName().toString().matches("\\d+")).toList()) {
        try {
          if (Files.readString(p.resolve("cgroup")).contains("berth-" + f.nodeId + "/" + id)) {
            out.add(Files.readString(p.resolve("cmdline")).replace('\0', ' ').trim());
          }
        } catch (java.io.IOException gone) {
          // exited while we looked
        }
      }
    }
    return out;
  }

  @Test
  void aFollowingReaderSeesEveryLineOnceAcrossRotations() throws Exception {
    // ~60 lines per 4 KiB file, three files kept: the writer rotates several times while the reader polls
    f.start(f.config("chatty", s -> s.addCommand("sh").addArgs("-c")
        .addArgs("echo first; sleep 0.5; i=0; while [ $i -lt 300 ]; do echo line-$i; i=$((i+1)); "
            + "[ $((i % 20)) -eq 0 ] && sleep 0.05; done; echo last >&2; sleep 600")));
    List<LogLine> seen = new ArrayList<>();
    try (LogReader reader = f.runtime.openLog("chatty")) {
      await().atMost(WAIT).until(() -> {
        seen.addAll(seen.isEmpty() ? reader.existing() : reader.poll());
        return seen.stream().anyMatch(l -> l.text().equals("last"));
      });
    }
    List<String> texts = seen.stream().map(LogLine::text).toList();
    assertThat(texts.get(texts.size() - 1)).isEqualTo("last");
    assertThat(seen.get(seen.size() - 1).stream()).isEqualTo("stderr");
    List<String> numbered = texts.stream().filter(t -> t.startsWith("line-")).toList();
    // the reader started before most of them: nothing lost or doubled in between
    int first = Integer.parseInt(numbered.get(0).substring(5));
    assertThat(numbered).hasSize(300 - first);
    for (int i = 0; i < numbered.size(); i++) {
      assertThat(numbered.get(i)).isEqualTo("line-" + (first + i));
    }
    assertThat(f.settings.containersDir().resolve("chatty/container.log.2")).exists();
  }
}
