package dev.berth.agent.image;

import dev.berth.registry.Digest;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small HTTP server on loopback for registry tests: either a fake registry (a handler per request) or a
 * forwarding proxy in front of a real one. Counts requests by "METHOD path" so tests can see how many
 * downloads happened.
 */
final class HttpFront implements AutoCloseable {
    /** Answers one request; returns false to let the request be forwarded upstream. */
    interface Handler {
        boolean handle(HttpExchange ex) throws IOException;
    }

    private final HttpServer server;
    private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
    private final HttpClient upstreamClient = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    HttpFront(String upstream, Handler handler) throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newFixedThreadPool(8));
        server.createContext("/", ex -> {
            try (ex) {
                counts.computeIfAbsent(ex.getRequestMethod() + " " + ex.getRequestURI().getPath(),
                        k -> new AtomicInteger()).incrementAndGet();
                if (!handler.handle(ex)) {
                    forward(upstream, ex);
                }
            } catch (IOException | RuntimeException e) {
                // the client sees the connection close
            }
        });
        server.start();
    }

    String host() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    int count(String methodAndPath) {
        AtomicInteger n = counts.get(methodAndPath);
        return n == null ? 0 : n.get();
    }

    int countMatching(String prefix) {
        return counts.entrySet().stream().filter(e -> e.getKey().startsWith(prefix)).mapToInt(e -> e.getValue().get()).sum();
    }

    private void forward(String upstream, HttpExchange ex) throws IOException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + upstream + ex.getRequestURI()))
                .method(ex.getRequestMethod(), HttpRequest.BodyPublishers.noBody());
        String accept = ex.getRequestHeaders().getFirst("Accept");
        if (accept != null) {
            b.header("Accept", accept);
        }
        HttpResponse<byte[]> r;
        try {
            r = upstreamClient.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        for (String h : new String[] {"Content-Type", "Docker-Content-Digest", "Location", "WWW-Authenticate"}) {
            r.headers().firstValue(h).ifPresent(v -> ex.getResponseHeaders().add(h, v));
        }
        reply(ex, r.statusCode(), r.body());
    }

    static void reply(HttpExchange ex, int status, byte[] body) throws IOException {
        boolean head = ex.getRequestMethod().equals("HEAD");
        if (head) {
            ex.getResponseHeaders().add("Content-Length", Integer.toString(body.length));
        }
        ex.sendResponseHeaders(status, head || body.length == 0 ? -1 : body.length);
        if (!head && body.length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
}
