package dev.berth.agent.image;

import dev.berth.registry.Digest;
import dev.berth.registry.ImageException;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Content-addressed blob store: {@code ROOT/blobs/sha256/<hex>}. A blob appears under its name only after its
 * bytes hashed to that name: content is written to {@code ROOT/tmp}, verified, fsynced and atomically renamed,
 * so a crash or a bad download never leaves a blob that could be used. Concurrent requests for one missing
 * blob share a single fetch (an in-flight map of futures).
 *
 * <p>Thread-safe. Errors are {@link ImageException}s; a waiter on a shared fetch gets the fetcher's error.
 */
final class BlobStore {
    /** Writes a blob's bytes; called at most once per fetch. */
    interface Source {
        void writeTo(OutputStream out) throws IOException, ImageException;
    }

    private final Path blobs;
    private final Path tmp;
    private final ConcurrentHashMap<Digest, CompletableFuture<Path>> inFlight = new ConcurrentHashMap<>();

    BlobStore(Path root) throws IOException {
        this.blobs = root.resolve("blobs").resolve("sha256");
        this.tmp = root.resolve("tmp");
        Files.createDirectories(blobs);
        Files.createDirectories(tmp);
    }

    Path tmpDir() {
        return tmp;
    }

    Path path(Digest d) {
        return blobs.resolve(d.hex());
    }

    boolean has(Digest d) {
        return Files.isRegularFile(path(d));
    }

    byte[] read(Digest d) throws ImageException {
        try {
            return Files.readAllBytes(path(d));
        } catch (NoSuchFileException e) {
            throw new ImageException(ImageException.Kind.NOT_FOUND, "blob " + d + " is not in the local store");
        } catch (IOException e) {
            throw new ImageException(ImageException.Kind.LOCAL_IO, "reading blob " + d + ": " + e.getMessage(), e);
        }
    }

    /** Stores bytes already in memory under their digest (which must be {@code expected} when given). */
    Path put(byte[] content, Digest expected, String what) throws ImageException {
        Digest actual = Digest.of(content);
        if (expected != null && !expected.equals(actual)) {
            throw ImageException.digestMismatch(what, expected, actual);
        }
        return ensure(actual, content.length, what, out -> out.write(content));
    }

    /**
     * Returns the path of blob {@code d}, fetching it from {@code source} if absent.
     *
     * @param size expected size in bytes, or -1 if unknown; more bytes than this abort the fetch early
     */
    Path ensure(Digest d, long size, String what, Source source) throws ImageException {
        if (has(d)) {
            return path(d);
        }
        return Futures.shared(inFlight, d, () -> has(d) ? path(d) : fetch(d, size, what, source));
    }

    private Path fetch(Digest d, long size, String what, Source source) throws ImageException {
        Path part = null;
        try {
            part = Files.createTempFile(tmp, d.hex().substring(0, 12) + "-", ".partial");
            MessageDigest hasher = Digest.newHasher();
            long written;
            try (FileChannel ch = FileChannel.open(part, StandardOpenOption.WRITE);
                 Hashing out = new Hashing(java.nio.channels.Channels.newOutputStream(ch), hasher, size, d, what)) {
                source.writeTo(out);
                out.flush();
                ch.force(true);
                written = out.count;
            }
            Digest actual = Digest.fromHash(hasher.digest());
            if (!actual.equals(d)) {
                throw ImageException.digestMismatch(what, d, actual);
            }
            if (size >= 0 && written != size) {
                throw new ImageException(ImageException.Kind.DIGEST_MISMATCH, what + " (" + d + "): got " + written
                        + " bytes, its descriptor declares " + size + "; discarded");
            }
            try {
                Files.move(part, path(d), StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                throw new ImageException(ImageException.Kind.LOCAL_IO, "blob store tmp and blobs dirs must share a filesystem", e);
            }
            part = null;
            return path(d);
        } catch (IOException e) {
            throw new ImageException(ImageException.Kind.LOCAL_IO, "storing " + what + " (" + d + "): " + e.getMessage(), e);
        } finally {
            if (part != null) {
                try {
                    Files.deleteIfExists(part);
                } catch (IOException ignored) {
                    // tmp is swept at start-up
                }
            }
        }
    }

    Set<Digest> list() throws IOException {
        return digestsNamedIn(blobs);
    }

    /**
     * The sha256 digests that name entries of {@code dir} (blobs here, unpacked layers in {@link LayerStore}):
     * 64 hex characters; partial downloads and work dirs have other names and are skipped.
     */
    static Set<Digest> digestsNamedIn(Path dir) throws IOException {
        Set<Digest> out = new HashSet<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.map(p -> p.getFileName().toString()).filter(n -> n.matches("[0-9a-f]{64}"))
                    .forEach(n -> out.add(new Digest(n)));
        }
        return out;
    }

    /** Returns the freed bytes. */
    long delete(Digest d) throws IOException {
        Path p = path(d);
        long size = Files.exists(p) ? Files.size(p) : 0;
        Files.deleteIfExists(p);
        return size;
    }

    /** Hashes and counts as it writes; refuses to write past the declared size. */
    private static final class Hashing extends FilterOutputStream {
        private final MessageDigest hasher;
        private final long limit;
        private final Digest d;
        private final String what;
        long count;

        Hashing(OutputStream out, MessageDigest hasher, long limit, Digest d, String what) {
            super(out);
            this.hasher = hasher;
            this.limit = limit;
            this.d = d;
            this.what = what;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (limit >= 0 && count + len > limit) {
                throw new IOException(what + " (" + d + ") is larger than the " + limit + " bytes its descriptor declares");
            }
            hasher.update(b, off, len);
            out.write(b, off, len);
            count += len;
        }
    }
}
