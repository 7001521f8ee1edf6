package dev.berth.agent.cgroup;

import java.nio.file.Path;
import java.util.List;

/**
 * The cgroup(s) of one container: one directory per v1 hierarchy, or one leaf on v2.
 * Thread-safe: methods only read or remove kernel state.
 */
public interface ContainerCgroup {
  String containerId();

  /** Directories whose {@code cgroup.procs} the launcher writes the container's init pid into. */
  List<Path> joinDirs();

  /** File with the cgroup's {@code oom_kill} counter (v1 memory.oom_control, v2 memory.events). */
  Path oomCounterFile();

  /** @throws CgroupException if the cgroup is gone or unreadable */
  CgroupUsage usage();

  /** Removes the cgroup directories; the processes in them must be gone. Idempotent. */
  void remove();
}
