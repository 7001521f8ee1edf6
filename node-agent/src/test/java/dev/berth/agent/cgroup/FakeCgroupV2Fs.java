package dev.berth.agent.cgroup;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A cgroup v2 tree in a temp directory that enforces the kernel's rules the v2 code depends on:
 * a cgroup's controllers are those its parent enables in cgroup.subtree_control (interface files
 * exist only for those); a non-root cgroup cannot hold processes while it delegates controllers,
 * nor delegate while it holds processes; only available controllers can be enabled; rmdir fails
 * while children or processes remain; read-only files refuse writes; values are validated.
 */
final class FakeCgroupV2Fs implements CgroupFs {
  private static final Map<String, Map<String, String>> FILES = Map.of(
      "cpu", Map.of("cpu.max", "max 100000", "cpu.weight", "100", "cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0"),
      "memory", Map.of("memory.max", "max", "memory.swap.max", "max", "memory.current", "0",
          "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0", "memory.stat", "anon 0\ninactive_file 0"),
      "pids", Map.of("pids.max", "max", "pids.current", "0"),
      "io", Map.of("io.max", ""));
  private static final Set<String> READ_ONLY = Set.of("cgroup.controllers", "cgroup.events", "cpu.stat", "memory.current",
      "memory.events", "memory.stat", "pids.current");

  private final Path root;
  private final HostCgroupFs host = new HostCgroupFs();

  FakeCgroupV2Fs(Path root, String... rootControllers) throws IOException {
    this.root = root;
    Files.createDirectories(root);
    Files.writeString(root.resolve("cgroup.controllers"), String.join(" ", rootControllers));
    Files.writeString(root.resolve("cgroup.subtree_control"), "");
    Files.writeString(root.resolve("cgroup.procs"), "");
  }

  private static FileSystemException refuse(Path p, String why) {
    return new FileSystemException(p.toString(), null, why);
  }

  private static Set<String> words(String s) {
    Set<String> w = new LinkedHashSet<>(Arrays.asList(s.trim().split("\\s+")));
    w.remove("");
    return w;
  }

  private boolean isCgroup(Path dir) {
    return Files.isRegularFile(dir.resolve("cgroup.controllers"));
  }

  @Override
  public void mkdir(Path dir) throws IOException {
    Path parent = dir.getParent();
    if (!isCgroup(parent)) {
      throw new NoSuchFileException(parent.toString());
    }
    Files.createDirectory(dir);
    Set<String> controllers = words(Files.readString(parent.resolve("cgroup.subtree_control")));
    Files.writeString(dir.resolve("cgroup.controllers"), String.join(" ", controllers));
    Files.writeString(dir.resolve("cgroup.subtree_control"), "");
    Files.writeString(dir.resolve("cgroup.procs"), "");
    Files.writeString(dir.resolve("cgroup.events"), "populated 0\nfrozen 0");
    for (String c : controllers) {
      for (Map.Entry<String, String> f : FILES.getOrDefault(c, Map.of()).entrySet()) {
        Files.writeString(dir.resolve(f.getKey()), f.getValue());
      }
    }
  }

  @Override
  public void rmdir(Path dir) throws IOException {
    if (dir.equals(root)) {
      throw refuse(dir, "Device or resource busy (root cgroup)");
    }
    if (!children(dir).isEmpty()) {
      throw refuse(dir, "Device or resource busy (has child cgroups)");
    }
    if (!Files.readString(dir.resolve("cgroup.procs")).isBlank()) {
      throw refuse(dir, "Device or resource busy (has processes)");
    }
    try (Stream<Path> s = Files.list(dir)) {
      for (Path f : s.toList()) {
        Files.delete(f);
      }
    }
    Files.delete(dir);
  }

  @Override
  public String read(Path file) throws IOException {
    return host.read(file);
  }

  @Override
  public void write(Path file, String value) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new NoSuchFileException(file.toString()); // e.g. a controller file of an unavailable controller
    }
    String name = file.getFileName().toString();
    Path cg = file.getParent();
    boolean isRoot = cg.equals(root);
    if (READ_ONLY.contains(name)) {
      throw refuse(file, "Permission denied");
    }
    switch (name) {
      case "cgroup.subtree_control" -> {
        Set<String> available = words(Files.readString(cg.resolve("cgroup.controllers")));
        Set<String> enabled = words(Files.readString(file));
        for (String tok : words(value)) {
          String c = tok.substring(1);
          if (!available.contains(c) || (tok.charAt(0) != '+' && tok.charAt(0) != '-')) {
            throw refuse(file, "Invalid argument (" + tok + ")");
          }
          if (tok.charAt(0) == '+') {
            enabled.add(c);
          } else {
            enabled.remove(c);
          }
        }
        if (!isRoot && !enabled.isEmpty() && !Files.readString(cg.resolve("cgroup.procs")).isBlank()) {
          throw refuse(file, "Device or resource busy (no internal processes)");
        }
        Files.writeString(file, String.join(" ", enabled));
      }
      case "cgroup.procs" -> {
        if (!isRoot && !Files.readString(cg.resolve("cgroup.subtree_control")).isBlank()) {
          throw refuse(file, "Device or resource busy (no internal processes)");
        }
        Long.parseLong(value.trim());
        Files.writeString(file, Files.readString(file) + value.trim() + "\n");
      }
      case "cpu.max" -> {
        if (!value.matches("(max|\\d+) \\d+")) {
          throw refuse(file, "Invalid argument");
        }
        Files.writeString(file, value);
      }
      case "cpu.weight" -> {
        long w = Long.parseLong(value.trim());
        if (w < 1 || w > 10000) {
          throw refuse(file, "Invalid argument");
        }
        Files.writeString(file, value);
      }
      default -> {
        if (!value.matches("max|\\d+")) {
          throw refuse(file, "Invalid argument");
        }
        Files.writeString(file, value);
      }
    }
  }

  /** What the kernel would update by itself (statistics, counters). */
  void kernelSets(Path file, String content) throws IOException {
    Files.writeString(file, content);
  }

  // The tree is real directories: finding cgroups in it is the host's way.
  @Override
  public boolean exists(Path path) {
    return host.exists(path);
  }

  @Override
  public List<Path> children(Path dir) throws IOException {
    return host.children(dir);
  }
}
