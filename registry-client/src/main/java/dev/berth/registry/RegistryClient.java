package dev.berth.registry;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Client for the OCI distribution v2 API over {@link HttpClient}: manifests (by tag or digest), blobs,
 * tag → digest resolution; anonymous, HTTP Basic and bearer-token auth (a 401 challenge sends us to the token
 * endpoint for scope {@code repository:NAME:pull}). Hosts given as insecure, and loopback addresses (as in
 * Docker), are spoken to in plain HTTP; all others in HTTPS with normal certificate checks.
 *
 * <p>Thread-safe; tokens are cached per registry, repository and user until they expire (injected clock).
 * Every failure is an {@link ImageException} whose message names the registry and image, e.g.
 * "registry 127.0.0.1:5000 unreachable: connection refused" or "image 127.0.0.1:5000/nope:1 not found".
 * This class does not verify blob digests itself: the caller streams into the agent's blob store, which does.
 */
public final class RegistryClient {
    private static final int MAX_MANIFEST_BYTES = 4 << 20;
    private static final int MAX_REDIRECTS = 5;

    /** A manifest as served, with the digest of exactly these bytes. */
    public record FetchedManifest(Digest digest, String contentType, byte[] body) {
    }

    private record Token(String value, Instant expires) {
    }

    private final HttpClient http;
    private final Set<String> insecureHosts;
    private final Duration requestTimeout;
    private final Clock clock;
    private final ConcurrentHashMap<String, Token> tokens = new ConcurrentHashMap<>();
    /** Registries that answered a challenge with Basic: send credentials up front next time. */
    private final Set<String> basicHosts = ConcurrentHashMap.newKeySet();

    /**
     * @param insecureHosts "host:port" (or "host") spoken to over plain HTTP, like Docker's --insecure-registry
     */
    public RegistryClient(Set<String> insecureHosts, Duration connectTimeout, Duration requestTimeout, Clock clock) {
        this.http = HttpClient.newBuilder()
                .connectTimeout(connectTimeout)
                .followRedirects(HttpClient.Redirect.NEVER) // handled here, so credentials never follow to another host
                .build();
        this.insecureHosts = Set.copyOf(insecureHosts);
        this.requestTimeout = requestTimeout;
        this.clock = clock;
    }

    /** Resolves the reference's tag to the digest of the manifest the registry serves for it (HEAD, else GET). */
    public Digest resolve(ImageReference ref, RegistryCredentials creds) throws ImageException {
        if (ref.digest() != null) {
            return ref.digest();
        }
        HttpResponse<InputStream> r = send(ref, creds, manifestUri(ref, ref.tag()), "HEAD", ref.toString(), true);
        try {
            r.body().close(); // HEAD: nothing to read
        } catch (IOException e) {
            throw unreachable(ref.registry(), e);
        }
        Optional<String> header = r.headers().firstValue("Docker-Content-Digest");
        if (header.isPresent()) {
            return Digest.parse(header.get().trim());
        }
        return manifest(ref, ref.tag(), creds).digest();
    }

    /** Fetches a manifest by tag or digest; when by digest, the bytes are checked against it. */
    public FetchedManifest manifest(ImageReference ref, String reference, RegistryCredentials creds) throws ImageException {
        String what = ref.name() + (reference.startsWith("sha256:") ? "@" : ":") + reference;
        HttpResponse<InputStream> r = send(ref, creds, manifestUri(ref, reference), "GET", what, true);
        byte[] body;
        try (InputStream in = r.body()) {
            body = in.readNBytes(MAX_MANIFEST_BYTES + 1);
        } catch (IOException e) {
            throw unreachable(ref.registry(), e);
        }
        if (body.length > MAX_MANIFEST_BYTES) {
            throw new ImageException(ImageException.Kind.INVALID, "manifest of " + what + " is larger than 4 MiB");
        }
        Digest actual = Digest.of(body);
        if (reference.startsWith("sha256:") && !actual.toString().equals(reference)) {
            throw ImageException.digestMismatch("manifest of " + what, Digest.parse(reference), actual);
        }
        return new FetchedManifest(actual, r.headers().firstValue("Content-Type").orElse(""), body);
    }

