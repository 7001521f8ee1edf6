package dev.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Reference normalization, checked against what {@code docker pull} prints for the same input. */
class ImageReferenceTest {
    private static final String HEX = "b5d6fe0712636ceb7430189de28819e195e8966372edfc2d9409d79402a0dc16";

    @Test
    void normalizesLikeDocker() throws Exception {
        assertThat(ImageReference.parse("busybox").toString()).isEqualTo("docker.io/library/busybox:latest");
        assertThat(ImageReference.parse("busybox:1.36").toString()).isEqualTo("docker.io/library/busybox:1.36");
        assertThat(ImageReference.parse("bitnami/redis").toString()).isEqualTo("docker.io/bitnami/redis:latest");
        assertThat(ImageReference.parse("index.docker.io/busybox").toString()).isEqualTo("docker.io/library/busybox:latest");
        assertThat(ImageReference.parse("localhost/app").registry()).isEqualTo("localhost");
        ImageReference r = ImageReference.parse("127.0.0.1:5000/ns/name:tag");
        assertThat(r.registry()).isEqualTo("127.0.0.1:5000");
        assertThat(r.repository()).isEqualTo("ns/name");
        assertThat(r.tag()).isEqualTo("tag");
        assertThat(r.manifestReference()).isEqualTo("tag");
        assertThat(r.apiHost()).isEqualTo("127.0.0.1:5000");
        assertThat(ImageReference.parse("busybox").apiHost()).isEqualTo("registry-1.docker.io");
    }

    @Test
    void digestsPinContent() throws Exception {
        ImageReference r = ImageReference.parse("host:5000/name@sha256:" + HEX);
        assertThat(r.tag()).isNull();
        assertThat(r.manifestReference()).isEqualTo("sha256:" + HEX);
        ImageReference both = ImageReference.parse("name:1@sha256:" + HEX);
        assertThat(both.tag()).isEqualTo("1");
        assertThat(both.manifestReference()).isEqualTo("sha256:" + HEX);
        assertThat(both.toString()).isEqualTo("docker.io/library/name:1@sha256:" + HEX);
        assertThat(ImageReference.parse("name:1").withDigest(new Digest(HEX)).toString())
                .isEqualTo("docker.io/library/name:1@sha256:" + HEX);
    }

    @Test
    void badReferencesNameTheProblem() {
        assertThatThrownBy(() -> ImageReference.parse("Busy/Box")).hasMessageContaining("invalid repository name component 'Box'");
        assertThatThrownBy(() -> ImageReference.parse("name:bad tag")).hasMessageContaining("invalid tag 'bad tag'");
        assertThatThrownBy(() -> ImageReference.parse("name@sha256:abc")).hasMessageContaining("64 lower-case hex");
        assertThatThrownBy(() -> ImageReference.parse("name@sha512:" + HEX + HEX))
                .hasMessageContaining("unsupported digest algorithm 'sha512'");
        assertThatThrownBy(() -> ImageReference.parse("")).hasMessageContaining("empty reference");
        assertThatThrownBy(() -> ImageReference.parse("host:5000/")).isInstanceOf(ImageException.class);
    }
}
