package dev.berth.agent.runtime;

import dev.berth.agent.cgroup.CgroupManager;
import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.ResourceRequirements;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Start-to-exit latency of {@code /bin/true} in a container, Berth vs runc and crun on the same
 * rootfs, in one run (not part of {@code mvn verify}). The peers and the kernel floors are
 * measured by ../shared/bench/runtime-peers.sh (hyperfine); its busybox rootfs (kept with KEEP=1)
 * is then Berth's single image layer. Berth is timed from a warm runtime: create + start + wait
 * for the exit record (remove is timed separately). For the cost of spawning from a JVM, the
 * bare unshare floor is also timed through ProcessBuilder here, interleaved with Berth's runs (one
 * of each per iteration), and the median of the per-pair ratios is reported.
 *
 * <p>Usage (as root): see docs/benchmarks.md, "Container runtime".
 * Args: [runs=200] [peers-script=/work/shared/bench/runtime-peers.sh | none]
 */
public final class RuntimeStartBenchmark {
  private RuntimeStartBenchmark() {}

  public static void main(String[] args) throws Exception {
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    String peers = args.length > 1 ? args[1] : "/work/shared/bench/runtime-peers.sh";
    Path work = Files.createTempDirectory("berth-bench-");
    Path rootfs;
    String peerTable = "(peers not measured)";
    if (!peers.equals("none")) {
      Path pb = work.resolve("peerbench");
      ProcessBuilder p = new ProcessBuilder("bash", peers).inheritIO();
      p.environment().putAll(java.util.Map.of("RUNS", Integer.toString(runs), "PB", pb.toString(), "KEEP", "1"));
      if (p.start().waitFor() != 0) {
        throw new IllegalStateException("peer script failed");
      }
      peerTable = Files.readString(pb.resolve("results/table.txt"));
      rootfs = pb.resolve("bundle/rootfs");
    } else {
      rootfs = work.resolve("rootfs");
      RuntimeFixture.buildRootfs(rootfs);
    }
    String node = "bench-" + ProcessHandle.current().pid();
    RuntimeSettings settings = RuntimeSettings.defaults(node, work.resolve("state"), LauncherBinary.extract(work.resolve("bin")));
    ContainerRuntime rt = new ContainerRuntime(settings, CgroupManager.detect(node), Clock.systemUTC());
    ContainerSpec spec = ContainerSpec.newBuilder().addCommand("/bin/true").build();
    try {
      for (int i = 0; i < 10; i++) { // warm-up: JIT, page cache, launcher extracted
        cycle(rt, spec, rootfs, "warm" + i, new long[PHASES.length]);
      }
      // Interleaved: each iteration runs one Berth start-to-exit and one bare unshare (alternating which
      // goes first), so both see the same host state; the floor drifts by tens of percent between sittings.
      long[][] phases = new long[PHASES.length][runs];
      long[] floor = new long[runs];
      double[] ratio = new double[runs];
      for (int i = 0; i < runs; i++) {
        long[] t = new long[PHASES.length];
        if (i % 2 == 0) {
          cycle(rt, spec, rootfs, "run" + i, t);
          floor[i] = unshareFloor(rootfs);
        } else {
          floor[i] = unshareFloor(rootfs);
          cycle(rt, spec, rootfs, "run" + i, t);
        }
        for (int k = 0; k < t.length; k++) {
          phases[k][i] = t[k];
        }
        ratio[i] = (double) t[0] / floor[i];
      }
      System.out.println();
      System.out.println("== peers and kernel floors (runtime-peers.sh, hyperfine) ==");
      System.out.println(peerTable);
      System.out.println("== Berth (ContainerRuntime from a warm JVM; cgroups " + rt.list().size() + " left), interleaved with the floor ==");
      System.out.printf("%-44s %8s %8s %8s %5s  (ms)%n", "case", "median", "p99", "min", "n");
      for (int k = 0; k < PHASES.length; k++) {
        row(PHASES[k], phases[k]);
      }
      row("unshare 5 ns + true, spawned from the JVM", floor);
      Arrays.sort(ratio);
      System.out.printf(Locale.ROOT, "%-44s %8.3f %8.3f %8.3f %5d  (Berth / floor, per pair)%n", "ratio of each interleaved pair",
          median(ratio), ratio[(int) Math.round(0.99 * (runs - 1))], ratio[0], runs);
    } finally {
      rt.destroyAll();
      new ContainerDir(work).delete();
    }
  }

  /** The bare-unshare floor of issue #5, spawned from this JVM: five namespaces, /proc, fork, exec of true. */
  private static long unshareFloor(Path rootfs) throws Exception {
    long t0 = System.nanoTime();
    Process p = new ProcessBuilder("unshare", "--fork", "--pid", "--mount", "--uts", "--ipc", "--net", "--mount-proc",
        rootfs.resolve("bin/true").toString()).start();
    if (p.waitFor() != 0) {
      throw new IllegalStateException("unshare failed");
    }
    return System.nanoTime() - t0;
  }

  private static double median(double[] sorted) {
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
  }

  private static final String[] PHASES = {"berth create+start+exit /bin/true", "  of which create (state dir, cgroups)",
      "  of which start (until the process exec'd)", "  of which exit (until the exit record)", "berth remove (cgroups, state dir)"};

  private static void cycle(ContainerRuntime rt, ContainerSpec spec, Path rootfs, String id, long[] t) throws java.io.IOException {
    long t0 = System.nanoTime();
    rt.create(new ContainerConfig(id, spec, ResourceRequirements.getDefaultInstance(), List.of(rootfs)));
    long created = System.nanoTime();
    rt.start(id);
    long started = System.nanoTime();
    ExitStatus e = rt.awaitExit(id, Duration.ofSeconds(60)).orElseThrow();
    long t1 = System.nanoTime();
    if (e.exitCode() != 0) {
      throw new IllegalStateException(id + " exited " + e);
    }
    rt.remove(id);
    t[0] = t1 - t0;
    t[1] = created - t0;
    t[2] = started - created;
    t[3] = t1 - started;
    t[4] = System.nanoTime() - t1;
    trace(id, t0, created, started, t1); // after the remove is timed: the file write is not part of it
  }

  /** With BERTH_LAUNCHER_TRACE set, the JVM's own marks go beside the launcher's (same clock: CLOCK_MONOTONIC). */
  private static void trace(String id, long t0, long created, long started, long t1) throws java.io.IOException {
    String file = System.getenv("BERTH_LAUNCHER_TRACE");
    if (file == null || file.isEmpty()) {
      return;
    }
    String lines = id + " " + t0 + " jvm-create\n" + id + " " + created + " jvm-start\n" + id + " " + started + " jvm-started\n"
        + id + " " + t1 + " jvm-exited\n";
    Files.writeString(Path.of(file), lines, java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
  }

  private static void row(String name, long[] nanos) {
    long[] s = nanos.clone();
    Arrays.sort(s);
    double median = s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2.0;
    long p99 = s[(int) Math.min(s.length - 1, Math.round(0.99 * (s.length - 1)))];
    System.out.printf(Locale.ROOT, "%-44s %8.2f %8.2f %8.2f %5d%n", name, median / 1e6, p99 / 1e6, s[0] / 1e6, s.length);
  }

}
