package dev.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Manifest parsing, platform choice, auth challenge parsing and the plain-HTTP decision. */
class ManifestTest {
    private static final String D1 = "sha256:" + "1".repeat(64);
    private static final String D2 = "sha256:" + "2".repeat(64);

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void dockerManifestListPicksLinuxAmd64WhateverItsPosition() throws Exception {
        String list = """
                {"schemaVersion":2,"mediaType":"%s","manifests":[
                 {"mediaType":"%s","digest":"%s","size":10,"platform":{"os":"linux","architecture":"arm","variant":"v7"}},
                 {"mediaType":"%s","digest":"%s","size":10,"platform":{"os":"linux","architecture":"amd64"}}]}
                """.formatted(Manifest.DOCKER_LIST, Manifest.DOCKER_MANIFEST, D1, Manifest.DOCKER_MANIFEST, D2);
        Manifest m = Manifest.parse(b(list), null, "x");
        assertThat(m).isInstanceOf(Manifest.Index.class);
        assertThat(((Manifest.Index) m).select("x").digest().toString()).isEqualTo(D2);
    }

    @Test
    void mediaTypeFromContentTypeOrShape() throws Exception {
        String image = """
                {"schemaVersion":2,"config":{"digest":"%s","size":5},"layers":[{"digest":"%s","size":7}]}
                """.formatted(D1, D2);
        Manifest.Image m = (Manifest.Image) Manifest.parse(b(image), null, "x");
        assertThat(m.layers()).hasSize(1);
        assertThat(Manifest.parse(b(image), Manifest.DOCKER_MANIFEST + "; charset=utf-8", "x")).isInstanceOf(Manifest.Image.class);
        assertThat(Manifest.parse(b(image), "application/json", "x")).isInstanceOf(Manifest.Image.class);
    }

    @Test
    void refusesWhatItCannotRun() {
        assertThatThrownBy(() -> Manifest.parse(b("{\"schemaVersion\":1,\"name\":\"x\"}"), Manifest.DOCKER_V1_SIGNED, "img"))
                .hasMessageContaining("deprecated Docker schema 1");
        String weirdLayer = """
                {"schemaVersion":2,"mediaType":"%s","config":{"digest":"%s","size":5},
                 "layers":[{"mediaType":"application/x-rar","digest":"%s","size":7}]}
                """.formatted(Manifest.OCI_MANIFEST, D1, D2);
        assertThatThrownBy(() -> Manifest.parse(b(weirdLayer), null, "img"))
                .hasMessageContaining("unsupported media type application/x-rar");
        assertThatThrownBy(() -> Manifest.parse(b("not json"), null, "img")).hasMessageContaining("not valid JSON");
    }

    @Test
    void parsesBearerChallenges() {
        AuthChallenge c = AuthChallenge.parse(
                "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/busybox:pull\"");
        assertThat(c.scheme()).isEqualTo("bearer");
        assertThat(c.params()).containsEntry("realm", "https://auth.docker.io/token")
                .containsEntry("service", "registry.docker.io")
                .containsEntry("scope", "repository:library/busybox:pull");
        assertThat(AuthChallenge.parse("Basic realm=\"Registry Realm\"").params()).containsEntry("realm", "Registry Realm");
    }

    @Test
    void onlyInsecureOrLoopbackRegistriesGetPlainHttp() {
        RegistryClient c = new RegistryClient(Set.of("10.0.0.5:5000", "build.local"), Duration.ofSeconds(1),
                Duration.ofSeconds(1), Clock.systemUTC());
        assertThat(c.plainHttp("10.0.0.5:5000")).isTrue();
        assertThat(c.plainHttp("build.local:443")).isTrue();
        assertThat(c.plainHttp("127.0.0.1:5000")).isTrue();
        assertThat(c.plainHttp("localhost:5000")).isTrue();
        assertThat(c.plainHttp("[::1]:5000")).isTrue();
        assertThat(c.plainHttp("10.0.0.5:5001")).isFalse();
        assertThat(c.plainHttp("registry.example.com")).isFalse();
    }
}
