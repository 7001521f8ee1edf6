package dev.berth.agent.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.berth.registry.TestImages;
import dev.berth.registry.TestRegistry;
import dev.berth.agent.runtime.RuntimeFixture;
import dev.berth.api.v1.Assignments;
import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.Endpoint;
import dev.berth.api.v1.Meta;
import dev.berth.api.v1.Network;
import dev.berth.api.v1.NetworkAttachment;
import dev.berth.api.v1.NetworkSpec;
import dev.berth.api.v1.PortConfig;
import dev.berth.api.v1.PublishedService;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskSpec;
import dev.berth.net.mesh.KernelMesh;
import dev.berth.net.vxlan.Names;
import dev.berth.testhosts.TestHosts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * Three test hosts (network namespaces on an underlay bridge, plus an "outside" one), each running the
 * agent's {@link NetworkController} and {@link dev.berth.agent.task.NativeExecutor} in a JVM of its own
 * inside the host ({@link NodeHarness}), fed real {@link Assignments} messages as a manager would send
 * them, running real busybox containers. Checked from inside the containers with busybox ping, wget and
 * nslookup, and in the hosts' kernels with bridge/ip. (Debian's busybox wget crashes with -T, so none is
 * given: the harness's exec timeout bounds every command.)
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(600)
class NetworkIntegrationTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final String SUFFIX = UUID.randomUUID().toString().substring(0, 6);
    private static final Network INGRESS = network("ing", 4100, "10.30.0.0/24", true);
    private static final Network NET1 = network("net1", 4101, "10.31.0.0/24", false);
    private static final Network NET2 = network("net2", 4102, "10.32.0.0/24", false);
    private static final String HTTPD = "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www";

    private static Path tmp;
    private static TestHosts hosts;
    private static Process outsideListener;
    private static TestNode a;
    private static TestNode b;
    private static TestNode c;
    private static final Map<String, Task> tasks = new LinkedHashMap<>();
    private static final Map<String, String> taskNode = new LinkedHashMap<>();
    private static final Map<String, String> ingressAddr = new LinkedHashMap<>();

    @BeforeAll
    static void cluster() throws Exception {
        String why = TestHosts.unsupportedReason();
        assumeTrue(why == null, why);
        RuntimeFixture.assumeHost();
        TestRegistry.requireTools("umoci", "busybox", "nsenter");
        tmp = Files.createTempDirectory("berth-net-it");
        Path layout = tmp.resolve("layout");
        TestImages.busybox(layout);
        Path tar = tmp.resolve("busybox.tar");
        TestRegistry.run(List.of("tar", "-C", layout.toString(), "-cf", tar.toString(), "oci-layout", "index.json", "blobs"));
        hosts = new TestHosts();
        Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(tmp.resolve("outside/index.html"), "outside-world\n");
        outsideListener = new ProcessBuilder(TestHosts.inHost(hosts.outside, List.of("busybox", "httpd", "-f", "-p", "9999",
                "-h", tmp.resolve("outside").toString()))).start();
        a = node("a", 1, tar);
        b = node("b", 2, tar);
        c = node("c", 3, tar);
        ingressAddr.put(a.id, "10.30.0.2/24");
        ingressAddr.put(b.id, "10.30.0.3/24");
        ingressAddr.put(c.id, "10.30.0.4/24");
        for (TestNode n : List.of(a, b, c)) {
            n.assign(full(n));
        }
        start(a, task("weba", "web", "10.31.0.10", "10.30.0.10", HTTPD));
        start(a, task("cli", "cli", "10.31.0.20", null, "exec sleep 3600"));
        start(b, task("webb", "web", "10.31.0.11", "10.30.0.11", HTTPD));
        start(b, task("iso", "iso", null, null, HTTPD).toBuilder().clearNetworks()
                .addNetworks(attachment(NET2, "10.32.0.5")).build());
        for (TestNode n : List.of(a, b, c)) {
            n.assign(full(n));
        }
    }

    private static TestNode node(String role, int n, Path tar) throws IOException {
        String ns = hosts.addHost(role, n);
        Path state = tmp.resolve("node-" + role);
        Files.createDirectories(state);
        return new TestNode("n" + role + SUFFIX, ns, "192.0.2." + n, state, tar, TestHosts.OUTSIDE_IP).start();
    }

    @AfterAll
    static void tearDown() throws Exception {
        for (TestNode n : new TestNode[] {a, b, c}) {
            if (n != null) {
                n.close();
            }
        }
        if (outsideListener != null) {
            outsideListener.destroyForcibly().waitFor();
        }
        List<String> leaked = new ArrayList<>();
        for (TestNode n : new TestNode[] {a, b, c}) {
            if (n != null) {
                leaked.addAll(namespacesOf(n));
                namespacesOf(n).forEach(ns -> run("ip", "netns", "del", ns));
            }
        }
        if (hosts != null) {
            hosts.close();
        }
        if (tmp != null) {
            if (!Boolean.getBoolean("berth.keepLogs")) {
                TestRegistry.run(List.of("rm", "-rf", tmp.toString()));
            }
        }
        assertThat(leaked).as("container namespaces left after teardown").isEmpty();
    }

    @Test
    @Order(1)
    void containerReachesContainerOnAnotherHostByAddressAndByServiceName() throws Exception {
        assertThat(a.exec("cli", "/bin/busybox", "ping", "-c", "2", "-W", "2", "10.31.0.11").code()).isZero();
        assertThat(awaitOk(a, "cli", "wget", "-q", "-O", "-", "http://10.31.0.11/")).contains("webb");
        String web = awaitOk(a, "cli", "nslookup", "web");
        assertThat(web).contains("10.31.0.10").contains("10.31.0.11");
        Set<String> answered = new HashSet<>();
        for (int i = 0; i < 8 && answered.size() < 2; i++) {
            answered.add(awaitOk(a, "cli", "wget", "-q", "-O", "-", "http://web/").trim());
        }
        assertThat(answered).containsExactlyInAnyOrder("weba", "webb");
        assertThat(a.exec("cli", "/bin/busybox", "cat", "/etc/resolv.conf").output()).contains("nameserver 172.18.0.1");
        assertThat(a.exec("cli", "/bin/busybox", "cat", "/etc/hosts").output()).contains("10.31.0.20");
    }

    @Test
    @Order(2)
    void tasksDotServiceReturnsEveryTask() throws Exception {
        assertThat(awaitOk(b, "webb", "nslookup", "tasks.web")).contains("10.31.0.10").contains("10.31.0.11");
    }

    @Test
    @Order(3)
    void publishedPortOnAThirdHostReachesTasksOnBothOthers() throws Exception {
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 8; i++) {
            TestHosts.Result r = TestHosts.exec(hosts.outside, "busybox", "wget", "-q", "-O", "-", 
                    "http://" + c.ip + ":8080/");
            assertThat(r.code()).as("wget through node c's mesh: %s", r.out()).isZero();
            seen.add(r.out().trim());
        }
        assertThat(seen).containsExactlyInAnyOrder("weba", "webb");
        if (KernelMesh.available()) {
            // the kernel forwards (nftables DNAT to both tasks' ingress addresses); nothing listens on 8080
            assertThat(kernel(c, "nft", "list", "table", "ip", Names.meshTable(c.id)))
                    .contains("dnat to 10.30.0.10:80").contains("dnat to 10.30.0.11:80");
            assertThat(kernel(c, "ss", "-Hltn", "sport", "= :8080")).isBlank();
        }
    }

    @Test
    @Order(4)
    void taskReachesAListenerOutsideTheOverlayThroughItsGateway() throws Exception {
        assertThat(awaitOk(a, "cli", "wget", "-q", "-O", "-", "http://" + TestHosts.OUTSIDE_IP + ":9999/"))
                .contains("outside-world");
    }

    @Test
    @Order(5)
    void twoNetworksAreIsolated() throws Exception {
        assertThat(awaitOk(b, "iso", "nslookup", "iso")).contains("10.32.0.5"); // its own network answers
        assertThat(a.exec("cli", "/bin/busybox", "ping", "-c", "1", "-W", "1", "10.32.0.5").code()).isNotZero();
        assertThat(b.exec("iso", "/bin/busybox", "ping", "-c", "1", "-W", "1", "10.31.0.10").code()).isNotZero();
        assertThat(a.exec("cli", "/bin/busybox", "nslookup", "iso").output()).doesNotContain("10.32.0.5");
        assertThat(b.exec("iso", "/bin/busybox", "nslookup", "web").output()).doesNotContain("10.31.0.1");
    }

    @Test
    @Order(6)
    void removingATaskRemovesItsFdbNeighbourAndDnsEntries() throws Exception {
        String mac = mac("10.31.0.11");
        String vx = Names.vxlan(a.id, NET1.getMeta().getId());
        assertThat(kernel(a, "bridge", "fdb", "show", "dev", vx)).contains(mac);
        assertThat(kernel(a, "ip", "neigh", "show", "dev", vx)).contains("10.31.0.11");
        b.send("stop webb");
        tasks.remove("webb");
        taskNode.remove("webb");
        Assignments.Builder delta = Assignments.newBuilder().setSeq(3).addRemovedTaskIds("webb")
                .addRemovedEndpoints("webb/net1").addRemovedEndpoints("webb/ing");
        a.assign(delta.build());
        b.assign(delta.build());
        c.assign(delta.build());
        assertThat(kernel(a, "bridge", "fdb", "show", "dev", vx)).doesNotContain(mac);
        assertThat(kernel(a, "ip", "neigh", "show", "dev", vx)).doesNotContain("10.31.0.11");
        String lookup = awaitOk(a, "cli", "nslookup", "tasks.web");
        assertThat(lookup).contains("10.31.0.10").doesNotContain("10.31.0.11");
        assertThat(namespacesOf(b)).containsExactly("berth-" + b.id + "-iso");
    }

    @Test
    @Order(7)
    void agentRestartLeavesTheDataPlaneConsistent() throws Exception {
        a.quit();
        // meanwhile: an entry lost, a stale device and a leaked container namespace appear
        String vx2 = Names.vxlan(a.id, NET2.getMeta().getId());
        TestHosts.check(TestHosts.exec(a.hostNs, "ip", "neigh", "del", "10.32.0.5", "dev", vx2));
        TestHosts.check(TestHosts.exec(a.hostNs, "ip", "link", "add", "bbstale", "type", "bridge"));
        TestHosts.check(TestHosts.exec(a.hostNs, "ip", "link", "set", "dev", "bbstale", "alias", Names.alias(a.id)));
        TestHosts.check(TestHosts.run("ip", "netns", "add", "berth-" + a.id + "-ghost"));

        a.start();
        a.assign(full(a));
        assertThat(kernel(a, "ip", "neigh", "show", "dev", vx2)).contains("10.32.0.5");
        assertThat(kernel(a, "ip", "link", "show")).doesNotContain("bbstale");
        assertThat(namespacesOf(a)).containsExactlyInAnyOrder("berth-" + a.id + "-weba", "berth-" + a.id + "-cli");
        assertThat(awaitOk(a, "cli", "wget", "-q", "-O", "-", "http://web/")).contains("weba");
        TestHosts.Result r = TestHosts.exec(hosts.outside, "busybox", "wget", "-q", "-O", "-", 
                "http://" + a.ip + ":8080/");
        assertThat(r.out()).contains("weba");
    }

    // ------------------------------------------------------------------ the cluster as a manager sends it

    private static void start(TestNode n, Task t) throws IOException {
        tasks.put(t.getMeta().getId(), t);
        taskNode.put(t.getMeta().getId(), n.id);
        n.start(t);
    }

    private static Network network(String id, int vni, String subnet, boolean ingress) {
        return Network.newBuilder().setMeta(Meta.newBuilder().setId(id)).setVni(vni).setSubnet(subnet)
                .setSpec(NetworkSpec.newBuilder().setName(id).setIngress(ingress)).build();
    }

    private static NetworkAttachment attachment(Network n, String ip) {
        String prefix = n.getSubnet().substring(n.getSubnet().indexOf('/'));
        return NetworkAttachment.newBuilder().setNetworkId(n.getMeta().getId()).setAddress(ip + prefix).setMac(mac(ip)).build();
    }

    private static String mac(String ip) {
        StringBuilder m = new StringBuilder("02:42");
        for (String o : ip.split("\\.")) {
            m.append(String.format(":%02x", Integer.parseInt(o)));
        }
        return m.toString();
    }

    private static Task task(String id, String service, String net1Ip, String ingressIp, String script) {
        Task.Builder t = Task.newBuilder().setMeta(Meta.newBuilder().setId(id)).setServiceId("svc-" + service)
                .setSpec(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage("busybox:1")
                        .addCommand("/bin/sh").addArgs("-c").addArgs(script).setHostname(id)));
        if (net1Ip != null) {
            t.addNetworks(attachment(NET1, net1Ip));
        }
        if (ingressIp != null) {
            t.addNetworks(attachment(INGRESS, ingressIp));
        }
        return t.build();
    }

    /** The full set for a node: its tasks, every endpoint (tasks' and nodes' ingress addresses), web published. */
    private static Assignments full(TestNode n) {
        Assignments.Builder a = Assignments.newBuilder().setSeq(1).setFull(true).addNetworks(INGRESS).addNetworks(NET1)
                .addNetworks(NET2).setIngressAttachment(NetworkAttachment.newBuilder().setNetworkId("ing")
                        .setAddress(ingressAddr.get(n.id)).setMac(mac(ingressAddr.get(n.id).split("/")[0])))
                .addPublished(PublishedService.newBuilder().setServiceId("svc-web").setServiceName("web")
                        .addPorts(PortConfig.newBuilder().setTargetPort(80).setPublishedPort(8080)));
        tasks.forEach((id, t) -> {
            String node = taskNode.get(id);
            if (node.equals(n.id)) {
                a.addTasks(t);
            }
            for (NetworkAttachment at : t.getNetworksList()) {
                a.addEndpoints(Endpoint.newBuilder().setTaskId(id).setServiceId(t.getServiceId())
                        .setServiceName(t.getServiceId().substring(4)).setNetworkId(at.getNetworkId())
                        .setAddress(at.getAddress()).setMac(at.getMac()).setNodeId(node).setNodeAddr(addrOf(node))
                        .setHealthy(true));
            }
        });
        ingressAddr.forEach((node, addr) -> a.addEndpoints(Endpoint.newBuilder().setTaskId("node-" + node)
                .setNetworkId("ing").setAddress(addr).setMac(mac(addr.split("/")[0])).setNodeId(node)
                .setNodeAddr(addrOf(node))));
        return a.build();
    }

    private static String addrOf(String nodeId) {
        return Stream.of(a, b, c).filter(n -> n.id.equals(nodeId)).findFirst().orElseThrow().ip;
    }

    // ------------------------------------------------------------------ checks

    /** Output of a command in a task that is expected to succeed (retried: a listener may still start). */
    private static String awaitOk(TestNode n, String task, String... argv) {
        String[] out = new String[1];
        await().atMost(WAIT).pollInterval(Duration.ofMillis(300)).untilAsserted(() -> {
            TestNode.Exec r = n.exec(task, argv(argv));
            assertThat(r.code()).as("%s in %s: %s", String.join(" ", argv), task, r.output()).isZero();
            out[0] = r.output();
        });
        return out[0];
    }

    /** The image links only /bin/sh to busybox: its other applets run as "busybox APPLET". */
    private static String[] argv(String... argv) {
        return Stream.concat(Stream.of("/bin/busybox"), Stream.of(argv)).toArray(String[]::new);
    }

    private static String kernel(TestNode n, String... cmd) throws IOException {
        return TestHosts.check(TestHosts.exec(n.hostNs, cmd)).out();
    }

    private static List<String> namespacesOf(TestNode n) throws IOException {
        Path dir = Path.of("/run/netns");
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(f -> f.startsWith("berth-" + n.id + "-")).sorted().toList();
        }
    }

    private static void run(String... cmd) {
        try {
            TestHosts.run(cmd);
        } catch (IOException e) {
            System.err.println(e.getMessage());
        }
    }
}
