package dev.berth.agent.fs;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * File-tree helpers shared by the image store and the container runtime. Stateless and thread-safe;
 * I/O failures are thrown as {@link IOException} naming the path.
 */
public final class FileTrees {
    private FileTrees() {
    }

    /**
     * Deletes a tree without following symlinks (layer and upper dirs hold image- or container-made links
     * that may point anywhere on the host). A missing tree is not an error.
     */
    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                if (exc != null) {
                    throw exc;
                }
                try {
                    Files.delete(d);
                } catch (DirectoryNotEmptyException e) {
                    throw new IOException("cannot delete " + d + ": still not empty", e);
                }
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
