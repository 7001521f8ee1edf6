package dev.berth.agent.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.ResourceRequirements;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What image GC must keep: the layers of every container on the node, created, running or exited, as a
 * restarted agent (a new runtime on the same state) reads them from the containers' launch configs.
 */
class LayersInUseTest {
  @Test
  void everyContainersLayersAreReportedAcrossARestartUntilItIsRemoved() throws Exception {
    RuntimeFixture.assumeHost();
    try (RuntimeFixture f = new RuntimeFixture("layers")) {
      Path extra = Files.createDirectories(f.tmp.resolve("layer1"));
      ContainerSpec sleep = ContainerSpec.newBuilder().setImage("busybox:test").addCommand("sleep").addArgs("30").build();
      f.runtime.create(new ContainerConfig("running", sleep, ResourceRequirements.getDefaultInstance(), List.of(extra, f.lower)));
      f.runtime.start("running");
      f.runtime.create(f.config("created", s -> s.addCommand("true")));
      assertThat(f.runScript("exited", "exit 0").exitCode()).isZero();

      ContainerRuntime restarted = f.restartedRuntime();
      assertThat(restarted.lowerDirsInUse()).containsExactlyInAnyOrder(
          List.of(extra.toAbsolutePath(), f.lower.toAbsolutePath()), List.of(f.lower.toAbsolutePath()),
          List.of(f.lower.toAbsolutePath()));

      restarted.stop("running", "SIGKILL", Duration.ZERO);
      restarted.remove("running");
      assertThat(restarted.lowerDirsInUse()).containsExactly(List.of(f.lower.toAbsolutePath()), List.of(f.lower.toAbsolutePath()));
      restarted.remove("created");
      restarted.remove("exited");
      assertThat(restarted.lowerDirsInUse()).isEmpty();
    }
  }
}
