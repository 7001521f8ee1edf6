package dev.berth.agent.image;

import dev.berth.registry.Digest;
import dev.berth.registry.ImageException;
import dev.berth.agent.fs.FileTrees;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileTime;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.Base64;
import java.util.Deque;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * Unpacks one layer tar (plain, gzip or zstd, detected from its first bytes as containerd does) into an empty
 * directory, turning OCI whiteouts into overlayfs ones: {@code .wh.NAME} becomes a 0/0 character device NAME,
 * {@code .wh..wh..opq} the {@code trusted.overlay.opaque=y} xattr on its directory. Keeps modes (with
 * setuid/setgid/sticky), owners, mtimes, symlinks, hardlinks, devices, fifos and xattrs; long names come from
 * PAX/GNU headers (Commons Compress).
 *
 * <p>Refuses, with INVALID and the entry's name, any entry that would land outside the root: absolute names,
 * names climbing out with "..", names whose parent passes through a symlink (an earlier {@code a -> /etc}
 * then {@code a/passwd}), and hardlinks to such targets. The caller discards the partial directory.
 *
 * <p>Returns the diff id (sha256 of the uncompressed tar), which the caller checks against the image config.
 * Stateless apart from the helper; safe to use from several threads on different targets.
 */
final class LayerUnpacker {
    private static final String WHITEOUT = ".wh.";
    private static final String OPAQUE = ".wh..wh..opq";
    private static final int S_IFCHR = 0020000;
    private static final int S_IFBLK = 0060000;
    private static final int S_IFIFO = 0010000;

    private final FsUtil fsutil;

    LayerUnpacker(FsUtil fsutil) {
        this.fsutil = fsutil;
    }

    Digest unpack(InputStream blob, Path root, String what) throws ImageException {
        MessageDigest hasher = Digest.newHasher();
        try (InputStream raw = new DigestInputStream(decompress(new BufferedInputStream(blob, 64 * 1024), what), hasher)) {
            new Run(root, what).extract(raw);
            raw.transferTo(java.io.OutputStream.nullOutputStream()); // tar padding after the end marker counts too
        } catch (IOException e) {
            throw new ImageException(ImageException.Kind.INVALID, what + ": cannot read layer: " + e.getMessage(), e);
        }
        return Digest.fromHash(hasher.digest());
    }

