package dev.berth.agent.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.ResourceRequirements;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Docker's rules for combining a task's spec with its image's config. */
class ContainerConfigTest {
  private static final ImageConfig IMAGE = new ImageConfig(List.of("/entry.sh"), List.of("serve", "--port=80"),
      List.of("PATH=/opt/bin:/bin", "MODE=image", "KEEP=1"), "/srv", "www", "SIGQUIT");

  private static ContainerConfig config(ContainerSpec spec) {
    return new ContainerConfig("0123456789abcdef", spec, ResourceRequirements.getDefaultInstance(), IMAGE,
        List.of(Path.of("/layers/a")));
  }

  @Test
  void imageDefaultsApplyWhenTheSpecSetsNothing() {
    ContainerConfig c = config(ContainerSpec.getDefaultInstance());
    assertThat(c.argv()).containsExactly("/entry.sh", "serve", "--port=80");
    assertThat(c.env()).containsExactly("PATH=/opt/bin:/bin", "HOSTNAME=0123456789ab", "MODE=image", "KEEP=1");
    assertThat(c.workingDir()).isEqualTo("/srv");
    assertThat(c.user()).isEqualTo("www");
    assertThat(c.hostname()).isEqualTo("0123456789ab");
    assertThat(c.stopSignal()).isEqualTo("SIGQUIT");
    assertThat(c.stopGracePeriod()).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void specArgsReplaceCmdAndSpecCommandReplacesEntrypointAndDropsCmd() {
    assertThat(config(ContainerSpec.newBuilder().addArgs("debug").build()).argv()).containsExactly("/entry.sh", "debug");
    assertThat(config(ContainerSpec.newBuilder().addCommand("sh").build()).argv()).containsExactly("sh");
    assertThat(config(ContainerSpec.newBuilder().addCommand("sh").addArgs("-c").addArgs("x").build()).argv())
        .containsExactly("sh", "-c", "x");
  }

  @Test
  void specOverridesEnvByKeyAndOtherFields() {
    ContainerConfig c = config(ContainerSpec.newBuilder().addEnv("MODE=spec").addEnv("NEW=2").setDir("/app")
        .setUser("1000:1000").setHostname("web").setStopSignal("SIGINT").setStopGracePeriodMs(2500).build());
    assertThat(c.env()).containsExactly("PATH=/opt/bin:/bin", "HOSTNAME=web", "MODE=spec", "KEEP=1", "NEW=2");
    assertThat(c.workingDir()).isEqualTo("/app");
    assertThat(c.user()).isEqualTo("1000:1000");
    assertThat(c.stopSignal()).isEqualTo("SIGINT");
    assertThat(c.stopGracePeriod()).isEqualTo(Duration.ofMillis(2500));
  }

  @Test
  void unrunnableConfigsAreRejectedWithTheReason() {
    ContainerConfig none = new ContainerConfig("x", ContainerSpec.getDefaultInstance(),
        ResourceRequirements.getDefaultInstance(), ImageConfig.empty(), List.of(Path.of("/l")));
    assertThatThrownBy(none::argv).hasMessageContaining("no command specified");
    assertThat(none.env()).contains(ContainerConfig.DEFAULT_PATH);
    assertThat(none.workingDir()).isEqualTo("/");
    assertThat(none.stopSignal()).isEqualTo("SIGTERM");
    assertThatThrownBy(() -> new ContainerConfig("x", ContainerSpec.getDefaultInstance(),
        ResourceRequirements.getDefaultInstance(), IMAGE, List.of())).hasMessageContaining("no image layers");
  }
}
