package dev.berth.net.bench;

import dev.berth.testhosts.TestHosts;
import dev.berth.net.vxlan.DataPlane;
import dev.berth.net.vxlan.LocalEndpoint;
import dev.berth.net.vxlan.NetnsRef;
import dev.berth.net.vxlan.NodeConfig;
import dev.berth.net.vxlan.OverlayNetwork;
import dev.berth.net.vxlan.RemoteEndpoint;
import dev.berth.net.vxlan.Sandbox;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Benchmark harness (not a test; run by overlay-net/bench/overlay-bench.sh): two test
 * hosts on one underlay, and between them in the same run, interleaved: the raw underlay
 * (host to host), a hand-built kernel VXLAN exactly as ../shared/bench/net-baseline.sh
 * builds it, and Berth's data plane (container to container). Measures iperf3 TCP
 * throughput (1 and 4 streams) and 1-byte TCP request/response latency with
 * net-baseline.sh's own rr tool (extracted from that script and compiled), and prints
 * medians and ratios.
 *
 * <p>Args: NET_BASELINE_SCRIPT [RUNS=3] [DURATION_S=5] [RR_N=20000]
 */
public final class OverlayBenchmark {
  private static final Pattern BPS =
      Pattern.compile("\"sum_received\":\\s*\\{[^}]*?\"bits_per_second\":\\s*([0-9.eE+]+)");

  private OverlayBenchmark() {}

