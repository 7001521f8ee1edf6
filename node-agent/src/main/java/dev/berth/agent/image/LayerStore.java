package dev.berth.agent.image;

import dev.berth.registry.Digest;
import dev.berth.registry.ImageException;
import dev.berth.agent.fs.FileTrees;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Unpacked layers, one directory per diff id ({@code ROOT/layers/sha256/<hex>}), each made once and shared as
 * an overlayfs lower dir by every container using it. A layer is unpacked into {@code ROOT/tmp}, its diff id
 * checked, then atomically renamed into place: a directory under its name is always complete. Concurrent
 * requests for one layer share one unpack.
 *
 * <p>Thread-safe. Errors are {@link ImageException}s; the partial directory of a failed unpack is removed.
 */
final class LayerStore {
    private final Path layers;
    private final Path tmp;
    private final BlobStore blobs;
    private final LayerUnpacker unpacker;
    private final ConcurrentHashMap<Digest, CompletableFuture<Path>> inFlight = new ConcurrentHashMap<>();
    private final AtomicLong unpacked = new AtomicLong();

    LayerStore(Path root, BlobStore blobs, LayerUnpacker unpacker) throws IOException {
        this.layers = root.resolve("layers").resolve("sha256");
        this.tmp = blobs.tmpDir();
        this.blobs = blobs;
        this.unpacker = unpacker;
        Files.createDirectories(layers);
    }

    /** The directory holding one subdirectory per unpacked layer. */
    Path root() {
        return layers;
    }

    Path path(Digest diffId) {
        return layers.resolve(diffId.hex());
    }

    boolean has(Digest diffId) {
        return Files.isDirectory(path(diffId), LinkOption.NOFOLLOW_LINKS);
    }

    /** Layers unpacked by this store since it was created. */
    long unpackCount() {
        return unpacked.get();
    }

    /** Returns the layer's directory, unpacking blob {@code blob} (already in the blob store) if needed. */
    Path ensure(Digest blob, Digest diffId, String what) throws ImageException {
        if (has(diffId)) {
            return path(diffId);
        }
        return Futures.shared(inFlight, diffId, () -> has(diffId) ? path(diffId) : unpack(blob, diffId, what));
    }

    private Path unpack(Digest blob, Digest diffId, String what) throws ImageException {
        Path work = null;
        try {
            work = Files.createTempDirectory(tmp, "layer-" + diffId.hex().substring(0, 12) + "-");
            Digest actual;
            try (InputStream in = Files.newInputStream(blobs.path(blob))) {
                actual = unpacker.unpack(in, work, what);
            }
            if (!actual.equals(diffId)) {
                throw new ImageException(ImageException.Kind.DIGEST_MISMATCH, what + ": uncompressed content hashes to "
                        + actual + " but the image config names diff id " + diffId + "; discarded");
            }
            Files.move(work, path(diffId), StandardCopyOption.ATOMIC_MOVE);
            work = null;
            unpacked.incrementAndGet();
            return path(diffId);
        } catch (IOException e) {
            throw new ImageException(ImageException.Kind.LOCAL_IO, what + ": unpacking failed: " + e.getMessage(), e);
        } finally {
            if (work != null) {
                try {
                    FileTrees.deleteTree(work);
                } catch (IOException ignored) {
                    // tmp is swept at start-up
                }
            }
        }
    }

    Set<Digest> list() throws IOException {
        return BlobStore.digestsNamedIn(layers);
    }

    /** Deletes an unpacked layer; returns the bytes freed. */
    long delete(Digest diffId) throws IOException {
        Path p = path(diffId);
        long size;
        try (Stream<Path> s = Files.walk(p)) {
            size = s.filter(f -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)).mapToLong(f -> f.toFile().length()).sum();
        }
        // Rename first so a crash mid-delete never leaves a partial layer under its real name.
        Path doomed = Files.createTempDirectory(tmp, "gc-");
        Files.move(p, doomed.resolve("layer"), StandardCopyOption.ATOMIC_MOVE);
        FileTrees.deleteTree(doomed);
        return size;
    }
}
