package dev.berth.agent.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.agent.runtime.ContainerRuntimeException.Reason;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Real containers on this host: isolation, root filesystem, hardening, lifecycle, exec. */
class ContainerRuntimeTest {
  private RuntimeFixture f;

  @BeforeEach
  void setUp() throws Exception {
    RuntimeFixture.assumeHost();
    f = new RuntimeFixture("rt");
  }

  @AfterEach
  void tearDown() throws Exception {
    if (f != null) {
      f.close();
    }
  }

  @Test
  void containerHasItsOwnPidUtsMountNetNamespacesAndCopyOnWriteRoot() throws Exception {
    ExitStatus exit = f.runScript("iso", String.join("; ",
        "echo pid=$$", "echo init=$(cat /proc/1/comm)", "echo host=$(hostname)",
        "echo procs=$(ls /proc | grep -c '^[0-9]')", "echo links=$(ls /sys/class/net | tr '\\n' ,)",
        "cat /proc/mounts", "echo written > /newfile", "echo changed > /etc/passwd", "exit 7"));
    assertThat(exit.exitCode()).isEqualTo(7);
    assertThat(exit.signal()).isZero();
    assertThat(exit.oomKilled()).isFalse();
    String out = f.stdout("iso");
    // PID 1 is the container's own init (the launcher), the main process is its child
    assertThat(out).contains("pid=2").contains("init=memfd:berth-lau").contains("host=iso");
    int procs = Integer.parseInt(out.lines().filter(l -> l.startsWith("procs=")).findFirst().orElseThrow().substring(6));
    // init, sh, the $(...) subshell, ls, grep: a handful, not the host's hundreds
    assertThat(procs).as("processes visible inside").isBetween(2, 8);
    assertThat(out).contains("links=lo,");
    // host mounts (the host's ext4 root, this test's temp dir) are invisible; root is the overlay
    assertThat(out).contains("overlay / overlay").doesNotContain("ext4").doesNotContain(f.tmp.toString() + " ");
    // writes land in the container's upper dir, never in the image layer
    assertThat(f.lower.resolve("newfile")).doesNotExist();
    assertThat(Files.readString(f.lower.resolve("etc/passwd"))).doesNotContain("changed");
    assertThat(f.settings.containersDir().resolve("iso/upper/newfile")).hasContent("written");
  }

  @Test
  void aDetachedStartKeepsNoWaitingProcessAndItsExitIsStillFound() {
    ContainerConfig c = f.config("detached", s -> s.addCommand("sh").addArgs("-c").addArgs("echo up; sleep 1; exit 4"));
    f.runtime.create(c);
    assertThat(f.runtime.startDetached("detached").state()).isEqualTo(ContainerInfo.State.RUNNING);
    // the runtime's one launcher server is a child of the JVM; nothing per container is
    Path dir = f.settings.containersDir().resolve("detached");
    assertThat(ProcessHandle.current().children().filter(ProcessHandle::isAlive)
        .filter(h -> h.info().commandLine().orElse("").contains(dir.toString())).toList())
        .as("launcher processes of the container left as children of the JVM").isEmpty();
    ExitStatus exit = f.runtime.awaitExit("detached", Duration.ofSeconds(30)).orElseThrow();
    assertThat(exit.exitCode()).isEqualTo(4);
    assertThat(f.stdout("detached")).isEqualTo("up");
  }

  @Test
  void processIsHardenedLikeDockerDefaults() {
    ExitStatus exit = f.runScript("sec", String.join("; ",
        "grep -E 'CapEff|CapBnd|NoNewPrivs' /proc/self/status",
        // ls runs in a child; $$ is the main process itself (no command substitution open here)
        "echo fds-begin", "ls /proc/$$/fd", "echo fds-end",
        "[ -e /proc/kcore ] && echo kcore=$(wc -c < /proc/kcore) || echo kcore=absent", "echo keys=$(wc -c < /proc/keys)",
        "echo firmware=$(ls /sys/firmware | wc -l)",
        "(echo h > /proc/sysrq-trigger) 2>/dev/null && echo sysrq=writable || echo sysrq=refused",
        "(touch /sys/kernel/x) 2>/dev/null && echo sys=writable || echo sys=refused",
        "ls /dev | tr '\\n' ,", "echo"));
    assertThat(exit.exitCode()).isZero();
    String out = f.stdout("sec");
    assertThat(out).contains("CapEff:\t00000000a80425fb").contains("CapBnd:\t00000000a80425fb")
        .contains("NoNewPrivs:\t1").contains("fds-begin\n0\n1\n2\nfds-end").containsPattern("kcore=(0|absent)\n").contains("keys=0")
        .contains("firmware=0").contains("sysrq=refused").contains("sys=refused");
    assertThat(out).contains("null,").contains("zero,").contains("full,").contains("random,").contains("urandom,")
        .contains("tty,").contains("pts,").contains("ptmx,").contains("shm,").contains("fd,");
  }

