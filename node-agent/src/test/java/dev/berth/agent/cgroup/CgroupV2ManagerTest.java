package dev.berth.agent.cgroup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cgroup v2 manager against a fake cgroupfs that enforces v2's rules. */
class CgroupV2ManagerTest {
  @TempDir
  Path tmp;

  private String read(Path p) throws IOException {
    return Files.readString(p).trim();
  }

  @Test
  void createDelegatesControllersTopDownAndPutsLimitsOnTheLeafOnly() throws Exception {
    FakeCgroupV2Fs fs = new FakeCgroupV2Fs(tmp, "cpuset", "cpu", "io", "memory", "pids");
    CgroupV2Manager m = new CgroupV2Manager(fs, tmp, "n1");
    ContainerCgroup cg = m.create("c1", new CgroupLimits(500_000_000L, 250_000_000L, 64L << 20, 100));
    Path parent = tmp.resolve("berth-n1");
    Path leaf = parent.resolve("c1");
    assertThat(read(tmp.resolve("cgroup.subtree_control")).split(" ")).contains("cpu", "memory", "pids");
    assertThat(read(parent.resolve("cgroup.subtree_control")).split(" ")).containsExactlyInAnyOrder("cpu", "memory", "pids");
    assertThat(read(leaf.resolve("cpu.max"))).isEqualTo("50000 100000");
    assertThat(read(leaf.resolve("cpu.weight"))).isEqualTo("10"); // 256 shares on runc's scale
    assertThat(read(leaf.resolve("memory.max"))).isEqualTo(Long.toString(64L << 20));
    assertThat(read(leaf.resolve("memory.swap.max"))).isEqualTo("0");
    assertThat(read(leaf.resolve("pids.max"))).isEqualTo("100");
    assertThat(cg.joinDirs()).containsExactly(leaf);
    assertThat(cg.oomCounterFile()).isEqualTo(leaf.resolve("memory.events"));
    // the launcher puts the init into the leaf; the parent could not take it under v2's rules
    fs.write(leaf.resolve("cgroup.procs"), "4242");
    assertThatThrownBy(() -> fs.write(parent.resolve("cgroup.procs"), "4242"))
        .isInstanceOf(FileSystemException.class).hasMessageContaining("no internal processes");
  }

  @Test
  void defaultsLeaveCpuAndMemoryUnlimitedButAlwaysCapPids() throws Exception {
    FakeCgroupV2Fs fs = new FakeCgroupV2Fs(tmp, "cpu", "memory", "pids");
    ContainerCgroup cg = new CgroupV2Manager(fs, tmp, "n1").create("c1", CgroupLimits.defaults());
    Path leaf = cg.joinDirs().get(0);
    assertThat(read(leaf.resolve("cpu.max"))).isEqualTo("max 100000");
    assertThat(read(leaf.resolve("cpu.weight"))).isEqualTo("39"); // 1024 shares
    assertThat(read(leaf.resolve("memory.max"))).isEqualTo("max");
    assertThat(read(leaf.resolve("pids.max"))).isEqualTo("1024");
  }

  @Test
  void aControllerTheHostDoesNotOfferFailsWithItsName() throws Exception {
    FakeCgroupV2Fs fs = new FakeCgroupV2Fs(tmp, "cpu", "pids");
    CgroupV2Manager m = new CgroupV2Manager(fs, tmp, "n1");
    assertThatThrownBy(() -> m.create("c1", CgroupLimits.defaults()))
        .isInstanceOf(CgroupException.class).hasMessageContaining("'memory'").hasMessageContaining(tmp.toString());
    assertThat(m.containerIds()).isEmpty();
  }

