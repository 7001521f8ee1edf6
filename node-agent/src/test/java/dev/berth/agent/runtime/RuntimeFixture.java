package dev.berth.agent.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.berth.agent.cgroup.CgroupManager;
import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.ResourceRequirements;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Real containers for tests: a busybox-static root filesystem as the single image layer, a
 * runtime with a unique node id, and a close() that removes everything and then checks that
 * no cgroup, mount or process of this node is left.
 */
public final class RuntimeFixture implements AutoCloseable {
  static final Path BUSYBOX = Path.of("/bin/busybox");

  final Path tmp;
  final Path lower;
  final String nodeId;
  final CgroupManager cgroups;
  final RuntimeSettings settings;
  final ContainerRuntime runtime;

  public static void assumeHost() {
    assumeTrue(isRoot(), "needs root (namespaces, mounts, cgroups)");
    assumeTrue(Files.isExecutable(BUSYBOX), "busybox-static is not installed (apt-get install busybox-static)");
    assumeTrue(read(Path.of("/proc/filesystems")).contains("overlay"), "kernel has no overlayfs");
  }

  static boolean isRoot() {
    return read(Path.of("/proc/self/status")).lines().anyMatch(l -> l.matches("Uid:\\s+0\\s.*"));
  }

  static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      return "";
    }
  }

  RuntimeFixture(String nodePrefix) throws IOException {
    this(nodePrefix, s -> s);
  }

  RuntimeFixture(String nodePrefix, java.util.function.UnaryOperator<RuntimeSettings> tweak) throws IOException {
    tmp = Files.createTempDirectory("berth-rt-");
    // searchable by others: a user-namespaced container's root (host uid 100000) mounts the overlay
    Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
    lower = tmp.resolve("layer0");
    buildRootfs(lower);
    nodeId = nodePrefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    cgroups = CgroupManager.detect(nodeId);
    settings = tweak.apply(RuntimeSettings.defaults(nodeId, tmp.resolve("state"), LauncherBinary.extract(tmp.resolve("bin"))));
    runtime = new ContainerRuntime(settings, cgroups, Clock.systemUTC());
  }

  /** A new runtime object on the same state, as an agent restarted after a crash would make. */
  ContainerRuntime restartedRuntime() {
    return new ContainerRuntime(settings, CgroupManager.detect(nodeId), Clock.systemUTC());
  }

  static void buildRootfs(Path root) throws IOException {
    Files.createDirectories(root.resolve("bin"));
    Files.createDirectories(root.resolve("etc"));
    Files.createDirectories(root.resolve("tmp"));
    Files.copy(BUSYBOX, root.resolve("bin/busybox"));
    for (String applet : run(BUSYBOX.toString(), "--list").split("\n")) {
      if (!applet.isBlank() && !applet.equals("busybox")) {
        Files.createSymbolicLink(root.resolve("bin").resolve(applet), Path.of("busybox"));
      }
    }
    Files.writeString(root.resolve("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n"
        + "nobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n");
    Files.writeString(root.resolve("etc/group"), "root:x:0:\napp:x:1000:\nextra:x:2000:app\nnogroup:x:65534:\n");
  }

  static String run(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      p.waitFor();
      return out;
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  ContainerConfig config(String id, Consumer<ContainerSpec.Builder> spec) {
    return config(id, spec, ResourceRequirements.getDefaultInstance());
  }

  ContainerConfig config(String id, Consumer<ContainerSpec.Builder> spec, ResourceRequirements res) {
    ContainerSpec.Builder b = ContainerSpec.newBuilder().setImage("busybox:test");
    spec.accept(b);
    return new ContainerConfig(id, b.build(), res, List.of(lower));
  }

  ContainerInfo start(ContainerConfig c) {
    runtime.create(c);
    return runtime.start(c.id());
  }

  /** Runs {@code sh -c script} to its exit and returns the exit status. */
  ExitStatus runScript(String id, String script) {
    start(config(id, s -> s.addCommand("sh").addArgs("-c").addArgs(script)));
    return runtime.awaitExit(id, Duration.ofSeconds(30)).orElseThrow();
  }

  String stdout(String id) {
    return String.join("\n", runtime.logs(id).stream().filter(l -> l.stream().equals("stdout")).map(LogLine::text).toList());
  }

  void assertNothingLeaked() throws IOException {
    assertNothingLeaked(nodeId, tmp);
  }

  /** No cgroup of the node in any hierarchy, no host mount and no process that names {@code dir}. */
  public static void assertNothingLeaked(String nodeId, Path dir) throws IOException {
    try (Stream<Path> s = Files.list(Path.of("/sys/fs/cgroup"))) {
      assertThat(s.map(h -> h.resolve("berth-" + nodeId)).filter(Files::exists).toList())
          .as("cgroups of node " + nodeId).isEmpty();
    }
    assertThat(read(Path.of("/proc/self/mountinfo"))).as("host mounts").doesNotContain(dir.toString());
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      List<String> mine = procs.filter(p -> p.getFileName().toString().matches("\\d+"))
          .map(p -> read(p.resolve("cmdline")).replace('\0', ' '))
          .filter(cmd -> cmd.contains(dir.toString())).toList();
      assertThat(mine).as("processes of node " + nodeId).isEmpty();
    }
  }

  @Override
  public void close() throws IOException {
    try {
      runtime.destroyAll();
      assertNothingLeaked();
    } finally {
      new ContainerDir(tmp).delete();
    }
  }
}
