package dev.berth.scheduler.filter;

import static dev.berth.scheduler.Fixtures.nodeBuilder;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.Node;
import dev.berth.api.v1.Platform;
import dev.berth.scheduler.ClusterView;
import dev.berth.scheduler.NodeInfo;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PlatformFilterTest {

  private static NodeInfo info(String os, String arch) {
    Node.Builder b = nodeBuilder("n", 1, 1, Map.of());
    b.getDescriptionBuilder().setPlatform(Platform.newBuilder().setOs(os).setArchitecture(arch));
    ClusterView view = new ClusterView();
    view.upsertNode(b.build());
    return view.node("n");
  }

  private static Platform p(String os, String arch) {
    return Platform.newBuilder().setOs(os).setArchitecture(arch).build();
  }

  @Test
  void matchesAnyListedPlatformWithArchitectureAliases() {
    Filter f = new PlatformFilter(List.of(p("linux", "amd64"), p("linux", "arm64")));
    assertThat(f.check(info("linux", "amd64"))).isTrue();
    assertThat(f.check(info("linux", "x86_64"))).isTrue();
    assertThat(f.check(info("Linux", "aarch64"))).isTrue();
    assertThat(f.check(info("linux", "s390x"))).isFalse();
    assertThat(f.check(info("windows", "amd64"))).isFalse();
    assertThat(f.isStatic()).isTrue();
  }

  @Test
  void emptyFieldsMatchAnything() {
    assertThat(new PlatformFilter(List.of(p("linux", ""))).check(info("linux", "riscv64"))).isTrue();
    assertThat(new PlatformFilter(List.of(p("linux", "arm64"))).check(info("", ""))).isTrue();
  }

  @Test
  void explanationListsWhatTheImageSupports() {
    Filter f = new PlatformFilter(List.of(p("linux", "arm64")));
    assertThat(f.explain(2)).isEqualTo("unsupported platform (image supports linux/arm64) on 2 nodes");
  }
}
