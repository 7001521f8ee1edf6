package dev.berth.net.mesh;

import static dev.berth.net.mesh.MeshOverOverlayTest.CLIENT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.berth.net.vxlan.DataPlane;
import dev.berth.net.vxlan.Names;
import dev.berth.net.vxlan.NetnsRef;
import dev.berth.net.vxlan.Sandbox;
import dev.berth.testhosts.TestHosts;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The kernel routing mesh (nftables DNAT) on host C of three test hosts: a published port reaches the
 * tasks on A and B over the ingress overlay, alternating, from outside the cluster, from C itself
 * (its underlay address and 127.0.0.1) and for a HOST-mode port to a task on C's gateway bridge;
 * unhealthy tasks leave the rotation; no healthy task means a reset; a restarted agent keeps a correct
 * table and replaces a stale one; close removes it. Cleanup deletes the namespaces and with them the
 * tables.
 */
class KernelMeshTest {
  private static final Pattern HANDLE = Pattern.compile("# handle (\\d+)");

  static Backend task(int i, boolean healthy) {
    return new Backend("t" + i, i == 0 ? "A" : "B", new InetSocketAddress("10.255.0." + (2 + i), 80), healthy);
  }

  @Test
  void publishedPortsAnswerThroughTheKernel() throws Exception {
    assumeTrue(KernelMesh.available(), "the nft tool (Debian package nftables) is not installed");
    MeshOverOverlayTest.inTestHosts(this::run);
  }

  private void run(TestHosts hosts, List<Process> procs, List<DataPlane> planes) throws Exception {
    String[] h = MeshOverOverlayTest.threeHostsTwoTasks(hosts, procs, planes);
    NetnsRef c = NetnsRef.named(h[2]);
    String nodeC = "mesh-" + h[2];
    List<String> out = List.of(Names.bridge(nodeC, "ingress"), Names.gatewayBridge(nodeC));
    KernelMesh mesh = new KernelMesh(c, nodeC);
    TreeMap<Integer, List<Backend>> ports = new TreeMap<>();
    ports.put(8080, List.of(task(0, true), task(1, true)));
    mesh.apply(ports, out);

    assertThat(client(hosts.outside, "192.0.2.3", 8080, 4)).isEqualTo("task-on-0 task-on-1 task-on-0 task-on-1");
    assertThat(client(h[2], "192.0.2.3", 8080, 2)).isEqualTo("task-on-0 task-on-1");
    assertThat(client(h[2], "127.0.0.1", 8080, 2)).isEqualTo("task-on-0 task-on-1");
    // the task sees the node's ingress address, so its replies come back through C
    assertThat(TestHosts.check(TestHosts.exec(h[2], "sysctl", "-n", "net.ipv4.conf." + out.get(0) + ".route_localnet"))
        .out().trim()).isEqualTo("1");

    ports.put(8080, List.of(task(0, true), task(1, false)));
    mesh.apply(ports, out);
    assertThat(client(hosts.outside, "192.0.2.3", 8080, 3)).isEqualTo("task-on-0 task-on-0 task-on-0");

    ports.put(8080, List.of(task(0, false), task(1, false)));
    mesh.apply(ports, out);
    assertThat(client(hosts.outside, "192.0.2.3", 8080, 2)).isEqualTo("refused refused");
    assertThat(client(h[2], "127.0.0.1", 8080, 1)).isEqualTo("refused");

    // HOST mode: a task on C itself, reached on its gateway leg (172.18.0.2 in C's gateway subnet)
    ports.put(8080, List.of(task(0, true), task(1, true)));
    String local = hosts.addNamespace("task2");
    planes.get(2).attach(new Sandbox("task2", NetnsRef.named(local), "eth1", "172.18.0.2/16"),
        List.of());
    Process p = new ProcessBuilder("ip", "netns", "exec", local, "python3", "-u", "-c",
        MeshOverOverlayTest.TASK_SERVER, "local-task").redirectErrorStream(true).start();
    procs.add(p);
    assertThat(new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine())
        .isEqualTo("ready");
    ports.put(9090, List.of(new Backend("t2", nodeC, new InetSocketAddress("172.18.0.2", 80), true)));
    mesh.apply(ports, out);
    assertThat(client(h[2], "127.0.0.1", 9090, 1)).isEqualTo("local-task");
    assertThat(client(hosts.outside, "192.0.2.3", 9090, 1)).isEqualTo("local-task");

    // an agent restart: the same plan leaves the kernel's table as it is, a different one replaces it
    String table = Names.meshTable(nodeC);
    String before = handle(mesh.listing(table).orElseThrow());
    new KernelMesh(c, nodeC).apply(ports, out);
    assertThat(handle(mesh.listing(table).orElseThrow())).isEqualTo(before);
    TreeMap<Integer, List<Backend>> fewer = new TreeMap<>(ports);
    fewer.remove(9090);
    KernelMesh restarted = new KernelMesh(c, nodeC);
    restarted.apply(fewer, out);
    assertThat(handle(mesh.listing(table).orElseThrow())).isNotEqualTo(before);
    assertThat(client(hosts.outside, "192.0.2.3", 9090, 1)).isEqualTo("refused"); // nothing listens there

    restarted.close();
    assertThat(mesh.listing(table)).isEmpty();
    assertThat(client(hosts.outside, "192.0.2.3", 8080, 1)).isEqualTo("refused");
  }

  private static String client(String ns, String host, int port, int count) throws Exception {
    TestHosts.Result r = TestHosts.exec(ns, "python3", "-c", CLIENT, host, Integer.toString(port),
        Integer.toString(count));
    assertThat(r.code()).as(r.out()).isZero();
    return r.out().trim();
  }

  private static String handle(String listing) {
    Matcher m = HANDLE.matcher(listing);
    assertThat(m.find()).as(listing).isTrue();
    return m.group(1);
  }
}
