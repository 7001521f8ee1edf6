package dev.berth.chaos;

import dev.berth.agent.runtime.ContainerInfo;
import dev.berth.testkit.hosts.HostAgent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * What one node has on this machine, found by its node id: its running containers (id → init pid,
 * with the mount table each container's init sees), its cgroup directories (every hierarchy's
 * {@code berth-<nodeId>} subtree) and the pids in them. Two footprints are equal when nothing of
 * the node was touched.
 */
record NodeFootprint(Map<String, Long> initPids, Map<String, String> mounts, Set<String> cgroupDirs,
                     Set<Long> cgroupPids) {

  static NodeFootprint of(HostAgent agent) {
    String nodeId = agent.nodeId().orElseThrow();
    Map<String, Long> pids = new TreeMap<>();
    Map<String, String> mounts = new TreeMap<>();
    for (ContainerInfo c : agent.containers()) {
      if (c.state() == ContainerInfo.State.RUNNING) {
        pids.put(c.id(), c.initPid());
        mounts.put(c.id(), read(Path.of("/proc", Long.toString(c.initPid()), "mountinfo")));
      }
    }
    Set<String> dirs = new TreeSet<>();
    Set<Long> procs = new TreeSet<>();
    try (Stream<Path> controllers = Files.list(Path.of("/sys/fs/cgroup"))) {
      for (Path controller : controllers.toList()) {
        Path parent = controller.resolve("berth-" + nodeId);
        if (!Files.isDirectory(parent)) {
          continue;
        }
        try (Stream<Path> tree = Files.walk(parent)) {
          for (Path d : tree.filter(Files::isDirectory).toList()) {
            dirs.add(d.toString());
            read(d.resolve("cgroup.procs")).lines().filter(s -> !s.isBlank()).map(Long::parseLong).forEach(procs::add);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new NodeFootprint(pids, mounts, dirs, procs);
  }

  /** Container ids whose init still runs (the same process: the pid is there with the same start). */
  boolean allAlive() {
    return initPids.values().stream().allMatch(p -> ProcessHandle.of(p).map(ProcessHandle::isAlive).orElse(false));
  }

  private static String read(Path p) {
    try {
      return Files.exists(p) ? Files.readString(p) : "";
    } catch (IOException e) {
      return ""; // a process or cgroup that went away while being read
    }
  }
}
