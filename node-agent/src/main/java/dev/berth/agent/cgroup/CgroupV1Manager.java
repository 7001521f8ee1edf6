package dev.berth.agent.cgroup;

import static dev.berth.agent.cgroup.CgroupFiles.keyed;
import static dev.berth.agent.cgroup.CgroupFiles.mkdirIfAbsent;
import static dev.berth.agent.cgroup.CgroupFiles.readLong;
import static dev.berth.agent.cgroup.CgroupFiles.removedOnFailure;
import static dev.berth.agent.cgroup.CgroupFiles.rmdirIfPresent;
import static dev.berth.agent.cgroup.CgroupFiles.write;
import static dev.berth.agent.cgroup.CgroupFiles.writeEach;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * cgroup v1: the container gets a directory {@code berth-<node>/<id>} in each hierarchy it is
 * limited by (cpu, cpuacct, memory, pids, devices; a host may co-mount some, e.g. cpu,cpuacct).
 * Thread model and errors as {@link CgroupManager}.
 */
public final class CgroupV1Manager implements CgroupManager {
  static final List<String> REQUIRED = List.of("cpu", "cpuacct", "memory", "pids");

  /**
   * Device access as Docker grants it: mknod of anything, read/write only of the pseudo devices
   * in the container's minimal /dev. Without this, CAP_MKNOD would let root in a container
   * create and open the host's disks.
   */
  static final List<String> DEVICE_ALLOW = List.of(
      "c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
      "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm");

  private final CgroupFs fs;
  private final Map<String, Path> roots;
  private final String parentName;

  /** @param controllerRoots mount point of each v1 controller, e.g. memory → /sys/fs/cgroup/memory */
  public CgroupV1Manager(CgroupFs fs, Map<String, Path> controllerRoots, String nodeId) {
    for (String c : REQUIRED) {
      if (!controllerRoots.containsKey(c)) {
        throw new CgroupException("cgroup v1 controller '" + c + "' is not mounted");
      }
    }
    this.fs = fs;
    this.roots = Map.copyOf(controllerRoots);
    this.parentName = "berth-" + CgroupManager.checkName("node id", nodeId);
  }

  @Override
  public String version() {
    return "v1";
  }

  private Path dir(String controller, String id) {
    return roots.get(controller).resolve(parentName).resolve(id);
  }

  private Set<Path> parents() {
    Set<Path> p = new LinkedHashSet<>();
    for (String c : controllers()) {
      p.add(roots.get(c).resolve(parentName));
    }
    return p;
  }

  private List<String> controllers() {
    List<String> c = new ArrayList<>(REQUIRED);
    if (roots.containsKey("devices")) {
      c.add("devices");
    }
    return c;
  }

  @Override
  public ContainerCgroup create(String containerId, CgroupLimits limits) {
    CgroupManager.checkName("container id", containerId);
    V1Cgroup cg = new V1Cgroup(containerId);
    // mkdir itself is the check that none exists (no stat per hierarchy first: this is on every
    // container's start path); what this call made is removed again if one turns out to exist
    List<Path> made = new ArrayList<>();
    for (Path p : cg.joinDirs()) {
      try {
        mkdirWithParent(p);
        made.add(p);
      } catch (IOException e) {
        made.forEach(m -> rmdirIfPresent(fs, m));
        throw e instanceof FileAlreadyExistsException
            ? new CgroupException("cgroup for container " + containerId + " already exists under " + parentName)
            : new CgroupException("creating cgroup " + p + ": " + e.getMessage(), e);
      }
    }
    return removedOnFailure(cg, () -> {
      Path cpu = dir("cpu", containerId);
      write(fs, cpu.resolve("cpu.cfs_period_us"), Long.toString(CgroupLimits.CFS_PERIOD_US));
      write(fs, cpu.resolve("cpu.cfs_quota_us"), Long.toString(limits.cfsQuotaUs()));
      write(fs, cpu.resolve("cpu.shares"), Long.toString(limits.cpuShares()));
      if (limits.memoryBytes() > 0) {
        Path mem = dir("memory", containerId);
        write(fs, mem.resolve("memory.limit_in_bytes"), Long.toString(limits.memoryBytes()));
        // memory+swap equal to memory: a container over its limit is OOM-killed, not swapped out
        if (fs.exists(mem.resolve("memory.memsw.limit_in_bytes"))) {
          write(fs, mem.resolve("memory.memsw.limit_in_bytes"), Long.toString(limits.memoryBytes()));
        }
      }
      write(fs, dir("pids", containerId).resolve("pids.max"), Long.toString(limits.pidsLimit()));
      if (roots.containsKey("devices")) {
        Path dev = dir("devices", containerId);
        write(fs, dev.resolve("devices.deny"), "a");
        writeEach(fs, dev.resolve("devices.allow"), DEVICE_ALLOW);
      }
    });
  }

  /** Makes {@code dir}, and its node parent first if that is missing (the first container, or after cleanup). */
  private void mkdirWithParent(Path dir) throws IOException {
    try {
      fs.mkdir(dir);
    } catch (NoSuchFileException e) {
      mkdirIfAbsent(fs, dir.getParent());
      fs.mkdir(dir);
    }
  }

  @Override
  public Optional<ContainerCgroup> find(String containerId) {
    V1Cgroup cg = new V1Cgroup(CgroupManager.checkName("container id", containerId));
    return cg.joinDirs().stream().anyMatch(fs::exists) ? Optional.of(cg) : Optional.empty();
  }

  @Override
  public List<String> containerIds() {
    Set<String> ids = new TreeSet<>();
    for (Path parent : parents()) {
      try {
        fs.children(parent).forEach(p -> ids.add(p.getFileName().toString()));
      } catch (IOException e) {
        throw new CgroupException("listing " + parent + ": " + e.getMessage(), e);
      }
    }
    return List.copyOf(ids);
  }

  @Override
  public void removeNodeParent() {
    for (Path p : parents()) {
      rmdirIfPresent(fs, p);
    }
  }

  private final class V1Cgroup implements ContainerCgroup {
    private final String id;

    V1Cgroup(String id) {
      this.id = id;
    }

    @Override
    public String containerId() {
      return id;
    }

    @Override
    public List<Path> joinDirs() {
      Set<Path> dirs = new LinkedHashSet<>(); // co-mounted controllers share one directory
      for (String c : controllers()) {
        dirs.add(dir(c, id));
      }
      return List.copyOf(dirs);
    }

    @Override
    public Path oomCounterFile() {
      return dir("memory", id).resolve("memory.oom_control");
    }

    @Override
    public CgroupUsage usage() {
      Path mem = dir("memory", id);
      long used = readLong(fs, mem.resolve("memory.usage_in_bytes"));
      long inactive = keyed(fs, mem.resolve("memory.stat"), "total_inactive_file");
      return new CgroupUsage(readLong(fs, dir("cpuacct", id).resolve("cpuacct.usage")), Math.max(0, used - inactive));
    }

    @Override
    public void remove() {
      for (Path p : joinDirs()) {
        rmdirIfPresent(fs, p);
      }
    }
  }
}
