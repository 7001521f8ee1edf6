package dev.berth.agent.cgroup;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Small helpers that turn cgroupfs I/O failures into {@link CgroupException}s naming the file. */
final class CgroupFiles {
  private CgroupFiles() {}

  static void write(CgroupFs fs, Path file, String value) {
    try {
      fs.write(file, value);
    } catch (IOException e) {
      throw new CgroupException("writing '" + value + "' to " + file + ": " + e.getMessage(), e);
    }
  }

  /** Writes each value with its own write(2) to one open file (cgroupfs takes one rule per write). */
  static void writeEach(CgroupFs fs, Path file, List<String> values) {
    try {
      fs.writeEach(file, values);
    } catch (IOException e) {
      throw new CgroupException("writing " + values + " to " + file + ": " + e.getMessage(), e);
    }
  }

  static String read(CgroupFs fs, Path file) {
    try {
      return fs.read(file).trim();
    } catch (IOException e) {
      throw new CgroupException("reading " + file + ": " + e.getMessage(), e);
    }
  }

  static long readLong(CgroupFs fs, Path file) {
    String s = read(fs, file);
    try {
      return Long.parseLong(s);
    } catch (NumberFormatException e) {
      throw new CgroupException("unexpected content '" + s + "' in " + file);
    }
  }

  /** Value of {@code key} in a flat-keyed file (memory.stat, cpu.stat, memory.events), or 0. */
  static long keyed(CgroupFs fs, Path file, String key) {
    for (String line : read(fs, file).split("\n")) {
      String[] kv = line.trim().split("\\s+");
      if (kv.length == 2 && kv[0].equals(key)) {
        return Long.parseLong(kv[1]);
      }
    }
    return 0;
  }

  /**
   * Runs {@code setup} on a newly made cgroup and returns it; when setup fails, removes the cgroup
   * (a failure of that is added to the first as suppressed) and rethrows, so no half-set cgroup stays.
   */
  static ContainerCgroup removedOnFailure(ContainerCgroup cg, Runnable setup) {
    try {
      setup.run();
      return cg;
    } catch (RuntimeException e) {
      try {
        cg.remove();
      } catch (RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  static void mkdirIfAbsent(CgroupFs fs, Path dir) {
    if (fs.exists(dir)) {
      return;
    }
    try {
      fs.mkdir(dir);
    } catch (IOException e) {
      if (!fs.exists(dir)) {
        throw new CgroupException("creating cgroup " + dir + ": " + e.getMessage(), e);
      }
    }
  }

  static void rmdirIfPresent(CgroupFs fs, Path dir) {
    if (!fs.exists(dir)) {
      return;
    }
    try {
      fs.rmdir(dir);
    } catch (IOException e) {
      if (fs.exists(dir)) {
        throw new CgroupException("removing cgroup " + dir + " (processes or children left?): " + e.getMessage(), e);
      }
    }
  }
}
