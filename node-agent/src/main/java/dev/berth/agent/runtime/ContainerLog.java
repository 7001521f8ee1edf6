package dev.berth.agent.runtime;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A reader of one container's log files that can follow them ({@code logs -f}) across the monitor's
 * rotations. The current file is held open by descriptor, so when the monitor renames it to {@code .1} the
 * reader first drains it and then moves to the new current file from its start: no line is lost or read
 * twice (unless more than a whole rotation cycle passes between two polls, when the oldest are gone).
 *
 * <p>Not thread-safe: one reader, one thread. Errors: {@link IOException} from reading.
 */
public final class ContainerLog implements LogReader {
  private final Path dir;
  private final Path current;
  private final CriLines parser = new CriLines();
  private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
  private final ByteBuffer buffer = ByteBuffer.allocate(64 << 10);
  private FileChannel channel;
  private Object key;

  ContainerLog(Path dir) {
    this.dir = dir;
    this.current = dir.resolve("container.log");
  }

  @Override
  public List<LogLine> existing() throws IOException {
    openCurrent();
    List<LogLine> lines = new ArrayList<>();
    List<Path> rotated = new ArrayList<>();
    for (int i = 1; Files.exists(dir.resolve("container.log." + i)); i++) {
      rotated.add(0, dir.resolve("container.log." + i));
    }
    for (Path f : rotated) {
      try {
        // the file we hold open may have been rotated since: it is read through the descriptor below
        if (key != null && key.equals(fileKey(f))) {
          continue;
        }
        for (String record : Files.readAllLines(f)) {
          parser.add(record).ifPresent(lines::add);
        }
      } catch (NoSuchFileException e) {
        // rotated away meanwhile: the oldest lines are gone
      }
    }
    lines.addAll(poll());
    return lines;
  }

  @Override
  public List<LogLine> poll() throws IOException {
    List<LogLine> lines = new ArrayList<>();
    if (channel == null && !openCurrent()) {
      return lines;
    }
    drain(lines);
    Object now = fileKeyOrNull(current);
    if (now != null && !now.equals(key)) { // rotated: finish the old file, continue with the new one
      drain(lines); // what the monitor wrote between our read and its rename
      channel.close();
      channel = null;
      if (openCurrent()) {
        drain(lines);
      }
    }
    return lines;
  }

  private boolean openCurrent() throws IOException {
    try {
      channel = FileChannel.open(current, StandardOpenOption.READ);
      key = Objects.requireNonNullElse(fileKeyOrNull(current), "");
      return true;
    } catch (NoSuchFileException e) {
      return false; // the monitor has not created it yet
    }
  }

  private void drain(List<LogLine> out) throws IOException {
    while (true) {
      buffer.clear();
      int n = channel.read(buffer);
      if (n <= 0) {
        return;
      }
      byte[] b = buffer.array();
      int start = 0;
      for (int i = 0; i < n; i++) {
        if (b[i] == '\n') {
          partial.write(b, start, i - start);
          parser.add(partial.toString(StandardCharsets.UTF_8)).ifPresent(out::add);
          partial.reset();
          start = i + 1;
        }
      }
      partial.write(b, start, n - start); // a record the monitor is still writing
    }
  }

  private static Object fileKey(Path p) throws IOException {
    return Files.readAttributes(p, BasicFileAttributes.class).fileKey();
  }

  private static Object fileKeyOrNull(Path p) throws IOException {
    try {
      return fileKey(p);
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  @Override
  public void close() throws IOException {
    if (channel != null) {
      channel.close();
      channel = null;
    }
  }
}