    private static InputStream decompress(BufferedInputStream in, String what) throws IOException, ImageException {
        in.mark(4);
        byte[] magic = in.readNBytes(4);
        in.reset();
        if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
            return GzipCompressorInputStream.builder().setInputStream(in).setDecompressConcatenated(true).get();
        }
        if (magic.length == 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5
                && (magic[2] & 0xff) == 0x2f && (magic[3] & 0xff) == 0xfd) {
            return new io.airlift.compress.zstd.ZstdInputStream(in);
        }
        return in;
    }

    /** State of one extraction. */
    private final class Run {
        private final Path root;
        private final String what;
        private final FsUtil.Batch nativeOps = new FsUtil.Batch();
        /**
         * Parent paths already checked to be real directories in this run. Only this run's own later entries
         * can change them, and those go through {@link #removeExisting}, which evicts.
         */
        private final java.util.Set<Path> knownDirs = new java.util.HashSet<>();
        /** Directories whose mtime is set last, since creating their children changes it. */
        private final Deque<Map.Entry<Path, FileTime>> dirTimes = new ArrayDeque<>();

        Run(Path root, String what) {
            this.root = root;
            this.what = what;
        }

        void extract(InputStream tarStream) throws IOException, ImageException {
            // A layer's root may be exposed to non-root container users: tar's "./" entry, if any, refines this.
            Files.setAttribute(root, "unix:mode", 0755);
            TarArchiveInputStream tar = new TarArchiveInputStream(tarStream, StandardCharsets.UTF_8.name());
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                entry(tar, e);
            }
            fsutil.apply(root, nativeOps);
            while (!dirTimes.isEmpty()) {
                Map.Entry<Path, FileTime> d = dirTimes.removeLast();
                Files.getFileAttributeView(d.getKey(), BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                        .setTimes(d.getValue(), null, null);
            }
        }

        private void entry(TarArchiveInputStream tar, TarArchiveEntry e) throws IOException, ImageException {
            String rel = clean(e.getName());
            if (rel.isEmpty()) {
                if (e.isDirectory()) {
                    metadata(root, e, false);
                }
                return;
            }
            int slash = rel.lastIndexOf('/');
            String parentRel = slash < 0 ? "" : rel.substring(0, slash);
            String base = rel.substring(slash + 1);
            Path parent = parentDir(parentRel, e.getName());
            if (base.equals(OPAQUE)) {
                nativeOps.xattr(parentRel.isEmpty() ? "." : parentRel, "trusted.overlay.opaque", new byte[] {'y'});
                return;
            }
            if (base.startsWith(WHITEOUT + WHITEOUT)) {
                return; // other aufs metadata (.wh..wh.plnk etc.) has no meaning for overlayfs
            }
            if (base.startsWith(WHITEOUT)) {
                String hidden = base.substring(WHITEOUT.length());
                if (hidden.isEmpty() || hidden.equals(".") || hidden.equals("..")) {
                    throw invalid(e.getName(), "whiteout of '" + hidden + "'");
                }
                String victim = (parentRel.isEmpty() ? "" : parentRel + "/") + hidden;
                removeExisting(parent.resolve(hidden), victim);
                nativeOps.mknod(victim, S_IFCHR, 0, 0, 0, 0, mtime(e));
                return;
            }
            Path p = parent.resolve(base);
            if (e.isDirectory()) {
                if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    removeExisting(p, rel);
                    Files.createDirectory(p);
                }
                metadata(p, e, false);
                xattrs(rel, e, false);
                dirTimes.add(Map.entry(p, FileTime.fromMillis(e.getModTime().getTime())));
                return;
            }
            removeExisting(p, rel);
            if (e.isSymbolicLink()) {
                Files.createSymbolicLink(p, Path.of(e.getLinkName()));
                metadata(p, e, true);
                xattrs(rel, e, true);
            } else if (e.isLink()) {
                String targetRel = clean(e.getLinkName());
                int ts = targetRel.lastIndexOf('/');
                Path target = parentDir(ts < 0 ? "" : targetRel.substring(0, ts), e.getLinkName())
                        .resolve(targetRel.substring(ts + 1));
                if (nativeOps.touches(targetRel)) {
                    fsutil.apply(root, nativeOps); // the target is a device or fifo not made yet
                }
                if (targetRel.isEmpty() || !Files.exists(target, LinkOption.NOFOLLOW_LINKS)
                        || Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                    throw invalid(e.getName(), "hardlink to '" + e.getLinkName() + "', which is not a file of this layer");
                }
                Files.createLink(p, target);
            } else if (e.isCharacterDevice() || e.isBlockDevice() || e.isFIFO()) {
                int type = e.isCharacterDevice() ? S_IFCHR : e.isBlockDevice() ? S_IFBLK : S_IFIFO;
                nativeOps.mknod(rel, type | (e.getMode() & 07777), e.getDevMajor(), e.getDevMinor(),
                        e.getLongUserId(), e.getLongGroupId(), mtime(e));
                xattrs(rel, e, false);
            } else if (e.isFile()) {
                Files.copy(tar, p);
                metadata(p, e, false);
                xattrs(rel, e, false);
            } else {
                throw invalid(e.getName(), "unsupported tar entry type '" + (char) e.getLinkFlag() + "'");
            }
        }

        /**
         * Normalizes an entry name to a relative path without "." or ".." components, refusing names that are
         * absolute or climb out of the root.
         */
        private String clean(String name) throws ImageException {
            if (name.startsWith("/")) {
                throw invalid(name, "absolute path");
            }
            Deque<String> parts = new ArrayDeque<>();
            for (String part : name.split("/")) {
                if (part.isEmpty() || part.equals(".")) {
                    continue;
                }
                if (part.equals("..")) {
                    if (parts.isEmpty()) {
                        throw invalid(name, "path climbs out of the layer root with '..'");
                    }
                    parts.removeLast();
                } else {
                    parts.addLast(part);
                }
            }
            return String.join("/", parts);
        }

        /** The parent directory, created if missing; refuses a parent path that passes through a symlink. */
        private Path parentDir(String parentRel, String entryName) throws IOException, ImageException {
            Path dir = root;
            if (parentRel.isEmpty()) {
                return dir;
            }
            for (String part : parentRel.split("/")) {
                dir = dir.resolve(part);
                if (knownDirs.contains(dir)) {
                    continue;
                }
                if (Files.isSymbolicLink(dir)) {
                    throw invalid(entryName, "path passes through symlink '" + root.relativize(dir) + "' -> '"
                            + Files.readSymbolicLink(dir) + "' (could escape the layer root)");
                }
                if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                    Files.createDirectory(dir);
                    Files.setAttribute(dir, "unix:mode", 0755);
                } else if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                    throw invalid(entryName, "parent '" + root.relativize(dir) + "' is not a directory");
                }
                knownDirs.add(dir);
            }
            return dir;
        }

        private void removeExisting(Path p, String rel) throws IOException {
            nativeOps.forget(rel);
            if (knownDirs.remove(p)) {
                knownDirs.removeIf(d -> d.startsWith(p)); // only a directory known as a parent can have known children
            }
            if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                return;
            }
            if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                dirTimes.removeIf(d -> d.getKey().startsWith(p));
                FileTrees.deleteTree(p);
            } else {
                Files.delete(p);
            }
        }

        private void metadata(Path p, TarArchiveEntry e, boolean symlink) throws IOException {
            // One lstat, then only the changes needed: most entries are root-owned 0644/0755 already.
            Map<String, Object> now = Files.readAttributes(p, "unix:uid,gid,mode", LinkOption.NOFOLLOW_LINKS);
            int uid = (int) e.getLongUserId();
            int gid = (int) e.getLongGroupId();
            boolean chowned = false;
            if ((Integer) now.get("uid") != uid) {
                Files.setAttribute(p, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
                chowned = true;
            }
            if ((Integer) now.get("gid") != gid) {
                Files.setAttribute(p, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
                chowned = true;
            }
            if (!symlink) {
                int mode = e.getMode() & 07777;
                if (chowned || ((Integer) now.get("mode") & 07777) != mode) {
                    Files.setAttribute(p, "unix:mode", mode); // after chown, which clears setuid/setgid
                }
                Files.getFileAttributeView(p, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                        .setTimes(FileTime.fromMillis(e.getModTime().getTime()), null, null);
            }
        }

        /** PAX xattrs (SCHILY.xattr.*, LIBARCHIVE.xattr.* base64), queued for the helper. */
        private void xattrs(String rel, TarArchiveEntry e, boolean symlink) throws ImageException {
            for (Map.Entry<String, String> h : e.getExtraPaxHeaders().entrySet()) {
                String name;
                byte[] value;
                if (h.getKey().startsWith("SCHILY.xattr.")) {
                    name = h.getKey().substring("SCHILY.xattr.".length());
                    // Commons Compress decodes PAX values as UTF-8: a value that did not survive that is skipped
                    // rather than written corrupted.
                    if (h.getValue().indexOf('\uFFFD') >= 0) {
                        continue;
                    }
                    value = h.getValue().getBytes(StandardCharsets.UTF_8);
                } else if (h.getKey().startsWith("LIBARCHIVE.xattr.")) {
                    name = java.net.URLDecoder.decode(h.getKey().substring("LIBARCHIVE.xattr.".length()), StandardCharsets.UTF_8);
                    try {
                        value = Base64.getDecoder().decode(h.getValue());
                    } catch (IllegalArgumentException ex) {
                        throw invalid(e.getName(), "bad base64 in xattr " + name);
                    }
                } else {
                    continue;
                }
                boolean allowed = name.startsWith("security.") || name.startsWith("trusted.")
                        || (name.startsWith("user.") && !symlink);
                if (allowed && !name.startsWith("trusted.overlay.")) {
                    nativeOps.xattr(rel, name, value);
                }
            }
        }

        private long mtime(TarArchiveEntry e) {
            return e.getModTime().getTime() / 1000;
        }

        private ImageException invalid(String entry, String why) {
            return new ImageException(ImageException.Kind.INVALID,
                    what + ": refused tar entry '" + entry + "': " + why);
        }
    }
}