    /** Streams a blob's bytes into {@code out} (the caller verifies the digest). */
    public void blob(ImageReference ref, Digest digest, RegistryCredentials creds, OutputStream out) throws ImageException, IOException {
        URI uri = uri(ref, "/v2/" + ref.repository() + "/blobs/" + digest);
        HttpResponse<InputStream> r = send(ref, creds, uri, "GET", "blob " + digest + " of " + ref, false);
        StallWatch watch = new StallWatch(Thread.currentThread(), requestTimeout.toNanos());
        try (InputStream in = r.body()) {
            byte[] buf = new byte[64 * 1024];
            while (true) {
                int n;
                try {
                    n = in.read(buf);
                } catch (IOException e) {
                    throw new ImageException(ImageException.Kind.UNREACHABLE, "registry " + ref.registry()
                            + ": download of blob " + digest + (watch.stalled()
                            ? " stalled (no data for " + requestTimeout.toSeconds() + " s)"
                            : " broke off: " + describe(e)), e);
                }
                if (n < 0) {
                    return;
                }
                watch.progress();
                out.write(buf, 0, n); // write errors (disk, size limit) propagate as IOException
            }
        } finally {
            watch.stop();
        }
    }

    private URI manifestUri(ImageReference ref, String reference) throws ImageException {
        return uri(ref, "/v2/" + ref.repository() + "/manifests/" + reference);
    }

    private URI uri(ImageReference ref, String path) throws ImageException {
        String host = ref.apiHost();
        try {
            return URI.create((plainHttp(host) ? "http://" : "https://") + host + path);
        } catch (IllegalArgumentException e) {
            throw new ImageException(ImageException.Kind.INVALID, "invalid registry address " + host, e);
        }
    }

    boolean plainHttp(String hostPort) {
        if (insecureHosts.contains(hostPort)) {
            return true;
        }
        String host = hostPort.startsWith("[") ? hostPort.substring(1, hostPort.indexOf(']'))
                : hostPort.contains(":") ? hostPort.substring(0, hostPort.lastIndexOf(':')) : hostPort;
        if (insecureHosts.contains(host) || host.equals("localhost")) {
            return true;
        }
        // Docker treats 127.0.0.0/8 (and ::1) as insecure without being told; only literal addresses, no DNS here.
        if (host.matches("[0-9.]+") || host.contains(":")) {
            try {
                return InetAddress.getByName(host).isLoopbackAddress();
            } catch (UnknownHostException e) {
                return false;
            }
        }
        return false;
    }

