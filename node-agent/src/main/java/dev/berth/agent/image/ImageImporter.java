package dev.berth.agent.image;

import dev.berth.registry.Digest;
import dev.berth.registry.ImageException;
import dev.berth.registry.ImageReference;
import dev.berth.registry.Manifest;
import dev.berth.registry.Descriptor;
import dev.berth.registry.Json;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * Loads an OCI image-layout tar (plain or gzip: {@code oci-layout}, {@code index.json}, {@code blobs/sha256/*})
 * for hosts with no registry. Each blob is verified against its file name while streaming into the blob
 * store; then every image named in index.json must be complete (manifest, config, layers) or the import fails.
 *
 * <p>Names: an index entry's {@code io.containerd.image.name} annotation, else its
 * {@code org.opencontainers.image.ref.name} when that is a full reference ("app:1", "host/app:1"); a bare tag
 * ("1", as skopeo and umoci write) is put under {@code defaultName} ("app" → "app:1"). Entries with no name
 * and no default are refused, since nothing could refer to them.
 *
 * <p>One instance per import; not thread-safe (the blob store it writes to is).
 */
final class ImageImporter {
    private static final Pattern BLOB = Pattern.compile("blobs/sha256/([0-9a-f]{64})");
    private static final Pattern BARE_TAG = Pattern.compile("[\\w][\\w.-]{0,127}");

    private final BlobStore blobs;
    private final LocalRefs refs;

    ImageImporter(BlobStore blobs, LocalRefs refs) {
        this.blobs = blobs;
        this.refs = refs;
    }

    List<ImageReference> load(Path tarFile, String defaultName) throws ImageException {
        String what = "image layout " + tarFile;
        byte[] index = null;
        boolean layoutMarker = false;
        try (InputStream file = new BufferedInputStream(Files.newInputStream(tarFile), 64 * 1024)) {
            file.mark(2);
            int b0 = file.read();
            int b1 = file.read();
            file.reset();
            InputStream in = b0 == 0x1f && b1 == 0x8b ? GzipCompressorInputStream.builder().setInputStream(file).setDecompressConcatenated(true).get() : file;
            TarArchiveInputStream tar = new TarArchiveInputStream(in);
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                String name = e.getName().startsWith("./") ? e.getName().substring(2) : e.getName();
                if (!e.isFile()) {
                    continue;
                }
                if (name.equals("index.json")) {
                    index = tar.readNBytes(4 << 20);
                } else if (name.equals("oci-layout")) {
                    layoutMarker = true;
                } else {
                    var m = BLOB.matcher(name);
                    if (m.matches()) {
                        Digest d = new Digest(m.group(1));
                        TarArchiveInputStream body = tar;
                        blobs.ensure(d, e.getSize(), "blob " + d + " in " + what, out -> body.transferTo(out));
                    }
                }
            }
        } catch (NoSuchFileException e) {
            throw new ImageException(ImageException.Kind.NOT_FOUND, what + " does not exist");
        } catch (IOException e) {
            throw new ImageException(ImageException.Kind.INVALID, what + " is not a readable tar: " + e.getMessage(), e);
        }
        if (!layoutMarker || index == null) {
            throw new ImageException(ImageException.Kind.INVALID, what + " is not an OCI image layout (needs oci-layout and index.json)");
        }
        JsonObject idx = Json.object(index, what + " index.json");
        List<ImageReference> out = new ArrayList<>();
        if (idx.get("manifests") instanceof com.google.gson.JsonArray arr) {
            for (JsonElement el : arr) {
                Descriptor d = Descriptor.fromJson(el.getAsJsonObject(), what + " index.json");
                checkComplete(d.digest(), what);
                ImageReference ref = name(d, defaultName, what).withDigest(null);
                refs.put(ref, d.digest());
                out.add(ref);
            }
        }
        if (out.isEmpty()) {
            throw new ImageException(ImageException.Kind.INVALID, what + " lists no images in index.json");
        }
        return out;
    }

    private static ImageReference name(Descriptor d, String defaultName, String what) throws ImageException {
        String full = d.annotations().get("io.containerd.image.name");
        String refName = d.annotations().getOrDefault("org.opencontainers.image.ref.name", "");
        if (full == null && (refName.contains(":") || refName.contains("/"))) {
            full = refName;
        }
        if (full != null) {
            return ImageReference.parse(full);
        }
        if (defaultName == null || defaultName.isEmpty()) {
            throw new ImageException(ImageException.Kind.INVALID, what + ": image " + d.digest()
                    + " has no name (ref.name '" + refName + "'); give a name to import it under");
        }
        ImageReference base = ImageReference.parse(defaultName);
        if (!refName.isEmpty() && BARE_TAG.matcher(refName).matches()) {
            return new ImageReference(base.registry(), base.repository(), refName, null);
        }
        return base;
    }

    /** Every blob the image needs must have come with the tar. */
    private void checkComplete(Digest manifestDigest, String what) throws ImageException {
        requireBlob(manifestDigest, what);
        Manifest m = Manifest.parse(blobs.read(manifestDigest), null, what);
        if (m instanceof Manifest.Index index) {
            Descriptor chosen = index.select(what);
            requireBlob(chosen.digest(), what);
            m = Manifest.parse(blobs.read(chosen.digest()), null, what);
        }
        if (m instanceof Manifest.Image image) {
            requireBlob(image.config().digest(), what);
            for (Descriptor l : image.layers()) {
                requireBlob(l.digest(), what);
            }
        } else {
            throw new ImageException(ImageException.Kind.UNSUPPORTED, what + ": nested image index");
        }
    }

    private void requireBlob(Digest d, String what) throws ImageException {
        if (!blobs.has(d)) {
            throw new ImageException(ImageException.Kind.INVALID, what + " is missing blob " + d);
        }
    }
}
