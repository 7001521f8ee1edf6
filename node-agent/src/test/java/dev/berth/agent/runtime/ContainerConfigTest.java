package dev.berth.agent.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.agent.image.ConfigMerger;
import dev.berth.agent.image.ImageConfig;
import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.ResourceRequirements;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * What a container runs: a task's spec merged with its image's config by {@link ConfigMerger} (the one
 * place Docker's rules live), plus what the runtime adds (HOSTNAME, default hostname, stop grace).
 */
class ContainerConfigTest {
  private static final ImageConfig IMAGE = image(List.of("/entry.sh"), List.of("serve", "--port=80"),
      List.of("PATH=/opt/bin:/bin", "MODE=image", "KEEP=1"), "/srv", "www", "SIGQUIT");
  private static final ImageConfig EMPTY = image(null, null, List.of(), "", "", "");

  private static ImageConfig image(List<String> entrypoint, List<String> cmd, List<String> env, String dir,
      String user, String stopSignal) {
    return new ImageConfig("linux", "amd64", entrypoint, cmd, env, dir, user, stopSignal, null, Set.of(), Map.of(),
        List.of());
  }

  private static ContainerConfig config(ImageConfig image, ContainerSpec spec) {
    try {
      return new ContainerConfig("0123456789abcdef", ConfigMerger.merge(image, spec),
          ResourceRequirements.getDefaultInstance(), List.of(Path.of("/layers/a")));
    } catch (dev.berth.registry.ImageException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  private static ContainerConfig config(ContainerSpec spec) {
    return config(IMAGE, spec);
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
        ResourceRequirements.getDefaultInstance(), List.of(Path.of("/l")));
    assertThatThrownBy(none::argv).hasMessageContaining("no command specified");
    assertThatThrownBy(() -> config(EMPTY, ContainerSpec.getDefaultInstance())).hasMessageContaining("no command specified");
    ContainerConfig bare = config(EMPTY, ContainerSpec.newBuilder().addCommand("x").build());
    assertThat(bare.env()).contains("PATH=" + ConfigMerger.DEFAULT_PATH);
    for (ContainerConfig c : List.of(none, bare)) {
      assertThat(c.workingDir()).isEqualTo("/");
      assertThat(c.stopSignal()).isEqualTo("SIGTERM");
    }
    assertThatThrownBy(() -> new ContainerConfig("x", ContainerSpec.getDefaultInstance(),
        ResourceRequirements.getDefaultInstance(), List.of())).hasMessageContaining("no image layers");
  }
}