  @Test
  void userEnvWorkdirAndHostnameApply() {
    f.start(f.config("usr", s -> s.addCommand("sh").addArgs("-c")
        .addArgs("id; pwd; echo $GREETING; grep CapEff /proc/self/status; hostname")
        .setUser("app").setDir("/work/dir").addEnv("GREETING=hello").setHostname("web-1")));
    assertThat(f.runtime.awaitExit("usr", Duration.ofSeconds(30)).orElseThrow().exitCode()).isZero();
    assertThat(f.stdout("usr")).contains("uid=1000(app) gid=1000(app) groups=1000(app),2000(extra)")
        .contains("/work/dir").contains("hello").contains("CapEff:\t0000000000000000").contains("web-1");
  }

  @Test
  void aKilledLauncherServerIsReplacedAndItsContainersKeepRunning() {
    f.start(f.config("before", s -> s.addCommand("sleep").addArgs("600")));
    Path socket = f.settings.containersDir().resolve(".launcher.sock");
    ProcessHandle server = ProcessHandle.current().children()
        .filter(h -> h.info().commandLine().orElse("").endsWith("serve " + socket)).findFirst().orElseThrow();
    server.destroyForcibly();
    server.onExit().join();
    assertThat(f.runtime.inspect("before").state()).isEqualTo(ContainerInfo.State.RUNNING);
    f.start(f.config("after", s -> s.addCommand("true")));
    assertThat(f.runtime.awaitExit("after", Duration.ofSeconds(30)).orElseThrow().exitCode()).isZero();
    assertThat(f.runtime.stop("before", "SIGKILL", Duration.ZERO).signal()).isEqualTo(9);
  }

