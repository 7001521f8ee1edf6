package dev.berth.agent.image;

import dev.berth.registry.TarBuilder;
import dev.berth.registry.Digest;
import dev.berth.registry.ImageException;
import dev.berth.registry.RegistryClient;
import dev.berth.registry.RegistryCredentials;
import dev.berth.registry.Manifest;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A fake registry (com.sun.net.httpserver) that lies: corrupted, oversized and redirected blobs, manifests that
 * do not match their digest. A real registry never serves these, so a fake is the only way to show that the
 * agent refuses them and keeps nothing.
 */
class FakeRegistryTest {
    private Path store;
    private ExecutorService pool;
    private ImageService images;
    private final Map<String, byte[]> content = new HashMap<>();
    private HttpFront fake;
    private Digest layerDigest;
    private Digest manifestDigest;
    private byte[] layer;

    @BeforeEach
    void setUp() throws Exception {
        store = Files.createTempDirectory("berth-fake");
        pool = Executors.newFixedThreadPool(2);
        images = ImageService.create(store, Set.of(), pool);
        byte[] tar = new TarBuilder().file("hello", "world").tar();
        layer = TarBuilder.gzip(tar);
        layerDigest = Digest.of(layer);
        JsonObject cfg = new JsonObject();
        cfg.addProperty("architecture", "amd64");
        cfg.addProperty("os", "linux");
        JsonObject rootfs = new JsonObject();
        JsonArray ids = new JsonArray();
        ids.add(Digest.of(tar).toString());
        rootfs.add("diff_ids", ids);
        cfg.add("rootfs", rootfs);
        byte[] config = cfg.toString().getBytes(StandardCharsets.UTF_8);
        String manifest = """
                {"schemaVersion":2,"mediaType":"%s",
                 "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%d},
                 "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%d}]}
                """.formatted(Manifest.OCI_MANIFEST, Digest.of(config), config.length, layerDigest, layer.length);
        byte[] m = manifest.getBytes(StandardCharsets.UTF_8);
        manifestDigest = Digest.of(m);
        content.put("/v2/app/manifests/1", m);
        content.put("/v2/app/manifests/" + manifestDigest, m);
        content.put("/v2/app/blobs/" + Digest.of(config), config);
        content.put("/v2/app/blobs/" + layerDigest, layer);
        content.put("/elsewhere/layer", layer);
    }

    private void serve() throws Exception {
        fake = new HttpFront("unused", ex -> {
            byte[] body = content.get(ex.getRequestURI().getPath());
            if (ex.getRequestURI().getPath().startsWith("/v2/app/manifests/")) {
                ex.getResponseHeaders().add("Content-Type", Manifest.OCI_MANIFEST);
            }
            HttpFront.reply(ex, body == null ? 404 : 200, body == null ? new byte[0] : body);
            return true;
        });
    }

    @AfterEach
    void tearDown() throws Exception {
        if (fake != null) {
            fake.close();
        }
        pool.shutdownNow();
        TestFiles.deleteTree(store);
    }

    @Test
    void servesTheGoodImage() throws Exception {
        serve();
        PulledImage img = images.pull(fake.host() + "/app:1", RegistryCredentials.anonymous());
        assertThat(img.lowerDirs().get(0).resolve("hello")).hasContent("world");
    }

    @Test
    void aCorruptedBlobIsRejectedAndNeverStored() throws Exception {
        byte[] corrupt = layer.clone();
        corrupt[corrupt.length / 2] ^= 0x55;
        content.put("/v2/app/blobs/" + layerDigest, corrupt);
        serve();
        assertThatThrownBy(() -> images.pull(fake.host() + "/app:1", RegistryCredentials.anonymous()))
                .isInstanceOf(ImageException.class)
                .hasMessageContaining("layer " + layerDigest + " of " + fake.host() + "/app:1")
                .hasMessageContaining("digest mismatch: expected " + layerDigest + ", content hashes to sha256:")
                .satisfies(e -> assertThat(((ImageException) e).kind()).isEqualTo(ImageException.Kind.DIGEST_MISMATCH));
        assertThat(store.resolve("blobs/sha256/" + layerDigest.hex())).doesNotExist();
        try (var s = Files.list(store.resolve("tmp"))) {
            assertThat(s).isEmpty();
        }
        try (var s = Files.list(store.resolve("layers/sha256"))) {
            assertThat(s).isEmpty();
        }
        // Once the registry serves the right bytes, a retry succeeds.
        content.put("/v2/app/blobs/" + layerDigest, layer);
        assertThat(images.pull(fake.host() + "/app:1", RegistryCredentials.anonymous()).lowerDirs()).hasSize(1);
    }

