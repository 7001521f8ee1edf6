package dev.berth.agent.cgroup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Creates and finds the cgroups of one agent's containers. Every cgroup lives under a parent
 * named {@code berth-<nodeId>}, so agents sharing a host never see or remove each other's.
 * Implementations: {@link CgroupV1Manager} (one directory per controller hierarchy) and
 * {@link CgroupV2Manager} (the unified tree); {@link #detect} picks by the host's layout.
 *
 * <p>Thread-safe for distinct container ids. Kernel refusals surface as {@link CgroupException}.
 */
public interface CgroupManager {
  Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");

  /** "v1" or "v2". */
  String version();

  /** Creates the container's cgroup(s) and applies the limits; undoes a partial creation on error. */
  ContainerCgroup create(String containerId, CgroupLimits limits);

  Optional<ContainerCgroup> find(String containerId);

  /** Ids of all container cgroups under this node's parent. */
  List<String> containerIds();

  /** Removes this node's (then empty) parent cgroup(s). */
  void removeNodeParent();

  static String checkName(String what, String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(what + " '" + name + "' must match " + NAME.pattern());
    }
    return name;
  }

  /**
   * Chooses by the host's layout: the v1 hierarchies when the memory controller is mounted as
   * v1 (pure v1 and hybrid hosts; a hybrid host's unified mount carries no such controllers),
   * otherwise the unified v2 tree.
   */
  static CgroupManager detect(String nodeId) {
    Map<String, Path> v1 = new LinkedHashMap<>();
    Path v2 = null;
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
        String[] halves = line.split(" - ", 2);
        if (halves.length < 2) {
          continue;
        }
        String mountPoint = halves[0].split(" ")[4];
        String[] tail = halves[1].split(" ");
        if (tail[0].equals("cgroup2") && v2 == null) {
          v2 = Path.of(mountPoint);
        } else if (tail[0].equals("cgroup") && tail.length > 2) {
          for (String opt : tail[2].split(",")) {
            v1.putIfAbsent(opt, Path.of(mountPoint));
          }
        }
      }
    } catch (IOException e) {
      throw new CgroupException("reading /proc/self/mountinfo: " + e.getMessage(), e);
    }
    HostCgroupFs fs = new HostCgroupFs();
    if (v1.containsKey("memory")) {
      return new CgroupV1Manager(fs, v1, nodeId);
    }
    if (v2 != null) {
      return new CgroupV2Manager(fs, v2, nodeId);
    }
    throw new CgroupException("no usable cgroup hierarchy: neither a v1 memory controller nor a cgroup2 mount");
  }
}
