package dev.berth.agent.session;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;

/**
 * Keeps the node id the cluster gave this agent in {@code STATE_DIR/node-id}, so a restarted agent
 * re-registers as the same node. Written atomically (temp file + rename) so a crash never leaves a torn id.
 *
 * <p>Thread model: not thread-safe; used from the event loop. Error contract: I/O errors are thrown as
 * {@link UncheckedIOException} naming the file; a file holding something that is not an id is refused.
 */
public final class NodeIdStore {
    private final Path file;

    public NodeIdStore(Path stateDir) {
        this.file = stateDir.resolve("node-id");
    }

    public Optional<String> load() {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            String id = Files.readString(file, StandardCharsets.UTF_8).strip();
            if (!id.matches("[A-Za-z0-9._-]{1,128}")) {
                throw new IllegalStateException(file + " does not hold a node id (remove it to join as a new node)");
            }
            return Optional.of(id);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    public void save(String nodeId) {
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling("node-id.tmp");
            Files.writeString(tmp, nodeId + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
