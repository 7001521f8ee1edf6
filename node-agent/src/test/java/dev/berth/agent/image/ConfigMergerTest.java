package dev.berth.agent.image;

import dev.berth.registry.Digest;
import dev.berth.registry.ImageException;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.HealthCheck;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The Docker rules for combining an image config with a container/service spec: the ENTRYPOINT/CMD table of
 * the Dockerfile reference, {@code docker run --entrypoint}, swarmkit's Command/Args handling, and the
 * daemon's env / label / healthcheck merge.
 */
class ConfigMergerTest {
    private static ImageConfig image(List<String> entrypoint, List<String> cmd) {
        return new ImageConfig("linux", "amd64", entrypoint, cmd, List.of("PATH=/usr/bin:/bin", "LANG=C", "A=image"),
                "/srv", "nobody", "SIGQUIT",
                HealthCheck.newBuilder().addAllTest(List.of("CMD", "probe")).setIntervalMs(5000).setRetries(3).build(),
                Set.of("80/tcp"), Map.of("from", "image", "both", "image"), List.of());
    }

    private static ContainerSpec.Builder spec() {
        return ContainerSpec.newBuilder().setImage("app:1");
    }

    @Test
    void entrypointAndCmdTable() throws Exception {
        // Dockerfile reference: how CMD and ENTRYPOINT interact.
        assertThat(ConfigMerger.argv(ConfigMerger.merge(image(null, List.of("exec_cmd", "p1_cmd")), spec().build())))
                .containsExactly("exec_cmd", "p1_cmd");
        assertThat(ConfigMerger.argv(ConfigMerger.merge(image(List.of("exec_entry", "p1_entry"), null), spec().build())))
                .containsExactly("exec_entry", "p1_entry");
        assertThat(ConfigMerger.argv(ConfigMerger.merge(
                image(List.of("exec_entry", "p1_entry"), List.of("exec_cmd", "p1_cmd")), spec().build())))
                .containsExactly("exec_entry", "p1_entry", "exec_cmd", "p1_cmd");
    }

    @Test
    void argsReplaceCmdAndKeepEntrypoint() throws Exception {
        ContainerSpec m = ConfigMerger.merge(image(List.of("/entry"), List.of("default")), spec().addArgs("given").build());
        assertThat(m.getCommandList()).containsExactly("/entry");
        assertThat(m.getArgsList()).containsExactly("given");
    }

    @Test
    void commandReplacesEntrypointAndDiscardsImageCmd() throws Exception {
        ContainerSpec m = ConfigMerger.merge(image(List.of("/entry"), List.of("default")), spec().addCommand("/bin/sh").build());
        assertThat(ConfigMerger.argv(m)).containsExactly("/bin/sh");
        ContainerSpec withArgs = ConfigMerger.merge(image(List.of("/entry"), List.of("default")),
                spec().addCommand("/bin/sh").addArgs("-c").addArgs("true").build());
        assertThat(ConfigMerger.argv(withArgs)).containsExactly("/bin/sh", "-c", "true");
    }

    @Test
    void noCommandAtAllIsAnError() {
        assertThatThrownBy(() -> ConfigMerger.merge(image(null, null), spec().build()))
                .hasMessageContaining("no command specified");
        assertThatThrownBy(() -> ConfigMerger.merge(image(null, List.of()), spec().build()))
                .isInstanceOf(ImageException.class);
    }

    @Test
    void envMergesByKeySpecWinning() throws Exception {
        ContainerSpec m = ConfigMerger.merge(image(null, List.of("x")), spec().addEnv("A=spec").addEnv("B=new").build());
        assertThat(m.getEnvList()).containsExactly("PATH=/usr/bin:/bin", "LANG=C", "A=spec", "B=new");
        ImageConfig noPath = new ImageConfig("linux", "amd64", null, List.of("x"), List.of(), "", "", "", null,
                Set.of(), Map.of(), List.of());
        assertThat(ConfigMerger.merge(noPath, spec().build()).getEnvList())
                .containsExactly("PATH=" + ConfigMerger.DEFAULT_PATH);
    }

