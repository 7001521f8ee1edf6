package dev.berth.agent.runtime;

import dev.berth.agent.fs.FileTrees;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * One container's state directory: the launch config the agent writes, and the records the
 * monitor writes (monitor and init pid + start time, exit, logs). The monitor writes each record
 * atomically (rename), so a reader sees it whole or not at all. Stateless apart from the path.
 */
final class ContainerDir {
  /** A process named by pid plus start time (/proc/PID/stat field 22): unique for the host's uptime. */
  record PidRecord(long pid, long startTime) {
    boolean alive() {
      return ContainerDir.startTime(pid).orElse(-1) == startTime;
    }
  }

  final Path dir;

  ContainerDir(Path dir) {
    this.dir = dir;
  }

  Path upper() {
    return dir.resolve("upper");
  }

  Path work() {
    return dir.resolve("work");
  }

  Path rootfs() {
    return dir.resolve("rootfs");
  }

  Path log() {
    return dir.resolve("container.log");
  }

  /** The launcher's input: NUL-separated key/value pairs (keys repeat for lists). */
  /**
   * Files the agent gives the container (resolv.conf, hosts) go into the overlay's upper dir, where
   * they shadow the image's copies (even a symlink there) without touching the shared layers.
   */
  void writeRootFiles(Map<String, String> files) throws IOException {
    for (Map.Entry<String, String> f : files.entrySet()) {
      Path target = upper().resolve(f.getKey().substring(1));
      Files.createDirectories(target.getParent());
      Files.writeString(target, f.getValue());
    }
  }

  void writeConfig(List<Map.Entry<String, String>> entries) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (Map.Entry<String, String> e : entries) {
      for (String s : List.of(e.getKey(), e.getValue())) {
        if (s.indexOf('\0') >= 0) {
          throw new ContainerRuntimeException(ContainerRuntimeException.Reason.INVALID_CONFIG,
              "config value for '" + e.getKey() + "' contains a NUL byte");
        }
        out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
        out.write(0);
      }
    }
    Files.write(dir.resolve("config"), out.toByteArray());
  }

  /** The overlay lower dirs (image layers) named in the launch config; empty if it was never written. */
  List<Path> lowerDirs() throws IOException {
    Path config = dir.resolve("config");
    if (!Files.exists(config)) {
      return List.of();
    }
    String[] parts = new String(Files.readAllBytes(config), StandardCharsets.UTF_8).split("\0", -1);
    List<Path> out = new java.util.ArrayList<>();
    for (int i = 0; i + 1 < parts.length; i += 2) {
      if (parts[i].equals("lower")) {
        out.add(Path.of(parts[i + 1]));
      }
    }
    return out;
  }

  Optional<PidRecord> pidRecord(String name) {
    try {
      String[] f = Files.readString(dir.resolve(name)).trim().split("\\s+");
      return Optional.of(new PidRecord(Long.parseLong(f[0]), Long.parseLong(f[1])));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException | RuntimeException e) {
      throw new ContainerRuntimeException(ContainerRuntimeException.Reason.HOST_ERROR,
          "corrupt " + name + " record in " + dir + ": " + e.getMessage(), e);
    }
  }

  Optional<Instant> initRecordTime() {
    try {
      return Optional.of(Files.getLastModifiedTime(dir.resolve("init")).toInstant());
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  Optional<ExitStatus> exit() {
    Map<String, String> kv = new HashMap<>();
    try {
      for (String line : Files.readAllLines(dir.resolve("exit"))) {
        int eq = line.indexOf('=');
        if (eq > 0) {
          kv.put(line.substring(0, eq), line.substring(eq + 1));
        }
      }
      long ns = Long.parseLong(kv.get("finished_at_ns"));
      return Optional.of(new ExitStatus(Integer.parseInt(kv.get("exit_code")), Integer.parseInt(kv.get("signal")),
          "1".equals(kv.get("oom_killed")), Instant.ofEpochSecond(ns / 1_000_000_000L, ns % 1_000_000_000L),
          Optional.ofNullable(kv.get("error"))));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException | RuntimeException e) {
      throw new ContainerRuntimeException(ContainerRuntimeException.Reason.HOST_ERROR,
          "corrupt exit record in " + dir + ": " + kv + " " + e.getMessage(), e);
    }
  }

  /** All logged lines, oldest first (rotated files container.log.N … .1, then the current one). */
  List<LogLine> logs() {
    List<Path> files = new ArrayList<>();
    for (int i = 1; Files.exists(dir.resolve("container.log." + i)); i++) {
      files.add(0, dir.resolve("container.log." + i));
    }
    files.add(log());
    List<LogLine> lines = new ArrayList<>();
    CriLines parser = new CriLines();
    for (Path f : files) {
      List<String> raw;
      try {
        raw = Files.readAllLines(f);
      } catch (NoSuchFileException e) {
        continue;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      for (String l : raw) {
        parser.add(l).ifPresent(lines::add);
      }
    }
    return lines;
  }

  /** Deletes the directory tree without following symlinks (the upper dir holds container-made files). */
  void delete() throws IOException {
    FileTrees.deleteTree(dir);
  }

  static OptionalLong startTime(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      // comm (field 2) may contain spaces and ')': fields 3.. start after the last ')'
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return OptionalLong.of(Long.parseLong(f[22 - 3]));
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    }
  }
}
