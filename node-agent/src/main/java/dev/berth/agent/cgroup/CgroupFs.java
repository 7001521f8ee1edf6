package dev.berth.agent.cgroup;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * File operations on a cgroup filesystem. The host's cgroupfs enforces the kernel's rules; the
 * seam exists so the cgroup v2 code can be tested against a fake tree that enforces v2's rules
 * on a machine whose cgroups are v1.
 *
 * <p>Implementations are thread-safe as far as the underlying filesystem is. Every method
 * throws {@link IOException} carrying the kernel's (or fake's) refusal, e.g. EBUSY.
 */
public interface CgroupFs {
  void mkdir(Path dir) throws IOException;

  /** Removes an (empty of processes and children) cgroup directory. */
  void rmdir(Path dir) throws IOException;

  String read(Path file) throws IOException;

  void write(Path file, String value) throws IOException;

  /** {@link #write} of each value in turn; an implementation may keep the file open in between. */
  default void writeEach(Path file, List<String> values) throws IOException {
    for (String v : values) {
      write(file, v);
    }
  }

  boolean exists(Path path);

  /** Child cgroup directories of {@code dir}; empty if it does not exist. */
  List<Path> children(Path dir) throws IOException;
}
