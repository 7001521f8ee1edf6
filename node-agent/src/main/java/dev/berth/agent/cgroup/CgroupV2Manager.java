package dev.berth.agent.cgroup;

import static dev.berth.agent.cgroup.CgroupFiles.keyed;
import static dev.berth.agent.cgroup.CgroupFiles.mkdirIfAbsent;
import static dev.berth.agent.cgroup.CgroupFiles.read;
import static dev.berth.agent.cgroup.CgroupFiles.readLong;
import static dev.berth.agent.cgroup.CgroupFiles.removedOnFailure;
import static dev.berth.agent.cgroup.CgroupFiles.rmdirIfPresent;
import static dev.berth.agent.cgroup.CgroupFiles.write;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * cgroup v2: one leaf {@code <root>/berth-<node>/<id>}. v2's rules shape the layout: processes
 * live only in leaves (the node parent holds none), and a controller is usable in a cgroup only
 * once every ancestor lists it in {@code cgroup.subtree_control}. Thread model and errors as
 * {@link CgroupManager}.
 */
public final class CgroupV2Manager implements CgroupManager {
  static final List<String> WANTED = List.of("cpu", "memory", "pids");

  private final CgroupFs fs;
  private final Path root;
  private final Path parent;

  public CgroupV2Manager(CgroupFs fs, Path root, String nodeId) {
    this.fs = fs;
    this.root = root;
    this.parent = root.resolve("berth-" + CgroupManager.checkName("node id", nodeId));
  }

  @Override
  public String version() {
    return "v2";
  }

  /** Enables in {@code dir}'s subtree_control every wanted controller it has but not yet delegates. */
  private void delegate(Path dir) {
    Set<String> available = Set.of(read(fs, dir.resolve("cgroup.controllers")).split("\\s+"));
    Set<String> enabled = Set.of(read(fs, dir.resolve("cgroup.subtree_control")).split("\\s+"));
    List<String> missing = new ArrayList<>();
    for (String c : WANTED) {
      if (!available.contains(c)) {
        throw new CgroupException("cgroup v2 controller '" + c + "' is not available in " + dir
            + " (cgroup.controllers: " + String.join(" ", available) + ")");
      }
      if (!enabled.contains(c)) {
        missing.add("+" + c);
      }
    }
    if (!missing.isEmpty()) {
      write(fs, dir.resolve("cgroup.subtree_control"), String.join(" ", missing));
    }
  }

  @Override
  public ContainerCgroup create(String containerId, CgroupLimits limits) {
    Path leaf = parent.resolve(CgroupManager.checkName("container id", containerId));
    if (fs.exists(leaf)) {
      throw new CgroupException("cgroup " + leaf + " already exists");
    }
    delegate(root);
    mkdirIfAbsent(fs, parent);
    delegate(parent);
    V2Cgroup cg = new V2Cgroup(containerId, leaf);
    try {
      fs.mkdir(leaf);
    } catch (IOException e) {
      throw new CgroupException("creating cgroup " + leaf + ": " + e.getMessage(), e);
    }
    return removedOnFailure(cg, () -> {
      long quota = limits.cfsQuotaUs();
      write(fs, leaf.resolve("cpu.max"), (quota < 0 ? "max" : Long.toString(quota)) + " " + CgroupLimits.CFS_PERIOD_US);
      write(fs, leaf.resolve("cpu.weight"), Long.toString(limits.cpuWeight()));
      if (limits.memoryBytes() > 0) {
        write(fs, leaf.resolve("memory.max"), Long.toString(limits.memoryBytes()));
        if (fs.exists(leaf.resolve("memory.swap.max"))) {
          write(fs, leaf.resolve("memory.swap.max"), "0");
        }
      }
      write(fs, leaf.resolve("pids.max"), Long.toString(limits.pidsLimit()));
    });
  }

  @Override
  public Optional<ContainerCgroup> find(String containerId) {
    Path leaf = parent.resolve(CgroupManager.checkName("container id", containerId));
    return fs.exists(leaf) ? Optional.of(new V2Cgroup(containerId, leaf)) : Optional.empty();
  }

  @Override
  public List<String> containerIds() {
    try {
      return fs.children(parent).stream().map(p -> p.getFileName().toString()).sorted().toList();
    } catch (IOException e) {
      throw new CgroupException("listing " + parent + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void removeNodeParent() {
    rmdirIfPresent(fs, parent);
  }

  private final class V2Cgroup implements ContainerCgroup {
    private final String id;
    private final Path leaf;

    V2Cgroup(String id, Path leaf) {
      this.id = id;
      this.leaf = leaf;
    }

    @Override
    public String containerId() {
      return id;
    }

    @Override
    public List<Path> joinDirs() {
      return List.of(leaf);
    }

    @Override
    public Path oomCounterFile() {
      return leaf.resolve("memory.events");
    }

    @Override
    public CgroupUsage usage() {
      long cpuUsec = keyed(fs, leaf.resolve("cpu.stat"), "usage_usec");
      long mem = readLong(fs, leaf.resolve("memory.current"));
      long inactive = keyed(fs, leaf.resolve("memory.stat"), "inactive_file");
      return new CgroupUsage(cpuUsec * 1000, Math.max(0, mem - inactive));
    }

    @Override
    public void remove() {
      rmdirIfPresent(fs, leaf);
    }
  }

  @Override
  public String toString() {
    return "cgroup v2 at " + parent + " (controllers " + Arrays.toString(WANTED.toArray()) + ")";
  }
}
