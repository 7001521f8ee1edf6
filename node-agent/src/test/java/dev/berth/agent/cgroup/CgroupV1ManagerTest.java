package dev.berth.agent.cgroup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** cgroup v1 on this host's real hierarchies (skipped where the host has no v1 memory controller). */
class CgroupV1ManagerTest {
  @Test
  void createsLimitsInEveryHierarchyAndRemovesThemAll() throws Exception {
    assumeTrue(Files.isWritable(Path.of("/sys/fs/cgroup/memory")), "no writable cgroup v1 memory hierarchy");
    String node = "v1t-" + UUID.randomUUID().toString().substring(0, 8);
    CgroupManager m = CgroupManager.detect(node);
    assertThat(m.version()).isEqualTo("v1");
    ContainerCgroup cg = m.create("c1", new CgroupLimits(1_500_000_000L, 0, 128L << 20, 50));
    try {
      Path mem = Path.of("/sys/fs/cgroup/memory/berth-" + node + "/c1");
      assertThat(cg.joinDirs()).contains(mem, Path.of("/sys/fs/cgroup/pids/berth-" + node + "/c1"));
      assertThat(Files.readString(mem.resolve("memory.limit_in_bytes")).trim()).isEqualTo(Long.toString(128L << 20));
      assertThat(Files.readString(Path.of("/sys/fs/cgroup/pids/berth-" + node + "/c1/pids.max")).trim()).isEqualTo("50");
      assertThat(Files.readString(Path.of("/sys/fs/cgroup/cpu/berth-" + node + "/c1/cpu.cfs_quota_us")).trim())
          .isEqualTo("150000");
      Path devices = Path.of("/sys/fs/cgroup/devices/berth-" + node + "/c1/devices.list");
      if (Files.exists(devices)) {
        assertThat(Files.readString(devices)).contains("c 1:3 rwm").doesNotContain("a *:* rwm");
      }
      assertThat(cg.oomCounterFile()).isEqualTo(mem.resolve("memory.oom_control"));
      assertThat(Files.readString(cg.oomCounterFile())).contains("oom_kill 0");
      assertThat(cg.usage().cpuNanos()).isZero();
      assertThat(m.containerIds()).containsExactly("c1");
    } finally {
      cg.remove();
      m.removeNodeParent();
    }
    for (String h : new String[] {"cpu", "cpuacct", "memory", "pids", "devices"}) {
      assertThat(Path.of("/sys/fs/cgroup", h, "berth-" + node)).doesNotExist();
    }
  }

  @Test
  void refusesAnExistingCgroupAndLeavesItAndNothingElse() throws Exception {
    assumeTrue(Files.isWritable(Path.of("/sys/fs/cgroup/memory")), "no writable cgroup v1 memory hierarchy");
    String node = "v1t-" + UUID.randomUUID().toString().substring(0, 8);
    CgroupManager m = CgroupManager.detect(node);
    ContainerCgroup cg = m.create("c1", new CgroupLimits(0, 0, 0, 50));
    Path leftover = Path.of("/sys/fs/cgroup/pids/berth-" + node + "/c2"); // only in one hierarchy
    try {
      assertThatThrownBy(() -> m.create("c1", new CgroupLimits(0, 0, 0, 60)))
          .isInstanceOf(CgroupException.class).hasMessageContaining("already exists");
      for (Path dir : cg.joinDirs()) {
        assertThat(dir).isDirectory();
      }
      assertThat(Files.readString(Path.of("/sys/fs/cgroup/pids/berth-" + node + "/c1/pids.max")).trim()).isEqualTo("50");

      Files.createDirectory(leftover);
      assertThatThrownBy(() -> m.create("c2", new CgroupLimits(0, 0, 0, 60)))
          .isInstanceOf(CgroupException.class).hasMessageContaining("already exists");
      assertThat(leftover).isDirectory();
      for (String h : new String[] {"cpu", "cpuacct", "memory"}) { // made before pids, removed again
        assertThat(Path.of("/sys/fs/cgroup", h, "berth-" + node, "c2")).doesNotExist();
      }
    } finally {
      Files.deleteIfExists(leftover);
      cg.remove();
      m.removeNodeParent();
    }
  }
}