    /**
     * Sends a request, answering an auth challenge once, following redirects (credentials only to the same
     * host), and mapping every non-2xx status to a clear {@link ImageException}.
     */
    private HttpResponse<InputStream> send(ImageReference ref, RegistryCredentials creds, URI uri, String method,
                                           String what, boolean manifest) throws ImageException {
        String host = ref.apiHost();
        String scope = "repository:" + ref.repository() + ":pull";
        String tokenKey = host + "|" + scope + "|" + (creds.isAnonymous() ? "" : creds.username());
        String challenged = null; // the scheme of the challenge answered, once
        for (int redirects = 0; ; ) {
            String auth = null;
            if (uri.getAuthority().equals(host)) {
                Token t = tokens.get(tokenKey);
                if (t != null && t.expires().isAfter(clock.instant())) {
                    auth = "Bearer " + t.value();
                } else if (basicHosts.contains(host) && !creds.isAnonymous()) {
                    auth = creds.basicHeader();
                }
            }
            HttpResponse<InputStream> r = exchange(uri, method, auth, manifest, ref.registry());
            int status = r.statusCode();
            if (status >= 200 && status < 300) {
                return r;
            }
            String error = errorText(r);
            if (status == 401 && challenged == null && uri.getAuthority().equals(host)) {
                AuthChallenge c = AuthChallenge.parse(r.headers().firstValue("WWW-Authenticate").orElse(""));
                challenged = c.scheme();
                if (c.scheme().equals("bearer")) {
                    tokens.put(tokenKey, fetchToken(c, scope, creds, ref));
                    continue;
                }
                if (c.scheme().equals("basic")) {
                    if (creds.isAnonymous()) {
                        throw new ImageException(ImageException.Kind.AUTH_FAILED, "registry " + ref.registry()
                                + " requires authentication to pull " + ref.name() + " (no credentials given)");
                    }
                    basicHosts.add(host);
                    continue;
                }
            }
            if (status == 401 && "bearer".equals(challenged)) {
                // A token was issued yet does not allow pulling: Docker Hub answers so for missing repositories.
                throw new ImageException(ImageException.Kind.AUTH_FAILED, "pull access denied for " + ref.name()
                        + " on registry " + ref.registry() + " (" + creds + "): the repository does not exist or"
                        + " these credentials may not pull it" + error);
            }
            if (status == 401) {
                throw new ImageException(ImageException.Kind.AUTH_FAILED, "authentication to registry " + ref.registry()
                        + " failed for " + ref.name() + " (" + creds + ")" + error);
            }
            if (status == 403) {
                throw new ImageException(ImageException.Kind.AUTH_FAILED, "access to " + ref.name() + " on registry "
                        + ref.registry() + " denied (" + creds + ")" + error);
            }
            if (status == 404) {
                throw new ImageException(ImageException.Kind.NOT_FOUND, (manifest ? "image " : "") + what + " not found");
            }
            if (status >= 300 && status < 400 && r.headers().firstValue("Location").isPresent()) {
                if (++redirects > MAX_REDIRECTS) {
                    throw new ImageException(ImageException.Kind.REGISTRY_ERROR, "too many redirects fetching " + what);
                }
                uri = uri.resolve(r.headers().firstValue("Location").get());
                continue;
            }
            throw new ImageException(ImageException.Kind.REGISTRY_ERROR, "registry " + ref.registry() + " answered "
                    + status + " for " + what + error);
        }
    }

    private HttpResponse<InputStream> exchange(URI uri, String method, String auth, boolean manifest,
                                               String registry) throws ImageException {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).method(method, HttpRequest.BodyPublishers.noBody())
                .header("User-Agent", "berth-agent");
        if (manifest) {
            b.header("Accept", Manifest.ACCEPT).timeout(requestTimeout);
        }
        if (auth != null) {
            b.header("Authorization", auth);
        }
        try {
            return http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw unreachable(registry, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ImageException(ImageException.Kind.UNREACHABLE, "interrupted talking to registry " + registry, e);
        }
    }

