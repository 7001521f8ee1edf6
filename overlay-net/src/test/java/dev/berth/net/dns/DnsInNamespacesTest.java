package dev.berth.net.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
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
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * DNS as containers see it: two test hosts with the real data plane, the node DNS server
 * running inside host A's namespace on its gateway address, queries sent from container
 * namespaces, and a container reaching a task on host B by service name.
 */
class DnsInNamespacesTest {
  /** A resolver client living in a container: one query per stdin line, one answer line each. */
  static final String QUERY_LOOP = String.join("\n",
      "import socket, struct, sys, random",
      "srv = sys.argv[1]",
      "def ask(name):",
      "    qid = random.randint(1, 65535)",
      "    q = struct.pack('>HHHHHH', qid, 0x0100, 1, 0, 0, 0) + b''.join(bytes([len(p)]) + p.encode() "
          + "for p in name.split('.') if p) + b'\\0' + struct.pack('>HH', 1, 1)",
      "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3); s.sendto(q, (srv, 53))",
      "    d, _ = s.recvfrom(4096); s.close()",
      "    assert struct.unpack('>H', d[0:2])[0] == qid",
      "    rcode = d[3] & 15; an = struct.unpack('>H', d[6:8])[0]; i = 12",
      "    while d[i] != 0: i += d[i] + 1",
      "    i += 5; ips = []",
      "    for _ in range(an):",
      "        if d[i] & 0xc0 == 0xc0: i += 2",
      "        else:",
      "            while d[i] != 0: i += d[i] + 1",
      "            i += 1",
      "        t, c, ttl, l = struct.unpack('>HHIH', d[i:i + 10]); i += 10",
      "        if t == 1: ips.append(socket.inet_ntoa(d[i:i + 4]))",
      "        i += l",
      "    return (str(rcode) + ' ' + ' '.join(sorted(ips))).strip()",
      "for line in sys.stdin:",
      "    try: print(ask(line.strip()), flush=True)",
      "    except Exception as e: print('error ' + repr(e), flush=True)");

  /** A long-lived resolver client inside one container namespace (no process start per query). */
  static final class Client implements AutoCloseable {
    final Process p;
    final BufferedReader out;
    final Writer in;

    Client(String ns) throws IOException {
      p = new ProcessBuilder("ip", "netns", "exec", ns, "python3", "-u", "-c", QUERY_LOOP, "172.18.0.1")
          .redirectErrorStream(true).start();
      out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      in = new OutputStreamWriter(p.getOutputStream(), StandardCharsets.UTF_8);
    }

    synchronized String query(String name) throws IOException {
      in.write(name + "\n");
      in.flush();
      return out.readLine();
    }

    @Override
    public void close() throws InterruptedException {
      p.destroy();
      p.waitFor(5, TimeUnit.SECONDS);
    }
  }

  static final OverlayNetwork ONE = new OverlayNetwork("dns-one", 6001, "10.20.0.0/24");
  static final OverlayNetwork TWO = new OverlayNetwork("dns-two", 6002, "10.20.1.0/24");

  static NodeConfig node(String host, int n) {
    return new NodeConfig("dns-" + host, NetnsRef.named(host), "u0", "192.0.2." + n, 1500, "172.18.0.0/16");
  }