  public static void main(String[] args) throws Exception {
    Path baseline = Path.of(args[0]);
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    int duration = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    int rrN = args.length > 3 ? Integer.parseInt(args[3]) : 20000;
    Path work = Files.createTempDirectory("overlay-bench");
    List<Process> servers = new ArrayList<>();
    int code = 1;
    try (TestHosts hosts = new TestHosts()) {
      String rr = compileRr(baseline, work);
      String hA = hosts.addHost("hA", 1);
      String hB = hosts.addHost("hB", 2);
      // Hand-built kernel VXLAN, the commands of net-baseline.sh's setup_host.
      String kA = hosts.addNamespace("kA");
      String kB = hosts.addNamespace("kB");
      kernelVxlan(hA, "192.0.2.1", "192.0.2.2", kA, "10.250.0.1", "02:00:0a:fa:00:01", "10.250.0.2", "02:00:0a:fa:00:02");
      kernelVxlan(hB, "192.0.2.2", "192.0.2.1", kB, "10.250.0.2", "02:00:0a:fa:00:02", "10.250.0.1", "02:00:0a:fa:00:01");
      // Berth's data plane.
      String bA = hosts.addNamespace("bA");
      String bB = hosts.addNamespace("bB");
      OverlayNetwork net = new OverlayNetwork("bench", 4096, "10.20.0.0/24");
      DataPlane pA = berth(hA, 1, net, "bA", bA, "10.20.0.2", "10.20.0.3", 2);
      DataPlane pB = berth(hB, 2, net, "bB", bB, "10.20.0.3", "10.20.0.2", 1);

      Map<String, String[]> paths = new LinkedHashMap<>();
      paths.put("underlay", new String[] {hA, hB, "192.0.2.2"});
      paths.put("kernel-vxlan", new String[] {kA, kB, "10.250.0.2"});
      paths.put("berth", new String[] {bA, bB, "10.20.0.3"});
      for (String[] p : paths.values()) {
        if (!TestHosts.ping(p[0], p[2])) {
          throw new IOException("no connectivity " + p[0] + " -> " + p[2]);
        }
        servers.add(new ProcessBuilder("ip", "netns", "exec", p[1], "iperf3", "-s", "-p", "5201")
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(true).start());
        servers.add(new ProcessBuilder("ip", "netns", "exec", p[1], rr, "-s", "7001")
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(true).start());
      }
      Thread.sleep(500);
      Map<String, List<Double>> results = new LinkedHashMap<>();
      for (int r = 1; r <= runs; r++) {
        for (int streams : new int[] {1, 4}) {
          for (Map.Entry<String, String[]> p : paths.entrySet()) {
            String out = TestHosts.check(TestHosts.exec(p.getValue()[0], "iperf3", "-c", p.getValue()[2], "-p",
                "5201", "-t", Integer.toString(duration), "-P", Integer.toString(streams), "-J")).out();
            Matcher m = BPS.matcher(out);
            if (!m.find()) {
              throw new IOException("no iperf3 result: " + out);
            }
            results.computeIfAbsent("tcp_P" + streams + " " + p.getKey(), k -> new ArrayList<>())
                .add(Double.parseDouble(m.group(1)) / 1e9);
          }
        }
        for (Map.Entry<String, String[]> p : paths.entrySet()) {
          String[] t = TestHosts.check(TestHosts.exec(p.getValue()[0], rr, "-c", p.getValue()[2], "7001",
              Integer.toString(rrN))).out().trim().split("\\s+");
          results.computeIfAbsent("rr_p50 " + p.getKey(), k -> new ArrayList<>()).add(Double.parseDouble(t[0]));
          results.computeIfAbsent("rr_p99 " + p.getKey(), k -> new ArrayList<>()).add(Double.parseDouble(t[1]));
        }
        System.out.println("run " + r + "/" + runs + " done");
      }
      report(results, paths.keySet());
      pA.teardown();
      pB.teardown();
      code = 0;
    } finally {
      for (Process p : servers) {
        p.destroy();
      }
      try (var s = Files.walk(work)) {
        s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
    System.exit(code);
  }

  private static void report(Map<String, List<Double>> results, Iterable<String> pathNames) {
    System.out.printf("%n%-8s %-13s %-8s %s%n", "test", "path", "median", "runs");
    Map<String, Double> med = new LinkedHashMap<>();
    results.forEach((k, v) -> {
      List<Double> s = new ArrayList<>(v);
      s.sort(null);
      double m = s.size() % 2 == 1 ? s.get(s.size() / 2) : (s.get(s.size() / 2 - 1) + s.get(s.size() / 2)) / 2;
      med.put(k, m);
      String[] kp = k.split(" ");
      System.out.printf("%-8s %-13s %8.2f %s%n", kp[0], kp[1], m, v);
    });
    System.out.println("\nratios (medians; throughput: higher is better, latency: lower is better)");
    for (String test : List.of("tcp_P1", "tcp_P4", "rr_p50", "rr_p99")) {
      double un = med.get(test + " underlay");
      double kv = med.get(test + " kernel-vxlan");
      double be = med.get(test + " berth");
      System.out.printf("%-8s kernel-vxlan/underlay %.2f  berth/underlay %.2f  berth/kernel-vxlan %.3f%n",
          test, kv / un, be / un, be / kv);
    }
    System.out.println("(throughput in Gbit/s, latency in us)");
  }

  static String compileRr(Path baseline, Path work) throws IOException {
    String script = Files.readString(baseline);
    int start = script.indexOf("cat >\"$WORK/rr.c\" <<'EOF'\n");
    if (start < 0) {
      throw new IOException("no rr.c in " + baseline);
    }
    start = script.indexOf('\n', start) + 1;
    int end = script.indexOf("\nEOF\n", start);
    Files.writeString(work.resolve("rr.c"), script.substring(start, end + 1));
    String bin = work.resolve("rr").toString();
    TestHosts.check(TestHosts.run("cc", "-O2", "-o", bin, work.resolve("rr.c").toString()));
    return bin;
  }

  private static void kernelVxlan(String ns, String lip, String pip, String ctr, String cip, String cmac,
      String pcip, String pcmac) throws IOException {
    String[][] cmds = {
        {"ip", "-n", ns, "link", "add", "vxlan100", "type", "vxlan", "id", "100", "dstport", "4789", "local", lip,
            "dev", "u0", "nolearning"},
        {"ip", "-n", ns, "link", "set", "vxlan100", "mtu", "1450"},
        {"ip", "-n", ns, "link", "add", "name", "br100", "type", "bridge"},
        {"ip", "-n", ns, "link", "set", "vxlan100", "master", "br100"},
        {"ip", "-n", ns, "link", "add", "veth-c", "mtu", "1450", "type", "veth", "peer", "name", "eth0", "mtu", "1450",
            "netns", ctr},
        {"ip", "-n", ns, "link", "set", "veth-c", "master", "br100"},
        {"ip", "-n", ns, "link", "set", "br100", "mtu", "1450"},
        {"ip", "-n", ns, "link", "set", "vxlan100", "up"},
        {"ip", "-n", ns, "link", "set", "veth-c", "up"},
        {"ip", "-n", ns, "link", "set", "br100", "up"},
        {"ip", "-n", ctr, "link", "set", "eth0", "address", cmac},
        {"ip", "-n", ctr, "addr", "add", cip + "/24", "dev", "eth0"},
        {"ip", "-n", ctr, "link", "set", "eth0", "up"},
        {"ip", "netns", "exec", ns, "bridge", "fdb", "append", "00:00:00:00:00:00", "dev", "vxlan100", "dst", pip},
        {"ip", "netns", "exec", ns, "bridge", "fdb", "replace", pcmac, "dev", "vxlan100", "dst", pip, "self",
            "permanent"},
        {"ip", "netns", "exec", ns, "bridge", "fdb", "replace", pcmac, "dev", "vxlan100", "master", "static"},
        {"ip", "-n", ctr, "neigh", "replace", pcip, "lladdr", pcmac, "dev", "eth0", "nud", "permanent"},
    };
    for (String[] c : cmds) {
      TestHosts.check(TestHosts.run(c));
    }
  }

  private static DataPlane berth(String host, int n, OverlayNetwork net, String box, String boxNs, String ip,
      String peerIp, int peerN) throws IOException {
    DataPlane p = new DataPlane(new NodeConfig("bench-" + host, NetnsRef.named(host), "u0", "192.0.2." + n, 1500,
        "172.18.0.0/16"));
    p.addNetwork(net);
    p.attach(new Sandbox(box, NetnsRef.named(boxNs), "eth1", "172.18.0.2/16"),
        List.of(new LocalEndpoint(box, net.id(), "eth0", ip + "/24", mac(ip))));
    p.addRemote(new RemoteEndpoint(net.id(), peerIp, mac(peerIp), "192.0.2." + peerN));
    return p;
  }

  private static String mac(String ip) {
    String[] o = ip.split("\\.");
    return String.format("02:42:%02x:%02x:%02x:%02x", Integer.parseInt(o[0]), Integer.parseInt(o[1]),
        Integer.parseInt(o[2]), Integer.parseInt(o[3]));
  }
}
