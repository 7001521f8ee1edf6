package dev.berth.registry;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;

/**
 * A real registry for tests: Debian's {@code docker-registry serve} on a free loopback port with a temporary
 * storage dir (optionally behind htpasswd basic auth), plus {@code skopeo} to push OCI layouts into it.
 * Closing stops the process and deletes its storage.
 */
public final class TestRegistry implements AutoCloseable {
    private final Path dir;
    private final Process process;
    private final int port;

    private TestRegistry(Path dir, Process process, int port) {
        this.dir = dir;
        this.process = process;
        this.port = port;
    }

    /** Skips the calling test, with the reason, when a needed binary is not installed. */
    public static void requireTools(String... tools) {
        for (String tool : tools) {
            boolean found = false;
            for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
                found |= Files.isExecutable(Path.of(d, tool));
            }
            assumeTrue(found, tool + " is not installed (apt-get install docker-registry skopeo umoci busybox-static)");
        }
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    public static TestRegistry start() throws Exception {
        return start(null, null);
    }

    /** Starts a registry; with a user, it requires HTTP Basic auth (htpasswd, bcrypt). */
    public static TestRegistry start(String user, String password) throws Exception {
        requireTools("docker-registry", "skopeo");
        Path dir = Files.createTempDirectory("berth-registry");
        int port = freePort();
        StringBuilder cfg = new StringBuilder("""
                version: 0.1
                log:
                  level: warn
                storage:
                  filesystem:
                    rootdirectory: %s
                http:
                  addr: 127.0.0.1:%d
                """.formatted(dir.resolve("storage"), port));
        if (user != null) {
            byte[] salt = new byte[16];
            new java.security.SecureRandom().nextBytes(salt);
            String hash = OpenBSDBCrypt.generate("2a", password.toCharArray(), salt, 6);
            Files.writeString(dir.resolve("htpasswd"), user + ":" + hash + "\n");
            cfg.append("""
                    auth:
                      htpasswd:
                        realm: berth-test
                        path: %s
                    """.formatted(dir.resolve("htpasswd")));
        }
        Files.writeString(dir.resolve("config.yml"), cfg);
        Process p = new ProcessBuilder("docker-registry", "serve", dir.resolve("config.yml").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("registry.log").toFile()).start();
        TestRegistry r = new TestRegistry(dir, p, port);
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try {
                int status = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v2/"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
                if (status == 200 || status == 401) {
                    return r;
                }
            } catch (IOException notYet) {
                // still starting
            }
            if (!p.isAlive() || System.nanoTime() > deadline) {
                String log = Files.readString(dir.resolve("registry.log"));
                r.close();
                throw new IllegalStateException("docker-registry did not start: " + log);
            }
            Thread.sleep(50);
        }
    }

    public String host() {
        return "127.0.0.1:" + port;
    }

    public int port() {
        return port;
    }

    /**
     * Pushes {@code layoutDir:tag} to {@code host()/name}; {@code extra} e.g. "--all" (keep an index) or
     * "--format", "v2s2" (Docker schema 2 media types). Credentials when the registry needs them.
     */
    public void push(Path layoutDir, String tag, String name, String user, String password, String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("skopeo", "--insecure-policy", "copy", "--dest-tls-verify=false"));
        if (user != null) {
            cmd.add("--dest-creds=" + user + ":" + password);
        }
        cmd.addAll(List.of(extra));
        cmd.add("oci:" + layoutDir + ":" + tag);
        cmd.add("docker://" + host() + "/" + name);
        run(cmd);
    }

    public static String run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        deleteTree(dir);
    }

    /** Deletes a test's temporary tree (plain files only: registries and umoci bundles make no mounts). */
    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (java.util.stream.Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
