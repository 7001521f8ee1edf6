package dev.berth.net.bench;

import dev.berth.testhosts.TestHosts;
import dev.berth.net.mesh.Backend;
import dev.berth.net.mesh.KernelMesh;
import dev.berth.net.mesh.MeshHarness;
import dev.berth.net.vxlan.DataPlane;
import dev.berth.net.vxlan.LocalEndpoint;
import dev.berth.net.vxlan.Names;
import dev.berth.net.vxlan.NetnsRef;
import dev.berth.net.vxlan.NodeConfig;
import dev.berth.net.vxlan.OverlayNetwork;
import dev.berth.net.vxlan.RemoteEndpoint;
import dev.berth.net.vxlan.Sandbox;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Benchmark harness (not a test; run by overlay-net/bench/mesh-bench.sh): the routing mesh vs
 * direct connections over Berth's ingress overlay between two test hosts, same client
 * concurrency, interleaved in one run. The task (iperf3 -s and net-baseline.sh's rr echo server)
 * runs in a container on host B at 10.255.0.2; the client runs on host A. "direct" connects to
 * the task over the overlay; "mesh" connects to host A's published port, where the routing mesh
 * (its own JVM in host A's namespace, one event-loop thread as on a node) relays over the same
 * overlay by splice; "mesh-copy" is the same mesh copying through user space; "c-splice" is
 * overlay-net/bench/splice-relay.c, a minimal C relay (blocking splice, a process per direction,
 * 1 MiB pipes): the ceiling any L4 proxy reaches on this machine; "kernel" is the kernel routing
 * mesh ({@link KernelMesh}: host A's nftables table DNATs the published port to the task and
 * masquerades to A's ingress address), what the node agent runs for ports without PROXY protocol.
 *
 * <p>Args: NET_BASELINE_SCRIPT [RUNS=3] [DURATION_S=5] [RR_N=20000]
 */
public final class MeshBenchmark {
  private MeshBenchmark() {}

  public static void main(String[] args) throws Exception {
    try (BenchSupport bench = new BenchSupport(args); TestHosts hosts = new TestHosts()) {
      String hA = hosts.addHost("mA", 1);
      String hB = hosts.addHost("mB", 2);
      DataPlane pA = ingressNode(hA, 1);
      DataPlane pB = ingressNode(hB, 2);
      String task = hosts.addNamespace("task");
      String taskIp = "10.255.0.2";
      pB.attach(new Sandbox("task", NetnsRef.named(task), "eth1", "172.18.0.2/16"),
          List.of(new LocalEndpoint("task", "ingress", "eth0", taskIp + "/24", TestHosts.mac(taskIp))));
      pA.addRemote(new RemoteEndpoint("ingress", taskIp, TestHosts.mac(taskIp), "192.0.2.2"));
      pA.addRemote(new RemoteEndpoint("ingress", "10.255.0.12", TestHosts.mac("10.255.0.12"), "192.0.2.2"));
      pB.addRemote(new RemoteEndpoint("ingress", "10.255.0.11", TestHosts.mac("10.255.0.11"), "192.0.2.1"));
      if (!TestHosts.ping(hA, taskIp)) {
        throw new IOException("no overlay connectivity " + hA + " -> " + taskIp);
      }
      bench.startServers(task);
      // published ports on host A: splice 15201/17001, copy 25201/27001, C relay 35201/37001, kernel 45201/47001
      String relay = bench.compile(Path.of("overlay-net/bench/splice-relay.c"));
      for (int target : new int[] {5201, 7001}) {
        mesh(bench, hA, 10000 + target, taskIp + ":" + target, true);
        mesh(bench, hA, 20000 + target, taskIp + ":" + target, false);
        awaitReady(bench.process("ip", "netns", "exec", hA, relay, Integer.toString(30000 + target), taskIp,
            Integer.toString(target), Integer.toString(1 << 20)), "C relay on " + (30000 + target));
      }
      KernelMesh kernel = new KernelMesh(NetnsRef.named(hA), "bench-" + hA);
      TreeMap<Integer, List<Backend>> published = new TreeMap<>();
      for (int target : new int[] {5201, 7001}) {
        published.put(40000 + target, List.of(new Backend("task", "nodeB", new InetSocketAddress(taskIp, target), true)));
      }
      kernel.apply(published, List.of(Names.bridge("bench-" + hA, "ingress")));
      Thread.sleep(500);
      Map<String, Integer> offset = Map.of("direct", 0, "mesh", 10000, "mesh-copy", 20000, "c-splice", 30000,
          "kernel", 40000);
      List<String> paths = List.of("direct", "mesh", "mesh-copy", "c-splice", "kernel");
      for (int r = 1; r <= bench.runs; r++) {
        for (int streams : new int[] {1, 4}) {
          for (String p : paths) {
            bench.iperf(p, hA, p.equals("direct") ? taskIp : "192.0.2.1", offset.get(p) + 5201, streams);
          }
        }
        for (String p : paths) {
          bench.rr(p, hA, p.equals("direct") ? taskIp : "192.0.2.1", offset.get(p) + 7001);
        }
        System.out.println("run " + r + "/" + bench.runs + " done");
      }
      Map<String, Double> med = bench.printMedians();
      System.out.println("\nratios (medians)");
      for (String p : paths.subList(1, paths.size())) {
        for (String t : List.of("tcp_P1", "tcp_P4")) {
          System.out.printf("%-9s %s throughput %s/direct %.2f%n", p, t, p, med.get(t + " " + p) / med.get(t + " direct"));
        }
        for (String t : List.of("rr_p50", "rr_p99")) {
          double d = med.get(t + " direct");
          double m = med.get(t + " " + p);
          System.out.printf("%-9s %s adds %.1f us (%.2fx)%n", p, t, m - d, m / d);
        }
      }
      System.out.println("(throughput in Gbit/s, latency in us)");
      kernel.close();
      pA.teardown();
      pB.teardown();
    }
    System.exit(0);
  }

  /** A node on the ingress network 10.255.0.0/24 with its own ingress address 10.255.0.1N. */
  private static DataPlane ingressNode(String host, int n) throws IOException {
    DataPlane p = new DataPlane(new NodeConfig("bench-" + host, NetnsRef.named(host), "u0", "192.0.2." + n, 1500,
        "172.18.0.0/16"));
    p.addNetwork(new OverlayNetwork("ingress", 4200, "10.255.0.0/24", "10.255.0.1" + n + "/24"));
    return p;
  }

  /** A routing mesh JVM in the host's namespace (a JVM cannot bind in another namespace). */
  private static void mesh(BenchSupport bench, String host, int port, String target, boolean splice)
      throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = bench.process("ip", "netns", "exec", host, java, "-XX:+UseSerialGC", "-Xmx128m",
        "-Dberth.mesh.splice=" + splice, "-cp", System.getProperty("java.class.path"), MeshHarness.class.getName(),
        Integer.toString(port), "task,nodeB," + target);
    awaitReady(p, "mesh on " + host + ":" + port);
  }

  private static void awaitReady(Process p, String what) throws IOException {
    BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    StringBuilder seen = new StringBuilder();
    for (String line; (line = out.readLine()) != null && !line.equals("ready"); ) {
      seen.append(line).append('\n');
    }
    if (!p.isAlive()) {
      throw new IOException(what + " did not start: " + seen);
    }
  }
}
