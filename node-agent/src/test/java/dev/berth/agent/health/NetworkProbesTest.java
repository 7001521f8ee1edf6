package dev.berth.agent.health;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.berth.api.v1.HealthCheck;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** HTTP and TCP probes against real servers on loopback. */
class NetworkProbesTest {
    private final ProbeTarget loopback = new ProbeTarget() {
        @Override
        public ExecResult exec(List<String> argv, Duration timeout) {
            throw new UnsupportedOperationException();
        }

        @Override
        public InetAddress address() {
            return InetAddress.getLoopbackAddress();
        }
    };
    private HttpServer http;

    @AfterEach
    void stop() {
        if (http != null) {
            http.stop(0);
        }
    }

    private int startHttp() throws Exception {
        http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        http.createContext("/healthz", ex -> {
            byte[] body = "ok".getBytes();
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        http.createContext("/moved", ex -> {
            ex.getResponseHeaders().add("Location", "/elsewhere");
            ex.sendResponseHeaders(302, -1);
            ex.close();
        });
        http.createContext("/broken", ex -> {
            ex.sendResponseHeaders(503, -1);
            ex.close();
        });
        http.start();
        return http.getAddress().getPort();
    }

    private Probe.Result http(int port, String path) {
        HealthCheck hc = HealthCheck.newBuilder().setHttpPort(port).setHttpPath(path).build();
        return HealthChecks.probeFor(hc, loopback).run(Duration.ofSeconds(5));
    }

    @Test
    void httpProbePassesOn2xxAnd3xxAndFailsOtherwise() throws Exception {
        int port = startHttp();
        assertThat(http(port, "/healthz").healthy()).isTrue();
        assertThat(http(port, "/moved").healthy()).isTrue();
        Probe.Result broken = http(port, "/broken");
        assertThat(broken.healthy()).isFalse();
        assertThat(broken.output()).endsWith("HTTP 503");
        assertThat(http(port, "/nothing-here").output()).endsWith("HTTP 404");
        http.stop(0);
        http = null;
        Probe.Result refused = http(port, "/healthz");
        assertThat(refused.healthy()).isFalse();
        assertThat(refused.output()).contains("GET http://127.0.0.1:" + port + "/healthz");
    }

    @Test
    void tcpProbePassesWhenSomethingListens() throws Exception {
        int port;
        try (ServerSocket ss = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            port = ss.getLocalPort();
            Probe.Result up = HealthChecks.probeFor(HealthCheck.newBuilder().setTcpPort(port).build(), loopback)
                    .run(Duration.ofSeconds(5));
            assertThat(up.healthy()).isTrue();
        }
        Probe.Result down = HealthChecks.probeFor(HealthCheck.newBuilder().setTcpPort(port).build(), loopback)
                .run(Duration.ofSeconds(5));
        assertThat(down.healthy()).isFalse();
        assertThat(down.output()).startsWith("connect to ");
    }
}
