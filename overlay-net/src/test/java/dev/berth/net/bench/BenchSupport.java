package dev.berth.net.bench;

import dev.berth.testhosts.TestHosts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the network benchmark harnesses share: their arguments, net-baseline.sh's rr tool
 * (extracted from that script and compiled), iperf3 and rr runs inside a test host, servers
 * started in a namespace, and medians of interleaved runs. Not a test.
 */
final class BenchSupport implements AutoCloseable {
  private static final Pattern BPS =
      Pattern.compile("\"sum_received\":\\s*\\{[^}]*?\"bits_per_second\":\\s*([0-9.eE+]+)");
  final int runs;
  final int duration;
  final int rrN;
  final String rr;
  private final Path work;
  private final List<Process> servers = new ArrayList<>();
  private final Map<String, List<Double>> results = new LinkedHashMap<>();

  /** Args: NET_BASELINE_SCRIPT [RUNS=3] [DURATION_S=5] [RR_N=20000]. */
  BenchSupport(String[] args) throws IOException {
    runs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    duration = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    rrN = args.length > 3 ? Integer.parseInt(args[3]) : 20000;
    work = Files.createTempDirectory("net-bench");
    rr = compileRr(Path.of(args[0]), work);
  }

  private static String compileRr(Path baseline, Path work) throws IOException {
    String script = Files.readString(baseline);
    int start = script.indexOf("cat >\"$WORK/rr.c\" <<'EOF'\n");
    if (start < 0) {
      throw new IOException("no rr.c in " + baseline);
    }
    start = script.indexOf('\n', start) + 1;
    int end = script.indexOf("\nEOF\n", start);
    Files.writeString(work.resolve("rr.c"), script.substring(start, end + 1));
    return compile(work, work.resolve("rr.c"));
  }

  /** Compiles a C tool into the work directory; returns the binary's path. */
  String compile(Path source) throws IOException {
    return compile(work, source);
  }

  private static String compile(Path work, Path source) throws IOException {
    String bin = work.resolve(source.getFileName().toString().replace(".c", "")).toString();
    TestHosts.check(TestHosts.run("cc", "-O2", "-o", bin, source.toString()));
    return bin;
  }

  /** iperf3 -s on 5201 and the rr echo server on 7001 inside a namespace. */
  void startServers(String ns) throws IOException {
    server("ip", "netns", "exec", ns, "iperf3", "-s", "-p", "5201");
    server("ip", "netns", "exec", ns, rr, "-s", "7001");
  }

  private void server(String... cmd) throws IOException {
    servers.add(new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(true)
        .start());
  }

  /** A background process stopped by {@link #close}, its output (stdout and stderr) to read. */
  Process process(String... cmd) throws IOException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    servers.add(p);
    return p;
  }

  /** iperf3 TCP throughput from a namespace, recorded as "tcp_P{streams} {path}" in Gbit/s. */
  void iperf(String path, String ns, String host, int port, int streams) throws IOException {
    List<String> cmd = List.of("iperf3", "-c", host, "-p", Integer.toString(port), "-t", Integer.toString(duration),
        "-P", Integer.toString(streams), "-J");
    Matcher m = BPS.matcher(TestHosts.exec(ns, cmd.toArray(String[]::new)).out());
    if (!m.find()) {
      // now and then the server still holds the previous test and resets the next client: retry once
      System.out.println("iperf3 via " + path + " (" + streams + " streams) failed; retrying once");
      try {
        Thread.sleep(1000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted", e);
      }
      String out = TestHosts.exec(ns, cmd.toArray(String[]::new)).out();
      m = BPS.matcher(out);
      if (!m.find()) {
        throw new IOException("no iperf3 result via " + path + ": " + out);
      }
    }
    record("tcp_P" + streams + " " + path, Double.parseDouble(m.group(1)) / 1e9);
  }

  /** 1-byte request/response from a namespace, recorded as "rr_p50/rr_p99 {path}" in µs. */
  void rr(String path, String ns, String host, int port) throws IOException {
    String[] t = TestHosts.check(TestHosts.exec(ns, rr, "-c", host, Integer.toString(port),
        Integer.toString(rrN))).out().trim().split("\\s+");
    record("rr_p50 " + path, Double.parseDouble(t[0]));
    record("rr_p99 " + path, Double.parseDouble(t[1]));
  }

  private void record(String key, double v) {
    results.computeIfAbsent(key, k -> new ArrayList<>()).add(v);
  }

  /** Prints every measure's median and runs; returns the medians by "test path". */
  Map<String, Double> printMedians() {
    System.out.printf("%n%-8s %-13s %8s %s%n", "test", "path", "median", "runs");
    Map<String, Double> med = new LinkedHashMap<>();
    results.forEach((k, v) -> {
      List<Double> s = new ArrayList<>(v);
      s.sort(null);
      double m = s.size() % 2 == 1 ? s.get(s.size() / 2) : (s.get(s.size() / 2 - 1) + s.get(s.size() / 2)) / 2;
      med.put(k, m);
      String[] kp = k.split(" ");
      System.out.printf("%-8s %-13s %8.2f %s%n", kp[0], kp[1], m, v);
    });
    return med;
  }

  @Override
  public void close() throws IOException {
    for (Process p : servers) {
      p.destroy();
    }
    try (var s = Files.walk(work)) {
      s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    }
  }
}
