package dev.berth.agent.cgroup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;

/** The real cgroup filesystem. Stateless and thread-safe. */
public final class HostCgroupFs implements CgroupFs {
  @Override
  public void mkdir(Path dir) throws IOException {
    Files.createDirectory(dir);
  }

  @Override
  public void rmdir(Path dir) throws IOException {
    // cgroupfs directories hold only kernel files; rmdir(2) removes them with the directory
    Files.delete(dir);
  }

  @Override
  public String read(Path file) throws IOException {
    return Files.readString(file);
  }

  @Override
  public void write(Path file, String value) throws IOException {
    // cgroupfs takes one value per write(2); no O_CREAT/O_TRUNC
    Files.writeString(file, value, StandardOpenOption.WRITE);
  }

  @Override
  public boolean exists(Path path) {
    return Files.exists(path);
  }

  @Override
  public List<Path> children(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(Files::isDirectory).sorted().toList();
    }
  }
}
