package dev.berth.agent.image;

import dev.berth.registry.ImageException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Runs the native {@code berth-fsutil} helper (src/main/native/fsutil) for what the JDK cannot do: mknod
 * (overlayfs whiteouts, devices, fifos) and xattrs outside {@code user.*} (overlayfs' {@code trusted.overlay.opaque},
 * {@code security.capability}). One helper process per batch; a layer needing none of this starts none.
 *
 * <p>Thread-safe (stateless apart from the helper's path). Failures are {@link ImageException}s of kind
 * LOCAL_IO carrying the helper's own message.
 */
final class FsUtil {
    /** System property naming a prebuilt helper, overriding the copy inside the jar. */
    static final String PATH_PROPERTY = "berth.fsutil";

    private final Path binary;

    private FsUtil(Path binary) {
        this.binary = binary;
    }

    /** Finds the helper: the system property, the build output, or a copy extracted from the jar into binDir. */
    static FsUtil locate(Path binDir) throws IOException {
        String override = System.getProperty(PATH_PROPERTY);
        if (override != null && !override.isEmpty()) {
            return new FsUtil(Path.of(override));
        }
        URL url = FsUtil.class.getResource("berth-fsutil");
        if (url == null) {
            throw new IOException("berth-fsutil helper missing from the build (set -D" + PATH_PROPERTY + ")");
        }
        if (url.getProtocol().equals("file")) {
            try {
                return new FsUtil(Path.of(url.toURI()));
            } catch (URISyntaxException e) {
                throw new IOException(e);
            }
        }
        Files.createDirectories(binDir);
        Path target = binDir.resolve("berth-fsutil");
        Path tmp = Files.createTempFile(binDir, "berth-fsutil", ".tmp");
        try (InputStream in = url.openStream()) {
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        }
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return new FsUtil(target);
    }

    /** A batch of operations below one root, applied in order by {@link #apply}. */
    static final class Batch {
        private final List<List<String>> records = new ArrayList<>();

        void mknod(String relPath, int modeWithType, long major, long minor, long uid, long gid, long mtimeSec) {
            records.add(List.of("mknod", relPath, Integer.toOctalString(modeWithType), Long.toString(major),
                    Long.toString(minor), Long.toString(uid), Long.toString(gid), Long.toString(Math.max(0, mtimeSec))));
        }

        void xattr(String relPath, String name, byte[] value) {
            records.add(List.of("xattr", relPath, name, HexFormat.of().formatHex(value)));
        }

        /** Drops queued operations on relPath or below it (a later tar entry replaced it). */
        void forget(String relPath) {
            records.removeIf(r -> r.get(1).equals(relPath) || r.get(1).startsWith(relPath + "/"));
        }

        boolean isEmpty() {
            return records.isEmpty();
        }

        boolean touches(String relPath) {
            return records.stream().anyMatch(r -> r.get(1).equals(relPath));
        }
    }

    void apply(Path root, Batch batch) throws ImageException {
        if (batch.isEmpty()) {
            return;
        }
        try {
            Process p = new ProcessBuilder(binary.toString(), root.toString()).redirectErrorStream(true).start();
            ByteArrayOutputStream output = new ByteArrayOutputStream();
            Thread reader = new Thread(() -> {
                try (InputStream in = p.getInputStream()) {
                    in.transferTo(output);
                } catch (IOException ignored) {
                    // the exit status reports the failure
                }
            }, "berth-fsutil-output");
            reader.start();
            try (OutputStream out = p.getOutputStream()) {
                for (List<String> r : batch.records) {
                    for (String field : r) {
                        out.write(field.getBytes(StandardCharsets.UTF_8));
                        out.write(0);
                    }
                }
            } catch (IOException e) {
                // the helper exited early; its message below says why
            }
            int rc = p.waitFor();
            reader.join();
            if (rc != 0) {
                throw new ImageException(ImageException.Kind.LOCAL_IO,
                        output.toString(StandardCharsets.UTF_8).trim() + " (berth-fsutil exit " + rc + ")");
            }
            batch.records.clear();
        } catch (IOException e) {
            throw new ImageException(ImageException.Kind.LOCAL_IO, "cannot run " + binary + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ImageException(ImageException.Kind.LOCAL_IO, "interrupted while running berth-fsutil", e);
        }
    }
}
