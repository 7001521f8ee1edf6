package dev.berth.agent.health;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.URI;
import java.time.Duration;

/** HTTP GET probe: a 2xx or 3xx answer within the timeout is healthy (redirects are not followed). */
final class HttpProbe implements Probe {
    private final ProbeTarget target;
    private final int port;
    private final String path;

    HttpProbe(ProbeTarget target, int port, String path) {
        this.target = target;
        this.port = port;
        this.path = path;
    }

    @Override
    public Result run(Duration timeout) {
        InetAddress addr = target.address();
        String url = "http://" + hostLiteral(addr) + ":" + port + path;
        HttpURLConnection c = null;
        try {
            c = (HttpURLConnection) URI.create(url).toURL().openConnection(java.net.Proxy.NO_PROXY);
            int ms = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
            c.setConnectTimeout(ms);
            c.setReadTimeout(ms);
            c.setInstanceFollowRedirects(false);
            c.setUseCaches(false);
            int code = c.getResponseCode();
            drain(code >= 400 ? c.getErrorStream() : c.getInputStream());
            return new Result(code >= 200 && code < 400, "GET " + url + ": HTTP " + code);
        } catch (IOException | RuntimeException e) {
            return new Result(false, "GET " + url + ": " + e);
        } finally {
            if (c != null) {
                c.disconnect();
            }
        }
    }

    private static String hostLiteral(InetAddress a) {
        String h = a.getHostAddress();
        return h.contains(":") ? "[" + h + "]" : h;
    }

    private static void drain(InputStream in) throws IOException {
        if (in != null) {
            try (in) {
                in.skip(64 * 1024);
            }
        }
    }
}
