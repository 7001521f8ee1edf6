package dev.berth.agent.image;

import dev.berth.registry.ImageException;
import dev.berth.registry.RegistryCredentials;
import dev.berth.registry.TestRegistry;
import dev.berth.registry.TestImages;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Authenticated pulls. Basic: the real docker-registry with an htpasswd file. Bearer: a small in-test token
 * server and gate (com.sun.net.httpserver) in front of the real registry, doing what Docker Hub's auth does:
 * 401 with a Bearer challenge, a token endpoint taking Basic credentials and a scope, tokens on every request.
 */
class RegistryAuthTest {
    private Path work;
    private ExecutorService pool;
    private ImageService images;

    @BeforeEach
    void setUp() throws Exception {
        TestRegistry.requireTools("docker-registry", "skopeo", "umoci", "busybox");
        work = Files.createTempDirectory("berth-auth");
        pool = Executors.newFixedThreadPool(2);
        images = ImageService.create(work.resolve("store"), Set.of(), pool);
        TestImages.busybox(work.resolve("layout"));
    }

    @AfterEach
    void tearDown() throws Exception {
        if (pool != null) {
            pool.shutdownNow();
        }
        if (work != null) {
            TestFiles.deleteTree(work);
        }
    }

    @Test
    void basicAuthAgainstHtpasswdRegistry() throws Exception {
        try (TestRegistry registry = TestRegistry.start("alice", "s3cret")) {
            registry.push(work.resolve("layout"), "1", "private/busybox:1", "alice", "s3cret");
            String ref = registry.host() + "/private/busybox:1";

            assertThatThrownBy(() -> images.pull(ref, RegistryCredentials.anonymous()))
                    .isInstanceOf(ImageException.class)
                    .hasMessage("registry " + registry.host() + " requires authentication to pull "
                            + registry.host() + "/private/busybox (no credentials given)")
                    .satisfies(e -> assertThat(((ImageException) e).kind()).isEqualTo(ImageException.Kind.AUTH_FAILED));
            assertThatThrownBy(() -> images.pull(ref, RegistryCredentials.of("alice", "wrong")))
                    .hasMessageStartingWith("authentication to registry " + registry.host() + " failed for "
                            + registry.host() + "/private/busybox (user alice)");

            // As --with-registry-auth delivers it: base64 "user:password".
            RegistryCredentials creds = RegistryCredentials.fromBase64(
                    Base64.getEncoder().encodeToString("alice:s3cret".getBytes(StandardCharsets.UTF_8)));
            PulledImage img = images.pull(ref, creds);
            assertThat(img.lowerDirs().get(0).resolve("bin/busybox")).exists();
            assertThat(images.resolve(ref, creds)).isEqualTo(img.digest());
        }
    }

    @Test
    void bearerTokensFromATokenServer() throws Exception {
        try (TestRegistry registry = TestRegistry.start()) {
            registry.push(work.resolve("layout"), "1", "team/busybox:1", null, null);
            String token = UUID.randomUUID().toString();
            String basic = "Basic " + Base64.getEncoder().encodeToString("bob:hunter2".getBytes(StandardCharsets.UTF_8));
            String[] gateHost = new String[1];
            try (HttpFront gate = new HttpFront(registry.host(), ex -> {
                String path = ex.getRequestURI().getPath();
                String auth = ex.getRequestHeaders().getFirst("Authorization");
                if (path.equals("/token")) {
                    String query = ex.getRequestURI().getQuery();
                    boolean ok = basic.equals(auth) && query.matches(".*scope=repository:team/[a-z]+:pull.*")
                            && query.contains("service=berth-test");
                    HttpFront.reply(ex, ok ? 200 : 401, ok
                            ? ("{\"token\":\"" + token + "\",\"expires_in\":300}").getBytes(StandardCharsets.UTF_8)
                            : new byte[0]);
                    return true;
                }
                if (!("Bearer " + token).equals(auth) || path.startsWith("/v2/team/secret/")) {
                    ex.getResponseHeaders().add("WWW-Authenticate", "Bearer realm=\"http://" + gateHost[0]
                            + "/token\",service=\"berth-test\",scope=\"repository:team/busybox:pull\"");
                    HttpFront.reply(ex, 401, "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}"
                            .getBytes(StandardCharsets.UTF_8));
                    return true;
                }
                return false; // authorized: forward to the real registry
            })) {
                gateHost[0] = gate.host();
                String ref = gate.host() + "/team/busybox:1";
                assertThatThrownBy(() -> images.pull(ref, RegistryCredentials.of("bob", "wrong")))
                        .isInstanceOf(ImageException.class)
                        .hasMessage("authentication to registry " + gate.host() + " failed for " + gate.host()
                                + "/team/busybox: token server rejected user bob");

                PulledImage img = images.pull(ref, RegistryCredentials.of("bob", "hunter2"));
                assertThat(img.lowerDirs().get(0).resolve("bin/busybox")).exists();
                assertThat(images.resolve(ref, RegistryCredentials.of("bob", "hunter2"))).isEqualTo(img.digest());
                // one token for the wrong password, one for the right: cached for every later request
                assertThat(gate.count("GET /token")).isEqualTo(2);
                assertThatThrownBy(() -> images.pull(gate.host() + "/team/secret:1", RegistryCredentials.of("bob", "hunter2")))
                        .hasMessageStartingWith("pull access denied for " + gate.host() + "/team/secret on registry "
                                + gate.host() + " (user bob): the repository does not exist");
                assertThat(gate.countMatching("GET /v2/team/busybox/blobs/")).isEqualTo(2);
            }
        }
    }
}