  @Test
  void aStateDirTooDeepForAUnixSocketPathStillRunsContainers() throws Exception {
    // a CI checkout's target/ dir nests test hosts' state dirs past sun_path's 108 bytes
    Path deep = f.settings.stateRoot().resolve("d".repeat(60)).resolve("e".repeat(60));
    Path socket;
    try (RuntimeFixture far = new RuntimeFixture("deep", s -> new RuntimeSettings(s.nodeId(), deep, s.launcher(),
        s.logMaxBytes(), s.logFiles(), s.defaultPidsLimit(), s.userNsBase()))) {
      Path preferred = far.settings.containersDir().resolve(".launcher.sock");
      socket = Launcher.socketFor(preferred);
      assertThat(preferred.toString().length()).isGreaterThan(107);
      assertThat(socket.getParent()).isEqualTo(Path.of("/run/berth"));
      assertThat(Launcher.socketFor(preferred)).isEqualTo(socket);
      assertThat(Launcher.socketFor(f.settings.containersDir().resolve("x".repeat(120)))).isNotEqualTo(socket);
      assertThat(far.runScript("deep", "echo fine").exitCode()).isZero();
      assertThat(far.stdout("deep")).isEqualTo("fine");
      assertThat(socket).exists();
      assertThat(Files.getPosixFilePermissions(socket.getParent()))
          .containsExactlyInAnyOrderElementsOf(java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    } // closing the fixture destroys the runtime
    assertThat(socket).doesNotExist();
  }

  @Test
  void numericUsersTakeTheirGroupFromPasswdUnlessOneIsGiven() {
    // listed uid: primary group from /etc/passwd; no supplementary groups (they are found by name);
    // "uid:gid": exactly those; an unlisted uid: gid 0
    for (String[] c : new String[][] {{"n1", "1000", "uid=1000(app) gid=1000(app) groups=1000(app)"},
        {"n2", "1000:2000", "uid=1000(app) gid=2000(extra) groups=2000(extra)"}, {"n3", "4242", "uid=4242 gid=0(root) groups=0(root)"}}) {
      f.start(f.config(c[0], s -> s.addCommand("id").setUser(c[1])));
      assertThat(f.runtime.awaitExit(c[0], Duration.ofSeconds(30)).orElseThrow().exitCode()).isZero();
      assertThat(f.stdout(c[0])).as("user " + c[1]).isEqualTo(c[2]);
    }
  }

  @Test
  void workingDirThroughProcFdIsRefused() {
    f.runtime.create(f.config("cve", s -> s.addCommand("/bin/true").setDir("/proc/self/fd/3")));
    assertThatThrownBy(() -> f.runtime.start("cve"))
        .isInstanceOfSatisfying(ContainerRuntimeException.class, e -> assertThat(e.reason()).isEqualTo(Reason.START_FAILED))
        .hasMessageContaining("/proc/self/fd/3").hasMessageContaining("outside the container");
    ExitStatus exit = f.runtime.inspect("cve").exit().orElseThrow();
    assertThat(exit.startError()).get().asString().contains("/proc/self/fd/3");
  }

  @Test
  void missingExecutableAndUnknownUserFailToStartWithTheirNames() {
    f.runtime.create(f.config("nox", s -> s.addCommand("no-such-binary")));
    assertThatThrownBy(() -> f.runtime.start("nox")).hasMessageContaining("no-such-binary")
        .hasMessageContaining("not found in $PATH");
    f.runtime.create(f.config("nou", s -> s.addCommand("/bin/true").setUser("ghost")));
    assertThatThrownBy(() -> f.runtime.start("nou")).hasMessageContaining("unable to find user ghost");
  }

  @Test
  void badInputIsRejectedWithoutLeavingState() {
    assertThatThrownBy(() -> f.runtime.create(f.config("../escape", s -> s.addCommand("true"))))
        .isInstanceOfSatisfying(ContainerRuntimeException.class, e -> assertThat(e.reason()).isEqualTo(Reason.INVALID_CONFIG));
    assertThatThrownBy(() -> f.runtime.create(f.config("nocmd", s -> {})))
        .hasMessageContaining("no command specified");
    assertThatThrownBy(() -> f.runtime.create(f.config("badenv", s -> s.addCommand("true").addEnv("NOEQUALS"))))
        .hasMessageContaining("NOEQUALS");
    assertThat(f.runtime.list()).isEmpty();
    f.runtime.create(f.config("dup", s -> s.addCommand("true")));
    assertThatThrownBy(() -> f.runtime.create(f.config("dup", s -> s.addCommand("true"))))
        .isInstanceOfSatisfying(ContainerRuntimeException.class, e -> assertThat(e.reason()).isEqualTo(Reason.ALREADY_EXISTS));
    assertThatThrownBy(() -> f.runtime.inspect("ghost"))
        .isInstanceOfSatisfying(ContainerRuntimeException.class, e -> assertThat(e.reason()).isEqualTo(Reason.NOT_FOUND));
  }

  @Test
  void execEntersTheContainerAndStopEscalatesToKill() {
    f.start(f.config("svc", s -> s.addCommand("sh").addArgs("-c")
        .addArgs("trap 'echo got-term' TERM; echo ready; while true; do sleep 0.1; done").setHostname("svc-host")
        .setStopGracePeriodMs(300)));
    ExecResult r = f.runtime.exec("svc", List.of("sh", "-c", "hostname; cat /proc/self/cgroup; grep CapEff /proc/self/status; ls /proc/self/fd | tr '\\n' ,"),
        Duration.ofSeconds(20));
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    assertThat(r.stdout()).contains("svc-host").contains("berth-" + f.nodeId + "/svc").contains("CapEff:\t00000000a80425fb")
        .contains("0,1,2,3,"); // 3 is ls's own directory fd
    assertThat(f.runtime.exec("svc", List.of("sh", "-c", "exit 9"), Duration.ofSeconds(20)).exitCode()).isEqualTo(9);
    assertThatThrownBy(() -> f.runtime.remove("svc"))
        .isInstanceOfSatisfying(ContainerRuntimeException.class, e -> assertThat(e.reason()).isEqualTo(Reason.STILL_RUNNING));
    long t0 = System.nanoTime();
    ExitStatus exit = f.runtime.stop("svc");
    long ms = (System.nanoTime() - t0) / 1_000_000;
    // the trap swallows SIGTERM, so the grace period runs out and SIGKILL ends the container
    assertThat(exit.signal()).isEqualTo(9);
    assertThat(exit.exitCode()).isEqualTo(137);
    assertThat(exit.oomKilled()).isFalse();
    assertThat(ms).isGreaterThanOrEqualTo(250);
    assertThat(f.stdout("svc")).contains("ready").contains("got-term");
    assertThatThrownBy(() -> f.runtime.exec("svc", List.of("true"), Duration.ofSeconds(5)))
        .isInstanceOfSatisfying(ContainerRuntimeException.class, e -> assertThat(e.reason()).isEqualTo(Reason.NOT_RUNNING));
  }

  @Test
  void stopSignalEndsACooperativeContainerAndInitForwardsIt() {
    f.start(f.config("coop", s -> s.addCommand("sleep").addArgs("60")));
    ExitStatus exit = f.runtime.stop("coop", "SIGTERM", Duration.ofSeconds(20));
    assertThat(exit.signal()).isEqualTo(15);
    assertThat(exit.exitCode()).isEqualTo(143);
    f.runtime.remove("coop");
    assertThat(f.runtime.list()).isEmpty();
  }

  @Test
  void logsAreTimestampedPerStreamAndRotatedAtTheSizeCap() throws Exception {
    try (RuntimeFixture small = new RuntimeFixture("log", s -> new RuntimeSettings(s.nodeId(), s.stateRoot(), s.launcher(),
        4096, 3, s.defaultPidsLimit(), s.userNsBase()))) {
      ExitStatus exit = small.runScript("chatty", "i=0; while [ $i -lt 400 ]; do echo line-$i; i=$((i+1)); done; echo oops >&2");
      assertThat(exit.exitCode()).isZero();
      var dir = small.settings.containersDir().resolve("chatty");
      assertThat(dir.resolve("container.log.1")).exists();
      assertThat(dir.resolve("container.log.2")).exists();
      assertThat(dir.resolve("container.log.3")).doesNotExist();
      for (String n : List.of("container.log", "container.log.1", "container.log.2")) {
        assertThat(Files.size(dir.resolve(n))).isLessThanOrEqualTo(4096);
      }
      List<LogLine> lines = small.runtime.logs("chatty");
      assertThat(lines.get(lines.size() - 1)).extracting(LogLine::stream, LogLine::text).containsExactly("stderr", "oops");
      assertThat(lines.get(lines.size() - 2).text()).isEqualTo("line-399");
      // the oldest lines were rotated away; the kept ones are consecutive and time-ordered
      List<LogLine> out = lines.stream().filter(l -> l.stream().equals("stdout")).toList();
      int first = Integer.parseInt(out.get(0).text().substring(5));
      assertThat(first).isGreaterThan(0);
      for (int i = 0; i < out.size(); i++) {
        assertThat(out.get(i).text()).isEqualTo("line-" + (first + i));
        if (i > 0) {
          assertThat(out.get(i).time()).isAfterOrEqualTo(out.get(i - 1).time());
        }
      }
    }
  }

  @Test
  void userNamespaceMapsContainerRootToAnUnprivilegedHostRange() throws Exception {
    f.start(f.config("userns", s -> s.addCommand("sh").addArgs("-c")
        .addArgs("cat /proc/self/uid_map; id -u; echo made > /made-here; ls /proc | grep -c '^[0-9]'")
        .setUserNamespace(true)));
    ExitStatus exit = f.runtime.awaitExit("userns", Duration.ofSeconds(30)).orElseThrow();
    assertThat(exit.startError()).isEmpty();
    assertThat(exit.exitCode()).as(f.runtime.logs("userns").toString()).isZero();
    String out = f.stdout("userns");
    assertThat(out.lines().findFirst().orElseThrow().trim().split("\\s+")).containsExactly("0", "100000", "65536");
    assertThat(out).contains("\n0\n");
    // a file root made inside belongs to the mapped, unprivileged uid on the host
    var made = f.settings.containersDir().resolve("userns/upper/made-here");
    assertThat(Files.getAttribute(made, "unix:uid")).isEqualTo(100000);
  }

  @Test
  void aUserNamespacedContainerJoinsAGivenNetworkNamespace() throws Exception {
    // as a task on an overlay network does: the agent wires the netns, the container joins it
    String ns = "berth-uns-" + java.util.UUID.randomUUID().toString().substring(0, 8);
    RuntimeFixture.run("ip", "netns", "add", ns);
    try {
      RuntimeFixture.run("ip", "-n", ns, "link", "add", "bveth0", "type", "veth", "peer", "name", "bveth1");
      ContainerConfig base = f.config("unsnet", s -> s.addCommand("cat").addArgs("/proc/net/dev").setUserNamespace(true));
      f.runtime.create(new ContainerConfig(base.id(), base.spec(), base.resources(), base.lowerDirs(),
          Path.of("/run/netns", ns), java.util.Map.of()));
      f.runtime.start("unsnet");
      ExitStatus exit = f.runtime.awaitExit("unsnet", Duration.ofSeconds(30)).orElseThrow();
      assertThat(exit.startError()).isEmpty();
      assertThat(exit.exitCode()).as(f.runtime.logs("unsnet").toString()).isZero();
      assertThat(f.stdout("unsnet")).contains("bveth0", "bveth1");
    } finally {
      RuntimeFixture.run("ip", "netns", "del", ns);
    }
  }

  @Test
  void userNamespaceWithUnreachableStateDirIsRejectedUpFront() throws Exception {
    Files.setPosixFilePermissions(f.tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
    assertThatThrownBy(() -> f.runtime.create(f.config("unreach", s -> s.addCommand("true").setUserNamespace(true))))
        .isInstanceOfSatisfying(ContainerRuntimeException.class, e -> assertThat(e.reason()).isEqualTo(Reason.INVALID_CONFIG))
        .hasMessageContaining("not searchable").hasMessageContaining(f.tmp.toString());
    assertThat(f.runtime.list()).isEmpty();
  }
}
