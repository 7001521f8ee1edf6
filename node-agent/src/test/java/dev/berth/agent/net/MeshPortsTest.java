package dev.berth.agent.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.berth.net.mesh.Backend;
import dev.berth.net.mesh.KernelMesh;
import dev.berth.net.vxlan.Names;
import dev.berth.net.vxlan.NetnsRef;
import dev.berth.testhosts.TestHosts;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Which path serves a port: without PROXY protocol the kernel table (in a namespace made by the test),
 * with it a user-space relay listening in this JVM's namespace (on a free port); a port
 * switching modes moves between them, and close removes both.
 */
class MeshPortsTest {
    private static final String NODE = "mp-" + UUID.randomUUID().toString().substring(0, 6);

    @Test
    void portsGoToTheKernelUnlessTheyNeedProxyProtocol() throws Exception {
        String why = TestHosts.unsupportedReason();
        assumeTrue(why == null, why);
        assumeTrue(KernelMesh.available(), "the nft tool (Debian package nftables) is not installed");
        String ns = "berth-mp-" + NODE;
        TestHosts.check(TestHosts.run("ip", "netns", "add", ns));
        KernelMesh kernel = new KernelMesh(NetnsRef.named(ns), NODE);
        MeshPorts ports = new MeshPorts(kernel);
        try {
            int relayed = freePort();
            Backend task = new Backend("t1", "n2", new InetSocketAddress("10.255.0.2", 80), true);
            ports.apply(Map.of(8080, new NetworkView.MeshPort(8080, false, List.of(task)),
                    relayed, new NetworkView.MeshPort(relayed, true, List.of(task))), List.of());
            String table = Names.meshTable(NODE);
            assertThat(kernel.listing(table).orElseThrow()).contains("8080 : goto port_8080", "dnat to 10.255.0.2:80")
                    .doesNotContain("port_" + relayed);
            assertThat(accepts(relayed)).isTrue();

            // PROXY protocol switched off: the port moves into the kernel, the relay stops listening
            ports.apply(Map.of(relayed, new NetworkView.MeshPort(relayed, false, List.of(task))), List.of());
            assertThat(kernel.listing(table).orElseThrow()).contains(relayed + " : goto port_" + relayed)
                    .doesNotContain("port_8080");
            assertThat(accepts(relayed)).isFalse();

            ports.close();
            assertThat(kernel.listing(table)).isEmpty();
        } finally {
            ports.close();
            TestHosts.run("ip", "netns", "del", ns);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static boolean accepts(int port) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            return true;
        } catch (ConnectException e) {
            return false;
        }
    }
}