    @Test
    void aBlobLongerThanDeclaredIsCutOff() throws Exception {
        byte[] longer = java.util.Arrays.copyOf(layer, layer.length + 4096);
        content.put("/v2/app/blobs/" + layerDigest, longer);
        serve();
        assertThatThrownBy(() -> images.pull(fake.host() + "/app:1", RegistryCredentials.anonymous()))
                .hasMessageContaining("is larger than the " + layer.length + " bytes its descriptor declares");
        assertThat(store.resolve("blobs/sha256/" + layerDigest.hex())).doesNotExist();
    }

    @Test
    void aManifestNotMatchingItsDigestIsRejected() throws Exception {
        content.put("/v2/app/manifests/" + manifestDigest, content.get("/v2/app/manifests/1").clone());
        content.get("/v2/app/manifests/" + manifestDigest)[0] = ' ';
        serve();
        assertThatThrownBy(() -> images.pull(fake.host() + "/app@" + manifestDigest, RegistryCredentials.anonymous()))
                .hasMessageContaining("manifest of " + fake.host() + "/app@" + manifestDigest + ": digest mismatch");
        assertThat(store.resolve("blobs/sha256/" + manifestDigest.hex())).doesNotExist();
    }

    @Test
    void aRegistryThatStallsMidBlobFailsThePullInsteadOfHangingIt() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        fake = new HttpFront("unused", ex -> {
            String path = ex.getRequestURI().getPath();
            if (path.equals("/v2/app/blobs/" + layerDigest)) {
                ex.sendResponseHeaders(200, layer.length);
                ex.getResponseBody().write(layer, 0, layer.length / 2);
                ex.getResponseBody().flush();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return true;
            }
            byte[] body = content.get(path);
            HttpFront.reply(ex, body == null ? 404 : 200, body == null ? new byte[0] : body);
            return true;
        });
        RegistryClient impatient = new RegistryClient(Set.of(), Duration.ofSeconds(2), Duration.ofSeconds(1), Clock.systemUTC());
        ImageService svc = new ImageService(store.resolve("impatient"), impatient, pool, Clock.systemUTC());
        try {
            assertThatThrownBy(() -> svc.pull(fake.host() + "/app:1", RegistryCredentials.anonymous()))
                    .isInstanceOf(ImageException.class)
                    .hasMessage("registry " + fake.host() + ": download of blob " + layerDigest + " stalled (no data for 1 s)");
            assertThat(store.resolve("impatient/blobs/sha256/" + layerDigest.hex())).doesNotExist();
            // the pool thread that ran the download carries no stray interrupt into its next task
            assertThat(pool.submit(() -> Thread.currentThread().isInterrupted()).get()).isFalse();
        } finally {
            release.countDown();
        }
    }

    @Test
    void blobRedirectsAreFollowedWithoutLeakingCredentials() throws Exception {
        String[] seenAuth = new String[1];
        fake = new HttpFront("unused", ex -> {
            String path = ex.getRequestURI().getPath();
            if (path.equals("/v2/app/blobs/" + layerDigest)) {
                ex.getResponseHeaders().add("Location", "/elsewhere/layer");
                HttpFront.reply(ex, 307, new byte[0]);
                return true;
            }
            if (path.equals("/elsewhere/layer")) {
                seenAuth[0] = ex.getRequestHeaders().getFirst("Authorization");
            }
            byte[] body = content.get(path);
            HttpFront.reply(ex, body == null ? 404 : 200, body == null ? new byte[0] : body);
            return true;
        });
        PulledImage img = images.pull(fake.host() + "/app:1", RegistryCredentials.anonymous());
        assertThat(img.lowerDirs().get(0).resolve("hello")).hasContent("world");
        assertThat(fake.count("GET /elsewhere/layer")).isEqualTo(1);
        assertThat(seenAuth[0]).isNull();
    }
}
