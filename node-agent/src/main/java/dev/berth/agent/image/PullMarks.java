package dev.berth.agent.image;

import dev.berth.registry.Digest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * When each image (by its top digest, as pulled) was last pulled or used to start a container: one empty file per
 * image under {@code ROOT/pulled/}, its modification time set from the injected clock. Files, not a JSON map, so
 * that marking is one syscall with no rewrite and the record survives agent restarts as is.
 *
 * <p>Thread-safe (each operation is one file-system call on a file of its own).
 */
final class PullMarks {
    private final Path dir;

    PullMarks(Path root) throws IOException {
        this.dir = root.resolve("pulled");
        Files.createDirectories(dir);
    }

    void touch(Digest image, Instant when) throws IOException {
        Path f = dir.resolve(image.hex());
        if (!Files.exists(f)) {
            Files.createFile(f);
        }
        Files.setLastModifiedTime(f, FileTime.from(when));
    }

    Map<Digest, Instant> all() throws IOException {
        Map<Digest, Instant> out = new HashMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path f : s.toList()) {
                String name = f.getFileName().toString();
                if (name.matches("[0-9a-f]{64}")) {
                    try {
                        out.put(new Digest(name), Files.getLastModifiedTime(f).toInstant());
                    } catch (NoSuchFileException gone) {
                        // removed by a concurrent forget
                    }
                }
            }
        }
        return out;
    }

    void forget(Digest image) throws IOException {
        Files.deleteIfExists(dir.resolve(image.hex()));
    }
}