    @Test
    void dirUserStopSignalAndLabels() throws Exception {
        ContainerSpec fromImage = ConfigMerger.merge(image(null, List.of("x")), spec().putLabels("both", "spec").build());
        assertThat(fromImage.getDir()).isEqualTo("/srv");
        assertThat(fromImage.getUser()).isEqualTo("nobody");
        assertThat(fromImage.getStopSignal()).isEqualTo("SIGQUIT");
        assertThat(fromImage.getLabelsMap()).containsExactlyInAnyOrderEntriesOf(Map.of("from", "image", "both", "spec"));

        ContainerSpec fromSpec = ConfigMerger.merge(image(null, List.of("x")),
                spec().setDir("/work/../data").setUser("1000:1000").setStopSignal("usr1").build());
        assertThat(fromSpec.getDir()).isEqualTo("/data");
        assertThat(fromSpec.getUser()).isEqualTo("1000:1000");
        assertThat(fromSpec.getStopSignal()).isEqualTo("SIGUSR1");

        ImageConfig bare = new ImageConfig("linux", "amd64", null, List.of("x"), List.of(), "", "", "", null,
                Set.of(), Map.of(), List.of());
        ContainerSpec defaults = ConfigMerger.merge(bare, spec().build());
        assertThat(defaults.getDir()).isEqualTo("/");
        assertThat(defaults.getUser()).isEmpty();
        assertThat(defaults.getStopSignal()).isEqualTo("SIGTERM");
        assertThatThrownBy(() -> ConfigMerger.merge(bare, spec().setDir("relative").build()))
                .hasMessageContaining("needs to be an absolute path");
    }

    @Test
    void healthcheckMergesFieldByField() throws Exception {
        ImageConfig img = image(null, List.of("x"));
        // the image's check, with Docker's default for what it leaves unset (timeout 30 s)
        assertThat(ConfigMerger.merge(img, spec().build()).getHealthcheck())
                .isEqualTo(img.healthcheck().toBuilder().setTimeoutMs(30_000).build());

        HealthCheck timingsOnly = HealthCheck.newBuilder().setTimeoutMs(700).build();
        HealthCheck merged = ConfigMerger.merge(img, spec().setHealthcheck(timingsOnly).build()).getHealthcheck();
        assertThat(merged.getTestList()).containsExactly("CMD", "probe");
        assertThat(merged.getIntervalMs()).isEqualTo(5000);
        assertThat(merged.getTimeoutMs()).isEqualTo(700);
        assertThat(merged.getRetries()).isEqualTo(3);

        HealthCheck none = HealthCheck.newBuilder().addTest("NONE").build();
        assertThat(ConfigMerger.merge(img, spec().setHealthcheck(none).build()).hasHealthcheck()).isFalse();

        HealthCheck http = HealthCheck.newBuilder().setHttpPath("/healthz").setHttpPort(8080).build();
        HealthCheck httpMerged = ConfigMerger.merge(img, spec().setHealthcheck(http).build()).getHealthcheck();
        assertThat(httpMerged.getTestList()).isEmpty();
        assertThat(httpMerged.getHttpPath()).isEqualTo("/healthz");
        assertThat(httpMerged.getHttpPort()).isEqualTo(8080);

        HealthCheck bad = HealthCheck.newBuilder().addTest("RUN").addTest("x").build();
        assertThatThrownBy(() -> ConfigMerger.merge(img, spec().setHealthcheck(bad).build()))
                .isInstanceOf(ImageException.class).hasMessageContaining("unknown type 'RUN'");
    }

    @Test
    void imageConfigParsesDockerFields() throws Exception {
        String json = """
                {"architecture":"amd64","os":"linux",
                 "config":{"Entrypoint":["/e"],"Cmd":null,"Env":["A=1"],"WorkingDir":"/w","User":"u",
                   "StopSignal":"SIGINT","ExposedPorts":{"80/tcp":{},"53/udp":{}},"Labels":{"k":"v"},
                   "Healthcheck":{"Test":["CMD-SHELL","curl -f localhost"],"Interval":30000000000,
                     "Timeout":5000000000,"StartPeriod":1000000000,"Retries":4}},
                 "rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}
                """.formatted("a".repeat(64));
        ImageConfig c = ImageConfig.parse(json.getBytes(java.nio.charset.StandardCharsets.UTF_8), "test");
        assertThat(c.entrypoint()).containsExactly("/e");
        assertThat(c.cmd()).isNull();
        assertThat(c.exposedPorts()).containsExactlyInAnyOrder("80/tcp", "53/udp");
        assertThat(c.healthcheck().getTestList()).containsExactly("CMD-SHELL", "curl -f localhost");
        assertThat(c.healthcheck().getIntervalMs()).isEqualTo(30_000);
        assertThat(c.healthcheck().getTimeoutMs()).isEqualTo(5_000);
        assertThat(c.healthcheck().getStartPeriodMs()).isEqualTo(1_000);
        assertThat(c.healthcheck().getRetries()).isEqualTo(4);
        assertThat(c.diffIds()).containsExactly(new Digest("a".repeat(64)));
        assertThat(c.labels()).containsEntry("k", "v");
    }
}
