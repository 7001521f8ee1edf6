package dev.berth.agent.cgroup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
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

  /** One open, one write(2) per value: the kernel parses each write as one value (one device rule, say). */
  @Override
  public void writeEach(Path file, List<String> values) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      for (String v : values) {
        ByteBuffer b = ByteBuffer.wrap(v.getBytes(StandardCharsets.UTF_8));
        if (ch.write(b) != b.limit()) {
          throw new IOException("short write of '" + v + "'");
        }
      }
    }
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