  @Test
  void containersResolveServicesOfTheirNetworksOnlyAndOtherNamesUpstream() throws Exception {
    String why = TestHosts.unsupportedReason();
    assumeTrue(why == null, why);
    assumeTrue(TestHosts.run("sh", "-c", "command -v python3 && command -v iptables-restore").code() == 0,
        "python3 and iptables are needed");
    Path resolv = Files.createTempFile("berth-resolv", ".conf");
    Files.writeString(resolv, "# test host's resolvers\nnameserver 127.0.0.1\n");
    Process dns = null;
    List<Client> clients = new java.util.ArrayList<>();
    try (TestHosts hosts = new TestHosts()) {
      String hostA = hosts.addHost("dA", 1);
      String hostB = hosts.addHost("dB", 2);
      DataPlane a = new DataPlane(node(hostA, 1));
      DataPlane b = new DataPlane(node(hostB, 2));
      try {
        for (DataPlane p : List.of(a, b)) {
          p.addNetwork(ONE);
        }
        a.addNetwork(TWO);
        String c1 = hosts.addNamespace("c1");
        String c2 = hosts.addNamespace("c2");
        String web = hosts.addNamespace("web1");
        a.attach(new Sandbox("c1", NetnsRef.named(c1), "eth1", "172.18.0.2/16"),
            List.of(new LocalEndpoint("c1", ONE.id(), "eth0", "10.20.0.2/24", "02:42:0a:14:00:02")));
        a.attach(new Sandbox("c2", NetnsRef.named(c2), "eth1", "172.18.0.3/16"),
            List.of(new LocalEndpoint("c2", TWO.id(), "eth0", "10.20.1.2/24", "02:42:0a:14:01:02")));
        b.attach(new Sandbox("web1", NetnsRef.named(web), "eth1", "172.18.0.2/16"),
            List.of(new LocalEndpoint("web1", ONE.id(), "eth0", "10.20.0.3/24", "02:42:0a:14:00:03")));
        a.addRemote(new RemoteEndpoint(ONE.id(), "10.20.0.3", "02:42:0a:14:00:03", "192.0.2.2"));
        b.addRemote(new RemoteEndpoint(ONE.id(), "10.20.0.2", "02:42:0a:14:00:02", "192.0.2.1"));

        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        dns = new ProcessBuilder("ip", "netns", "exec", hostA, java, "-XX:+UseSerialGC", "-Xmx64m",
            "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
            DnsHarness.class.getName(), "172.18.0.1", resolv.toString()).redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(dns.getInputStream(), StandardCharsets.UTF_8));
        Writer feed = new OutputStreamWriter(dns.getOutputStream(), StandardCharsets.UTF_8);
        assertThat(out.readLine()).isEqualTo("ready");
        for (String cmd : List.of("client 172.18.0.2 dns-one", "client 172.18.0.3 dns-two",
            "add web.1 dns-one web 10.20.0.3 healthy", "add web.2 dns-one web 10.20.0.9 unhealthy",
            "add db.1 dns-two db 10.20.1.7 healthy")) {
          feed.write(cmd + "\n");
          feed.flush();
          assertThat(out.readLine()).as(cmd).isEqualTo("ok");
        }

        Client q1 = new Client(c1);
        Client q2 = new Client(c2);
        clients.add(q1);
        clients.add(q2);
        assertThat(q1.query("web")).isEqualTo("0 10.20.0.3");
        assertThat(q1.query("tasks.web")).isEqualTo("0 10.20.0.3 10.20.0.9");
        assertThat(q1.query("db")).as("not on dns-two: forwarded, unknown upstream").isEqualTo("3");
        assertThat(q2.query("db")).isEqualTo("0 10.20.1.7");
        assertThat(q2.query("web")).isEqualTo("3");
        assertThat(q1.query("outside.example")).isEqualTo("0 198.51.100.7");
        // by service name across hosts: resolve, then reach it over the overlay
        String ip = q1.query("web").split(" ")[1];
        assertThat(TestHosts.ping(c1, ip)).isTrue();

        feed.write("add web.3 dns-one web 10.20.0.4 healthy\n");
        feed.write("del web.1 dns-one\n");
        feed.flush();
        assertThat(out.readLine()).isEqualTo("ok");
        assertThat(out.readLine()).isEqualTo("ok");
        await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(100))
            .untilAsserted(() -> assertThat(q1.query("web")).isEqualTo("0 10.20.0.4"));
      } finally {
        for (Client c : clients) {
          c.close();
        }
        if (dns != null) {
          dns.destroy();
          if (!dns.waitFor(10, TimeUnit.SECONDS)) {
            dns.destroyForcibly();
          }
        }
        a.teardown();
        b.teardown();
      }
    } finally {
      Files.deleteIfExists(resolv);
    }
  }
}
