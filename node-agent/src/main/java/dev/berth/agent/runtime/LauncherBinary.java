package dev.berth.agent.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;

/**
 * The native launcher ships in the agent's jar (built from src/main/native by Maven) and is
 * extracted into the agent's state dir at start, so the binary always matches this code.
 * (The launcher re-executes itself from a sealed memfd, so the extracted file is never what a
 * container could reach.)
 */
public final class LauncherBinary {
  static final String RESOURCE = "/native/berth-launcher";

  private LauncherBinary() {}

  /** Writes the launcher to {@code dir/berth-launcher} unless an identical copy is there; returns its path. */
  public static Path extract(Path dir) {
    try (InputStream in = LauncherBinary.class.getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new ContainerRuntimeException(ContainerRuntimeException.Reason.HOST_ERROR,
            "launcher resource " + RESOURCE + " is missing from the classpath (was the native build skipped?)");
      }
      byte[] bytes = in.readAllBytes();
      Files.createDirectories(dir);
      Path target = dir.resolve("berth-launcher");
      if (Files.isRegularFile(target) && Arrays.equals(Files.readAllBytes(target), bytes)) {
        return target;
      }
      Path tmp = Files.createTempFile(dir, ".berth-launcher", ".tmp");
      Files.write(tmp, bytes);
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      return target;
    } catch (IOException e) {
      throw new ContainerRuntimeException(ContainerRuntimeException.Reason.HOST_ERROR,
          "extracting the launcher into " + dir + ": " + e.getMessage(), e);
    }
  }
}
