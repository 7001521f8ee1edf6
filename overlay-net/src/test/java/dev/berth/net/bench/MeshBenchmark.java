package dev.berth.net.bench;

import dev.berth.testhosts.TestHosts;
import dev.berth.net.mesh.Backend;
import dev.berth.net.mesh.BackendPool;
import dev.berth.net.mesh.RoutingMesh;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Benchmark harness (not a test; run by overlay-net/bench/mesh-bench.sh): the routing mesh
 * vs direct connections, on loopback, same client concurrency, interleaved. The "task" is
 * iperf3 -s and net-baseline.sh's rr echo server on 127.0.0.2; the mesh listens on
 * 127.0.0.1 and relays to it (1 event-loop thread, as on a node).
 *
 * <p>Args: NET_BASELINE_SCRIPT [RUNS=3] [DURATION_S=5] [RR_N=20000]
 */
public final class MeshBenchmark {
  private static final Pattern BPS =
      Pattern.compile("\"sum_received\":\\s*\\{[^}]*?\"bits_per_second\":\\s*([0-9.eE+]+)");

  private MeshBenchmark() {}

  public static void main(String[] args) throws Exception {
    Path baseline = Path.of(args[0]);
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    int duration = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    int rrN = args.length > 3 ? Integer.parseInt(args[3]) : 20000;
    Path work = Files.createTempDirectory("mesh-bench");
    List<Process> servers = new ArrayList<>();
    List<RoutingMesh> meshes = new ArrayList<>();
    int code = 1;
    try {
      String rr = OverlayBenchmark.compileRr(baseline, work);
      servers.add(new ProcessBuilder("iperf3", "-s", "-B", "127.0.0.2", "-p", "5201")
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(true).start());
      servers.add(new ProcessBuilder(rr, "-s", "7001")
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(true).start());
      Thread.sleep(500);
      Map<String, Integer> meshPorts = new LinkedHashMap<>();
      for (int port : new int[] {5201, 7001}) {
        BackendPool pool = new BackendPool();
        pool.put(new Backend("task", "node", new InetSocketAddress("127.0.0.2", port), true));
        RoutingMesh m = new RoutingMesh(new InetSocketAddress("127.0.0.1", 0), pool, false, 1).start();
        meshes.add(m);
        meshPorts.put(Integer.toString(port), m.localAddress().getPort());
      }
      Map<String, List<Double>> res = new LinkedHashMap<>();
      for (int r = 1; r <= runs; r++) {
        for (int streams : new int[] {1, 4}) {
          for (String path : List.of("direct", "mesh")) {
            String host = path.equals("direct") ? "127.0.0.2" : "127.0.0.1";
            int port = path.equals("direct") ? 5201 : meshPorts.get("5201");
            String out = TestHosts.check(TestHosts.run("iperf3", "-c", host, "-p", Integer.toString(port), "-t",
                Integer.toString(duration), "-P", Integer.toString(streams), "-J")).out();
            Matcher m = BPS.matcher(out);
            if (!m.find()) {
              throw new IOException("no iperf3 result: " + out);
            }
            res.computeIfAbsent("tcp_P" + streams + " " + path, k -> new ArrayList<>())
                .add(Double.parseDouble(m.group(1)) / 1e9);
          }
        }
        for (String path : List.of("direct", "mesh")) {
          String host = path.equals("direct") ? "127.0.0.2" : "127.0.0.1";
          int port = path.equals("direct") ? 7001 : meshPorts.get("7001");
          String[] t = TestHosts.check(TestHosts.run(rr, "-c", host, Integer.toString(port),
              Integer.toString(rrN))).out().trim().split("\\s+");
          res.computeIfAbsent("rr_p50 " + path, k -> new ArrayList<>()).add(Double.parseDouble(t[0]));
          res.computeIfAbsent("rr_p99 " + path, k -> new ArrayList<>()).add(Double.parseDouble(t[1]));
        }
        System.out.println("run " + r + "/" + runs + " done");
      }
      Map<String, Double> med = new LinkedHashMap<>();
      res.forEach((k, v) -> {
        List<Double> s = new ArrayList<>(v);
        s.sort(null);
        med.put(k, s.size() % 2 == 1 ? s.get(s.size() / 2) : (s.get(s.size() / 2 - 1) + s.get(s.size() / 2)) / 2);
        System.out.printf("%-18s median %9.2f  runs %s%n", k, med.get(k), v);
      });
      for (String t : List.of("tcp_P1", "tcp_P4")) {
        System.out.printf("%s mesh/direct throughput %.2f%n", t, med.get(t + " mesh") / med.get(t + " direct"));
      }
      System.out.printf("rr_p50 mesh adds %.1f us (%.2fx); rr_p99 adds %.1f us%n",
          med.get("rr_p50 mesh") - med.get("rr_p50 direct"), med.get("rr_p50 mesh") / med.get("rr_p50 direct"),
          med.get("rr_p99 mesh") - med.get("rr_p99 direct"));
      System.out.println("(throughput in Gbit/s, latency in us)");
      code = 0;
    } finally {
      meshes.forEach(RoutingMesh::close);
      servers.forEach(Process::destroy);
      try (var s = Files.walk(work)) {
        s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
    System.exit(code);
  }
}
