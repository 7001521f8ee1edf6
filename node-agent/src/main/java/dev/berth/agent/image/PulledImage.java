package dev.berth.agent.image;

import dev.berth.registry.Digest;
import dev.berth.registry.ImageReference;
import java.nio.file.Path;
import java.util.List;

/**
 * An image ready to run: every blob verified and every layer unpacked.
 *
 * @param reference      the reference pulled, pinned to {@code digest}
 * @param digest         the digest that names the image (the index's when the reference named an index);
 *                       what the manager pins and what {@link ImageService#gc} takes as "in use"
 * @param manifestDigest the linux/amd64 image manifest's digest (equals digest when there was no index)
 * @param config         the image config
 * @param lowerDirs      overlayfs lower dirs, top layer first (the order of the {@code lowerdir=} option)
 */
public record PulledImage(ImageReference reference, Digest digest, Digest manifestDigest, ImageConfig config,
                          List<Path> lowerDirs) {
}