  @Test
  void usageReadsCpuNanosAndMemoryWithoutReclaimableCache() throws Exception {
    FakeCgroupV2Fs fs = new FakeCgroupV2Fs(tmp, "cpu", "memory", "pids");
    ContainerCgroup cg = new CgroupV2Manager(fs, tmp, "n1").create("c1", CgroupLimits.defaults());
    Path leaf = cg.joinDirs().get(0);
    fs.kernelSets(leaf.resolve("cpu.stat"), "usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n");
    fs.kernelSets(leaf.resolve("memory.current"), "10000000\n");
    fs.kernelSets(leaf.resolve("memory.stat"), "anon 7000000\nfile 3000000\ninactive_file 2000000\n");
    assertThat(cg.usage()).isEqualTo(new CgroupUsage(1_500_000_000L, 8_000_000L));
  }

  @Test
  void removalIsPerNodeAndRefusedWhileProcessesRemain() throws Exception {
    FakeCgroupV2Fs fs = new FakeCgroupV2Fs(tmp, "cpu", "memory", "pids");
    CgroupV2Manager a = new CgroupV2Manager(fs, tmp, "node-a");
    CgroupV2Manager b = new CgroupV2Manager(fs, tmp, "node-b");
    ContainerCgroup ac = a.create("c1", CgroupLimits.defaults());
    b.create("c1", CgroupLimits.defaults());
    b.create("c2", CgroupLimits.defaults());
    assertThat(a.containerIds()).containsExactly("c1");
    assertThat(b.containerIds()).containsExactly("c1", "c2");
    assertThatThrownBy(() -> a.create("c1", CgroupLimits.defaults())).hasMessageContaining("already exists");
    fs.write(ac.joinDirs().get(0).resolve("cgroup.procs"), "77");
    assertThatThrownBy(ac::remove).isInstanceOf(CgroupException.class).hasMessageContaining("has processes");
    fs.kernelSets(ac.joinDirs().get(0).resolve("cgroup.procs"), ""); // the process exited
    ac.remove();
    a.removeNodeParent();
    assertThat(tmp.resolve("berth-node-a")).doesNotExist();
    assertThat(b.find("c1")).isPresent();
    assertThat(b.containerIds()).containsExactly("c1", "c2");
    assertThatThrownBy(b::removeNodeParent).isInstanceOf(CgroupException.class).hasMessageContaining("berth-node-b");
  }

  @Test
  void theFakeEnforcesV2Rules() throws Exception {
    FakeCgroupV2Fs fs = new FakeCgroupV2Fs(tmp, "cpu", "memory");
    Path g = tmp.resolve("g");
    fs.mkdir(g);
    assertThat(fs.exists(g.resolve("cpu.max"))).as("no controller delegated yet").isFalse();
    assertThatThrownBy(() -> fs.write(tmp.resolve("cgroup.subtree_control"), "+pids")).hasMessageContaining("Invalid argument");
    fs.write(g.resolve("cgroup.procs"), "1");
    assertThatThrownBy(() -> fs.write(g.resolve("cgroup.subtree_control"), "+cpu")).isInstanceOf(FileSystemException.class);
    assertThatThrownBy(() -> fs.write(g.resolve("cgroup.controllers"), "cpu")).hasMessageContaining("Permission denied");
    assertThatThrownBy(() -> fs.rmdir(g)).hasMessageContaining("has processes");
  }

  @Test
  void invalidNamesAndLimitsAreRejected() throws Exception {
    FakeCgroupV2Fs fs = new FakeCgroupV2Fs(tmp, "cpu", "memory", "pids");
    assertThatThrownBy(() -> new CgroupV2Manager(fs, tmp, "../x")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("node id");
    CgroupV2Manager m = new CgroupV2Manager(fs, tmp, "n1");
    assertThatThrownBy(() -> m.create("a/b", CgroupLimits.defaults())).hasMessageContaining("container id");
    assertThatThrownBy(() -> new CgroupLimits(0, 0, 1024, 10)).hasMessageContaining("memory limit");
    assertThatThrownBy(() -> new CgroupLimits(0, 0, 0, 0)).hasMessageContaining("pids");
  }
}
