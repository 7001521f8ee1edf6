package dev.berth.net.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.berth.testhosts.TestHosts;
import dev.berth.net.vxlan.DataPlane;
import dev.berth.net.vxlan.LocalEndpoint;
import dev.berth.net.vxlan.NetnsRef;
import dev.berth.net.vxlan.NodeConfig;
import dev.berth.net.vxlan.OverlayNetwork;
import dev.berth.net.vxlan.RemoteEndpoint;
import dev.berth.net.vxlan.Sandbox;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A published port on host C reaches tasks on hosts A and B over the ingress overlay,
 * spread across them; the client is outside the cluster (192.0.2.100).
 */
class MeshOverOverlayTest {
  static final String TASK_SERVER = String.join("\n",
      "import socket, sys",
      "l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
      "l.bind(('0.0.0.0', 80)); l.listen(8); print('ready', flush=True)",
      "while True:",
      "    s, _ = l.accept(); s.sendall(sys.argv[1].encode()); s.close()");
  /** argv: HOST PORT COUNT; prints each connection's answer, "refused" for a reset (a timeout fails). */
  static final String CLIENT = String.join("\n",
      "import socket, sys",
      "out = []",
      "for _ in range(int(sys.argv[3])):",
      "    try:",
      "        s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)",
      "        out.append(s.recv(64).decode()); s.close()",
      "    except ConnectionRefusedError:",
      "        out.append('refused')",
      "print(' '.join(out))");


  /** A scenario on test hosts; what it starts goes into procs and planes, which are cleaned up after it. */
  interface Scenario {
    void run(TestHosts hosts, List<Process> procs, List<DataPlane> planes) throws Exception;
  }

  @Test
  void publishedPortOnOneHostReachesTasksOnTheOthers() throws Exception {
    inTestHosts(this::run);
  }

  static void inTestHosts(Scenario scenario) throws Exception {
    String why = TestHosts.unsupportedReason();
    assumeTrue(why == null, why);
    assumeTrue(TestHosts.run("sh", "-c", "command -v python3 && command -v iptables-restore").code() == 0,
        "python3 and iptables are needed");
    List<Process> procs = new ArrayList<>();
    List<DataPlane> planes = new ArrayList<>();
    try (TestHosts hosts = new TestHosts()) {
      try {
        scenario.run(hosts, procs, planes);
      } finally {
        // processes and devices first, while their namespaces still exist
        for (Process p : procs) {
          p.destroy();
          if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
          }
        }
        for (DataPlane p : planes) {
          p.teardown();
        }
      }
    }
  }

  /**
   * Hosts A, B, C (192.0.2.1-3, returned in that order) on the ingress overlay 10.255.0.0/24 with their
   * own ingress addresses .11/.12/.13, a task answering "task-on-0" at 10.255.0.2:80 on A and one
   * answering "task-on-1" at 10.255.0.3:80 on B; every node knows the others' tasks and addresses.
   */
  static String[] threeHostsTwoTasks(TestHosts hosts, List<Process> procs, List<DataPlane> planes) throws Exception {
    String[] h = {hosts.addHost("mA", 1), hosts.addHost("mB", 2), hosts.addHost("mC", 3)};
    // ingress 10.255.0.0/24: tasks .2 (on A) and .3 (on B); nodes' own ingress addresses .11/.12/.13
    for (int i = 0; i < 3; i++) {
      DataPlane p = new DataPlane(new NodeConfig("mesh-" + h[i], NetnsRef.named(h[i]), "u0", "192.0.2." + (i + 1),
          1500, "172.18.0.0/16"));
      planes.add(p);
      p.addNetwork(new OverlayNetwork("ingress", 4200, "10.255.0.0/24", "10.255.0.1" + (i + 1) + "/24"));
    }
    String[] taskIp = {"10.255.0.2", "10.255.0.3"};
    for (int i = 0; i < 2; i++) {
      String ns = hosts.addNamespace("task" + i);
      planes.get(i).attach(new Sandbox("task" + i, NetnsRef.named(ns), "eth1", "172.18.0.2/16"),
          List.of(new LocalEndpoint("task" + i, "ingress", "eth0", taskIp[i] + "/24", TestHosts.mac(taskIp[i]))));
      Process p = new ProcessBuilder("ip", "netns", "exec", ns, "python3", "-u", "-c", TASK_SERVER, "task-on-" + i)
          .redirectErrorStream(true).start();
      procs.add(p);
      assertThat(new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8)).readLine())
          .isEqualTo("ready");
    }
    // every node knows the other nodes' tasks and ingress addresses
    for (int i = 0; i < 3; i++) {
      for (int j = 0; j < 3; j++) {
        if (i == j) {
          continue;
        }
        String nodeIp = "10.255.0.1" + (j + 1);
        planes.get(i).addRemote(new RemoteEndpoint("ingress", nodeIp, TestHosts.mac(nodeIp), "192.0.2." + (j + 1)));
        if (j < 2) {
          planes.get(i).addRemote(new RemoteEndpoint("ingress", taskIp[j], TestHosts.mac(taskIp[j]), "192.0.2." + (j + 1)));
        }
      }
    }
    return h;
  }

  private void run(TestHosts hosts, List<Process> procs, List<DataPlane> planes) throws Exception {
    {
      String[] h = threeHostsTwoTasks(hosts, procs, planes);
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      Process mesh = new ProcessBuilder("ip", "netns", "exec", h[2], java, "-XX:+UseSerialGC", "-Xmx64m",
          "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), MeshHarness.class.getName(),
          "8080", "t0,nodeA,10.255.0.2:80", "t1,nodeB,10.255.0.3:80").redirectErrorStream(true).start();
      procs.add(mesh);
      assertThat(new BufferedReader(new InputStreamReader(mesh.getInputStream(), StandardCharsets.UTF_8)).readLine())
          .isEqualTo("ready");

      TestHosts.Result r = TestHosts.exec(hosts.outside, "python3", "-c", CLIENT, "192.0.2.3", "8080", "4");
      assertThat(r.code()).as(r.out()).isZero();
      assertThat(r.out().trim()).isEqualTo("task-on-0 task-on-1 task-on-0 task-on-1");
    }
  }
}
