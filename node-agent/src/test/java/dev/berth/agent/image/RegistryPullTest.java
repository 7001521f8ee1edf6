package dev.berth.agent.image;

import dev.berth.registry.TarBuilder;
import dev.berth.registry.OciLayoutBuilder;
import dev.berth.registry.Digest;
import dev.berth.registry.ImageException;
import dev.berth.registry.ImageReference;
import dev.berth.registry.RegistryClient;
import dev.berth.registry.RegistryCredentials;
import dev.berth.registry.Manifest;
import dev.berth.registry.TestRegistry;
import dev.berth.registry.TestImages;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Pulls from a real registry (Debian's docker-registry on loopback) images pushed by skopeo: a busybox-static
 * image built with umoci, the same as Docker schema 2, a multi-platform index, and a malicious layer.
 */
class RegistryPullTest {
    private static Path fixtures;
    private static TestRegistry registry;
    private static String host;

    private Path store;
    private ExecutorService pool;
    private ImageService images;

    @BeforeAll
    static void pushImages() throws Exception {
        TestRegistry.requireTools("docker-registry", "skopeo", "umoci", "busybox");
        fixtures = Files.createTempDirectory("berth-images");
        registry = TestRegistry.start();
        host = registry.host();
        Path layout = fixtures.resolve("busybox");
        TestImages.busybox(layout);
        registry.push(layout, "1", "busybox:1", null, null);
        registry.push(layout, "2", "busybox:2", null, null);
        registry.push(layout, "1", "dockerfmt:1", null, null, "--format", "v2s2");

        OciLayoutBuilder multi = new OciLayoutBuilder(fixtures.resolve("multi"));
        var arm = multi.image("arm64", List.of(new TarBuilder().file("arch", "arm64").tar()), Map.of("Cmd", List.of("x")));
        var amd = multi.image("amd64", List.of(new TarBuilder().file("arch", "amd64").tar()), Map.of("Cmd", List.of("x")));
        multi.tag("1", arm, amd);
        multi.tag("armonly", arm, multi.image("s390x", List.of(new TarBuilder().file("arch", "s390x").tar()), Map.of()));
        multi.tag("evil", multi.image("amd64", List.of(
                new TarBuilder().file("ok", "fine").tar(),
                new TarBuilder().symlink("etc", "/etc").file("etc/berth-pwned", "x").tar()), Map.of("Cmd", List.of("x"))));
        registry.push(fixtures.resolve("multi"), "1", "multi:1", null, null, "--all");
        registry.push(fixtures.resolve("multi"), "armonly", "multi:armonly", null, null, "--all");
        registry.push(fixtures.resolve("multi"), "evil", "evil:1", null, null);
    }

    @AfterAll
    static void stopRegistry() throws Exception {
        if (registry != null) {
            registry.close();
        }
        if (fixtures != null) {
            TestFiles.deleteTree(fixtures);
        }
    }

    @BeforeEach
    void newStore() throws Exception {
        store = Files.createTempDirectory("berth-store");
        pool = Executors.newFixedThreadPool(3);
        images = ImageService.create(store, Set.of(), pool);
    }

    @AfterEach
    void cleanStore() throws Exception {
        pool.shutdownNow();
        TestFiles.deleteTree(store);
    }

    @Test
    void pullsByTagAndByDigestWithTheDigestSkopeoReports() throws Exception {
        String skopeoDigest = TestRegistry.run(List.of("skopeo", "inspect", "--tls-verify=false", "--format",
                "{{.Digest}}", "docker://" + host + "/busybox:1")).trim();
        Digest resolved = images.resolve(host + "/busybox:1", RegistryCredentials.anonymous());
        assertThat(resolved.toString()).isEqualTo(skopeoDigest);

        PulledImage byTag = images.pull(host + "/busybox:1", RegistryCredentials.anonymous());
        assertThat(byTag.digest()).isEqualTo(resolved);
        assertThat(byTag.reference().toString()).isEqualTo(host + "/busybox:1@" + resolved);
        assertThat(byTag.lowerDirs()).hasSize(1);
        Path bin = byTag.lowerDirs().get(0).resolve("bin/busybox");
        assertThat(Files.isExecutable(bin)).isTrue();
        assertThat(Files.mismatch(bin, Path.of("/bin/busybox"))).isEqualTo(-1L);
        ImageConfig c = byTag.config();
        assertThat(c.entrypoint()).containsExactly("/bin/sh");
        assertThat(c.cmd()).containsExactly("-c", "echo hi");
        assertThat(c.env()).contains("FOO=bar");
        assertThat(c.workingDir()).isEqualTo("/tmp");
        assertThat(c.stopSignal()).isEqualTo("SIGQUIT");
        assertThat(c.exposedPorts()).containsExactly("8080/tcp");

        PulledImage byDigest = images.pull(host + "/busybox@" + resolved, RegistryCredentials.anonymous());
        assertThat(byDigest.lowerDirs()).isEqualTo(byTag.lowerDirs());
        assertThat(byDigest.config()).isEqualTo(c);

        // As the agent calls it for a task whose spec the manager pinned.
        dev.berth.api.v1.ContainerSpec spec = dev.berth.api.v1.ContainerSpec.newBuilder()
                .setImage(host + "/busybox:1").setImageDigest(resolved.toString()).addEnv("FOO=spec").build();
        PulledImage forTask = images.pull(spec);
        assertThat(forTask.digest()).isEqualTo(resolved);
        dev.berth.api.v1.ContainerSpec effective = ConfigMerger.merge(forTask.config(), spec);
        assertThat(ConfigMerger.argv(effective)).containsExactly("/bin/sh", "-c", "echo hi");
        assertThat(effective.getEnvList()).containsExactly("FOO=spec", "PATH=/bin");
        assertThat(effective.getDir()).isEqualTo("/tmp");

        // Pinned and complete locally: no registry needed (this port has nothing listening).
        String dead = "127.0.0.1:" + TestRegistry.freePort();
        assertThat(images.pull(dead + "/busybox@" + resolved, RegistryCredentials.anonymous()).lowerDirs())
                .isEqualTo(byTag.lowerDirs());
    }

    @Test
    void dockerSchema2ManifestsPullLikeOci() throws Exception {
        RegistryClient client = new RegistryClient(Set.of(), java.time.Duration.ofSeconds(5),
                java.time.Duration.ofSeconds(10), java.time.Clock.systemUTC());
        var served = client.manifest(ImageReference.parse(host + "/dockerfmt:1"), "1", RegistryCredentials.anonymous());
        assertThat(served.contentType()).isEqualTo(Manifest.DOCKER_MANIFEST);
        PulledImage img = images.pull(host + "/dockerfmt:1", RegistryCredentials.anonymous());
        assertThat(img.lowerDirs().get(0).resolve("bin/busybox")).exists();
        assertThat(img.config().entrypoint()).containsExactly("/bin/sh");
    }

    @Test
    void anIndexResolvesToItsLinuxAmd64Image() throws Exception {
        PulledImage img = images.pull(host + "/multi:1", RegistryCredentials.anonymous());
        assertThat(img.lowerDirs().get(0).resolve("arch")).hasContent("amd64");
        assertThat(img.digest()).isEqualTo(images.resolve(host + "/multi:1", RegistryCredentials.anonymous()));
        assertThat(img.manifestDigest()).isNotEqualTo(img.digest());
        assertThat(img.config().architecture()).isEqualTo("amd64");

        assertThatThrownBy(() -> images.pull(host + "/multi:armonly", RegistryCredentials.anonymous()))
                .isInstanceOf(ImageException.class)
                .hasMessageContaining("has no linux/amd64 image").hasMessageContaining("linux/arm64")
                .hasMessageContaining("linux/s390x");
    }

    @Test
    void unknownImagesAndDownRegistriesFailClearly() throws Exception {
        assertThatThrownBy(() -> images.pull(host + "/nope:1", RegistryCredentials.anonymous()))
                .isInstanceOf(ImageException.class).hasMessage("image " + host + "/nope:1 not found")
                .satisfies(e -> assertThat(((ImageException) e).kind()).isEqualTo(ImageException.Kind.NOT_FOUND));
        assertThatThrownBy(() -> images.resolve(host + "/busybox:no-such-tag", RegistryCredentials.anonymous()))
                .hasMessage("image " + host + "/busybox:no-such-tag not found");
        String dead = "127.0.0.1:" + TestRegistry.freePort();
        assertThatThrownBy(() -> images.pull(dead + "/busybox:1", RegistryCredentials.anonymous()))
                .isInstanceOf(ImageException.class)
                .hasMessage("registry " + dead + " unreachable: connection refused")
                .satisfies(e -> assertThat(((ImageException) e).kind()).isEqualTo(ImageException.Kind.UNREACHABLE));
    }

    @Test
    void concurrentPullsShareOneDownload() throws Exception {
        try (HttpFront proxy = new HttpFront(host, ex -> false)) {
            int n = 6;
            ExecutorService callers = Executors.newFixedThreadPool(n);
            try {
                CountDownLatch go = new CountDownLatch(1);
                List<Future<PulledImage>> results = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    String ref = proxy.host() + "/busybox:" + (i % 2 == 0 ? "1" : "2");
                    results.add(callers.submit(() -> {
                        go.await();
                        return images.pull(ref, RegistryCredentials.anonymous());
                    }));
                }
                go.countDown();
                Path base = null;
                for (Future<PulledImage> f : results) {
                    PulledImage img = f.get(60, TimeUnit.SECONDS);
                    Path bottom = img.lowerDirs().get(img.lowerDirs().size() - 1);
                    base = base == null ? bottom : base;
                    assertThat(bottom).isEqualTo(base);
                }
            } finally {
                callers.shutdownNow();
            }
            // busybox:1 and :2 share the base layer: 3 distinct blobs beyond manifests (base, top layer, 2 configs).
            assertThat(proxy.countMatching("GET /v2/busybox/blobs/")).isEqualTo(4);
            assertThat(proxy.count("GET /v2/busybox/manifests/1")).isEqualTo(1);
            assertThat(proxy.count("GET /v2/busybox/manifests/2")).isEqualTo(1);
            assertThat(images.layersUnpacked()).isEqualTo(2);
        }
    }

    @Test
    void imagesShareUnpackedLayersAndWhiteoutsHideDeletedFiles() throws Exception {
        PulledImage v1 = images.pull(host + "/busybox:1", RegistryCredentials.anonymous());
        PulledImage v2 = images.pull(host + "/busybox:2", RegistryCredentials.anonymous());
        assertThat(v2.lowerDirs()).hasSize(2);
        assertThat(v2.lowerDirs().get(1)).isEqualTo(v1.lowerDirs().get(0));
        assertThat(images.layersUnpacked()).isEqualTo(2);
        Path mnt = Files.createDirectory(store.resolve("mnt"));
        TestRegistry.run(List.of("mount", "-t", "overlay", "overlay", "-o", "lowerdir="
                + v2.lowerDirs().get(0) + ":" + v2.lowerDirs().get(1), mnt.toString()));
        try {
            assertThat(mnt.resolve("etc/motd")).doesNotExist();
            assertThat(mnt.resolve("etc/v2")).hasContent("v2");
            assertThat(mnt.resolve("bin/busybox")).exists();
        } finally {
            TestRegistry.run(List.of("umount", mnt.toString()));
        }
        assertThat(v1.lowerDirs().get(0).resolve("etc/motd")).exists();
    }

    @Test
    void aLayerEscapingItsRootIsRefusedAndNothingOfItKept() throws Exception {
        assertThatThrownBy(() -> images.pull(host + "/evil:1", RegistryCredentials.anonymous()))
                .isInstanceOf(ImageException.class)
                .hasMessageContaining("refused tar entry 'etc/berth-pwned'")
                .hasMessageContaining("symlink 'etc' -> '/etc'");
        assertThat(Path.of("/etc/berth-pwned")).doesNotExist();
        try (var s = Files.list(store.resolve("tmp"))) {
            assertThat(s).isEmpty();
        }
        try (var s = Files.list(store.resolve("layers/sha256"))) {
            assertThat(s.count()).isLessThanOrEqualTo(1); // only the harmless first layer, if it finished first
        }
    }

    @Test
    void importsAnOciLayoutTarWithoutARegistry() throws Exception {
        Path tar = fixtures.resolve("busybox.tar");
        Files.deleteIfExists(tar);
        TestRegistry.run(List.of("tar", "-C", fixtures.resolve("busybox").toString(), "-cf", tar.toString(), "."));
        List<PulledImage> imported = images.importLayout(tar, "myapp");
        assertThat(imported).extracting(i -> i.reference().withDigest(null).toString())
                .containsExactlyInAnyOrder("docker.io/library/myapp:base", "docker.io/library/myapp:1",
                        "docker.io/library/myapp:2");
        Digest d = images.resolve("myapp:2", RegistryCredentials.anonymous());
        PulledImage app = images.pull("myapp:2", RegistryCredentials.anonymous());
        assertThat(app.digest()).isEqualTo(d);
        assertThat(app.lowerDirs()).hasSize(2);
        assertThat(app.lowerDirs().get(1).resolve("bin/busybox")).exists();
        // Imported names keep their images (only blobs umoci left unreferenced in the layout may go).
        assertThat(images.collect(List.of(), java.time.Instant.MAX).layersRemoved()).isZero();
        for (String tag : List.of("base", "1", "2")) {
            images.pull("myapp:" + tag, RegistryCredentials.anonymous());
        }

        Path broken = fixtures.resolve("broken");
        TestRegistry.run(List.of("cp", "-a", fixtures.resolve("busybox").toString(), broken.toString()));
        try {
            Path someBlob;
            try (var s = Files.list(broken.resolve("blobs/sha256"))) {
                someBlob = s.filter(p -> {
                    try {
                        return Files.size(p) > 100_000;
                    } catch (java.io.IOException e) {
                        return false;
                    }
                }).findFirst().orElseThrow();
            }
            Files.write(someBlob, new byte[] {1, 2, 3}, java.nio.file.StandardOpenOption.APPEND);
            Path badTar = fixtures.resolve("broken.tar");
            TestRegistry.run(List.of("tar", "-C", broken.toString(), "-cf", badTar.toString(), "."));
            ImageService fresh = ImageService.create(store.resolve("fresh"), Set.of(), pool);
            assertThatThrownBy(() -> fresh.importLayout(badTar, "broken"))
                    .isInstanceOf(ImageException.class).hasMessageContaining("sha256:" + someBlob.getFileName());
            Files.delete(someBlob);
            TestRegistry.run(List.of("tar", "-C", broken.toString(), "-cf", badTar.toString(), "."));
            assertThatThrownBy(() -> fresh.importLayout(badTar, "broken"))
                    .hasMessageContaining("is missing blob sha256:" + someBlob.getFileName());
            assertThat(fresh.localNames()).isEmpty();
        } finally {
            TestFiles.deleteTree(broken);
        }
    }
}
