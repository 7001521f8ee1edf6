package dev.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Tag → digest resolution (what the manager does at service create) against a real docker-registry: the
 * digest is the one skopeo reports, platforms come from an index or from a single image's config, and a
 * missing image, a down registry or missing credentials fail with the image named.
 */
class ImageResolverTest {
    private static Path fixtures;
    private static TestRegistry registry;
    private static TestRegistry locked;
    private static final ImageResolver RESOLVER = new ImageResolver(
            new RegistryClient(Set.of(), Duration.ofSeconds(5), Duration.ofSeconds(20), Clock.systemUTC()));

    @BeforeAll
    static void pushImages() throws Exception {
        TestRegistry.requireTools("docker-registry", "skopeo", "umoci", "busybox");
        fixtures = Files.createTempDirectory("berth-resolve");
        registry = TestRegistry.start();
        locked = TestRegistry.start("carol", "pa55");
        TestImages.busybox(fixtures.resolve("busybox"));
        registry.push(fixtures.resolve("busybox"), "1", "busybox:1", null, null);
        locked.push(fixtures.resolve("busybox"), "1", "team/busybox:1", "carol", "pa55");
        OciLayoutBuilder multi = new OciLayoutBuilder(fixtures.resolve("multi"));
        multi.tag("1",
                multi.image("arm64", List.of(new TarBuilder().file("arch", "arm64").tar()), Map.of()),
                multi.image("amd64", List.of(new TarBuilder().file("arch", "amd64").tar()), Map.of()));
        registry.push(fixtures.resolve("multi"), "1", "multi:1", null, null, "--all");
    }

    @AfterAll
    static void stop() throws Exception {
        for (TestRegistry r : new TestRegistry[] {registry, locked}) {
            if (r != null) {
                r.close();
            }
        }
        if (fixtures != null) {
            TestRegistry.deleteTree(fixtures);
        }
    }

    private static String skopeoDigest(String ref) throws Exception {
        return TestRegistry.run(List.of("skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}",
                "docker://" + ref)).trim();
    }

    @Test
    void aSingleImageResolvesToTheRegistrysDigestAndItsConfigPlatform() throws Exception {
        String ref = registry.host() + "/busybox:1";
        ImageResolver.Resolution r = RESOLVER.resolve(ref, RegistryCredentials.anonymous());
        assertThat(r.digest().toString()).isEqualTo(skopeoDigest(ref));
        assertThat(r.reference().toString()).isEqualTo(ref + "@" + r.digest());
        assertThat(r.platforms()).containsExactly("linux/amd64");
        // Already pinned: resolves to itself (and checks the registry has it).
        assertThat(RESOLVER.resolve(r.reference().toString(), RegistryCredentials.anonymous()).digest())
                .isEqualTo(r.digest());
    }

    @Test
    void anIndexResolvesToTheIndexDigestWithEveryPlatformItOffers() throws Exception {
        ImageResolver.Resolution r = RESOLVER.resolve(registry.host() + "/multi:1", RegistryCredentials.anonymous());
        String raw = TestRegistry.run(List.of("skopeo", "inspect", "--raw", "--tls-verify=false",
                "docker://" + registry.host() + "/multi:1"));
        assertThat(raw).contains("\"manifests\"");
        assertThat(r.digest()).isEqualTo(Digest.of(raw.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertThat(r.platforms()).containsExactly("linux/arm64", "linux/amd64");
    }

    @Test
    void missingImagesDownRegistriesAndMissingCredentialsNameTheImage() throws Exception {
        assertThatThrownBy(() -> RESOLVER.resolve(registry.host() + "/nope:1", RegistryCredentials.anonymous()))
                .isInstanceOfSatisfying(ImageException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ImageException.Kind.NOT_FOUND);
                    assertThat(e.getMessage()).contains(registry.host() + "/nope:1").contains("not found");
                });
        String dead = "127.0.0.1:" + TestRegistry.freePort();
        assertThatThrownBy(() -> RESOLVER.resolve(dead + "/busybox:1", RegistryCredentials.anonymous()))
                .isInstanceOfSatisfying(ImageException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ImageException.Kind.UNREACHABLE);
                    assertThat(e.getMessage()).contains(dead).contains("unreachable");
                });
        String priv = locked.host() + "/team/busybox:1";
        assertThatThrownBy(() -> RESOLVER.resolve(priv, RegistryCredentials.anonymous()))
                .isInstanceOfSatisfying(ImageException.class, e -> {
                    assertThat(e.kind()).isEqualTo(ImageException.Kind.AUTH_FAILED);
                    assertThat(e.getMessage()).contains("team/busybox").contains("requires authentication");
                });
        assertThatThrownBy(() -> RESOLVER.resolve(priv, RegistryCredentials.of("carol", "wrong")))
                .isInstanceOfSatisfying(ImageException.class, e ->
                        assertThat(e.kind()).isEqualTo(ImageException.Kind.AUTH_FAILED));
        ImageResolver.Resolution ok = RESOLVER.resolve(priv, RegistryCredentials.of("carol", "pa55"));
        assertThat(ok.platforms()).containsExactly("linux/amd64");
    }
}