    private Token fetchToken(AuthChallenge c, String defaultScope, RegistryCredentials creds, ImageReference ref)
            throws ImageException {
        String realm = c.params().get("realm");
        if (realm == null || realm.isEmpty()) {
            throw new ImageException(ImageException.Kind.AUTH_FAILED, "registry " + ref.registry()
                    + " sent a bearer challenge without a realm");
        }
        StringBuilder q = new StringBuilder();
        if (c.params().containsKey("service")) {
            q.append("service=").append(URLEncoder.encode(c.params().get("service"), StandardCharsets.UTF_8)).append('&');
        }
        q.append("scope=").append(URLEncoder.encode(c.params().getOrDefault("scope", defaultScope), StandardCharsets.UTF_8));
        URI uri;
        try {
            uri = URI.create(realm + (realm.contains("?") ? "&" : "?") + q);
        } catch (IllegalArgumentException e) {
            throw new ImageException(ImageException.Kind.AUTH_FAILED, "registry " + ref.registry()
                    + " sent an invalid token realm " + realm, e);
        }
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).GET().timeout(requestTimeout).header("User-Agent", "berth-agent");
        if (!creds.isAnonymous()) {
            b.header("Authorization", creds.basicHeader());
        }
        HttpResponse<byte[]> r;
        try {
            r = http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new ImageException(ImageException.Kind.UNREACHABLE, "token server " + uri.getAuthority()
                    + " of registry " + ref.registry() + " unreachable: " + describe(e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ImageException(ImageException.Kind.UNREACHABLE, "interrupted fetching a registry token", e);
        }
        if (r.statusCode() == 401 || r.statusCode() == 403) {
            throw new ImageException(ImageException.Kind.AUTH_FAILED, "authentication to registry " + ref.registry()
                    + " failed for " + ref.name() + ": token server rejected " + creds);
        }
        if (r.statusCode() != 200) {
            throw new ImageException(ImageException.Kind.AUTH_FAILED, "token server of registry " + ref.registry()
                    + " answered " + r.statusCode());
        }
        JsonObject o = Json.object(r.body(), "token response");
        String token = Json.string(o, "token", Json.string(o, "access_token", ""));
        if (token.isEmpty()) {
            throw new ImageException(ImageException.Kind.AUTH_FAILED, "token server of registry " + ref.registry()
                    + " returned no token");
        }
        long expiresIn = o.has("expires_in") ? o.get("expires_in").getAsLong() : 60;
        // Renew a little early so a token never expires between our check and the registry's.
        return new Token(token, clock.instant().plusSeconds(Math.max(1, expiresIn - 10)));
    }

    /**
     * Aborts a blob download that makes no progress for the request timeout: HttpClient has no read timeout
     * for a response body, and a registry that stops sending mid-blob would otherwise hold the pull forever.
     * The watchdog interrupts the reading thread (HttpClient's body stream turns that into an IOException);
     * {@link #stop} makes sure no interrupt escapes the download.
     */
    private static final class StallWatch {
        private static final java.util.concurrent.ScheduledExecutorService TIMER =
                java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "berth-registry-stall-watch");
                    t.setDaemon(true);
                    return t;
                });
        private final Thread reader;
        private final long limitNanos;
        private final java.util.concurrent.ScheduledFuture<?> task;
        private volatile long lastProgress = System.nanoTime(); // monotonic interval, not wall time
        private boolean done;
        private boolean stalled;

        StallWatch(Thread reader, long limitNanos) {
            this.reader = reader;
            this.limitNanos = limitNanos;
            long period = Math.max(limitNanos / 4, 1_000_000);
            this.task = TIMER.scheduleWithFixedDelay(this::check, period, period, java.util.concurrent.TimeUnit.NANOSECONDS);
        }

        void progress() {
            lastProgress = System.nanoTime();
        }

        private synchronized void check() {
            if (!done && !stalled && System.nanoTime() - lastProgress > limitNanos) {
                stalled = true;
                reader.interrupt();
            }
        }

        synchronized boolean stalled() {
            return stalled;
        }

        void stop() {
            task.cancel(false);
            synchronized (this) {
                done = true;
                if (stalled) {
                    Thread.interrupted(); // ours, not the caller's
                }
            }
        }
    }

    /** The registry's own error message, if it sent the standard {"errors":[{"message":...}]} body. */
    private static String errorText(HttpResponse<InputStream> r) {
        try (InputStream in = r.body()) {
            byte[] body = in.readNBytes(64 * 1024);
            if (body.length == 0) {
                return "";
            }
            JsonObject o = Json.object(body, "error");
            if (o.get("errors") instanceof JsonArray a && !a.isEmpty() && a.get(0) instanceof JsonObject e) {
                String code = Json.string(e, "code", "");
                String msg = Json.string(e, "message", "");
                return ": " + (code.isEmpty() ? msg : code + " " + msg).trim();
            }
        } catch (IOException | ImageException | RuntimeException ignored) {
            // not the standard error body; the status says enough
        }
        return "";
    }

    private static ImageException unreachable(String registry, IOException e) {
        return new ImageException(ImageException.Kind.UNREACHABLE, "registry " + registry + " unreachable: " + describe(e), e);
    }

    private static String describe(IOException e) {
        if (e instanceof HttpConnectTimeoutException) {
            return "connect timed out";
        }
        if (e instanceof HttpTimeoutException) {
            return "request timed out";
        }
        if (e instanceof ConnectException) {
            return "connection refused";
        }
        if (e instanceof UnknownHostException) {
            return "unknown host";
        }
        String m = e.getMessage();
        return m == null || m.isEmpty() ? e.getClass().getSimpleName() : m;
    }
}
