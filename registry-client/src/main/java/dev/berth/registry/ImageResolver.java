package dev.berth.registry;

import com.google.gson.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Pins an image reference to content, as the manager does when a service is created or its image changes:
 * the digest of the manifest (or index) the registry serves for the tag, and the platforms that content runs
 * on (from the index entries, or from a single image's config). One GET of the manifest, plus one small
 * config blob for a single-platform image; nothing is stored.
 *
 * <p>Thread-safe (the {@link RegistryClient} is). Errors are the client's {@link ImageException}s, naming
 * the registry and image; a config blob whose bytes do not hash to its digest is a DIGEST_MISMATCH.
 */
public final class ImageResolver {
    /** A config blob is a few KiB; refuse to buffer an absurd one. */
    private static final int MAX_CONFIG_BYTES = 1 << 20;

    /**
     * What a reference resolved to.
     *
     * @param reference the reference as given, normalized and pinned: {@code registry/repo:tag@sha256:...}
     * @param platforms "os/architecture[/variant]" the content offers, in index order, without duplicates;
     *                  empty when the registry does not say (e.g. a config without os)
     */
    public record Resolution(ImageReference reference, Digest digest, List<String> platforms) {
    }

    private final RegistryClient client;

    public ImageResolver(RegistryClient client) {
        this.client = client;
    }

    public Resolution resolve(String reference, RegistryCredentials creds) throws ImageException {
        ImageReference ref = ImageReference.parse(reference);
        RegistryClient.FetchedManifest fm = client.manifest(ref, ref.manifestReference(), creds);
        Manifest m = Manifest.parse(fm.body(), fm.contentType(), ref.toString());
        Set<String> platforms = new LinkedHashSet<>();
        if (m instanceof Manifest.Index index) {
            for (Descriptor d : index.manifests()) {
                // BuildKit lists attestation manifests as "unknown/unknown": not something a node runs.
                if (d.platform() != null && !d.platform().startsWith("unknown/")) {
                    platforms.add(d.platform());
                }
            }
        } else if (m instanceof Manifest.Image image) {
            String p = configPlatform(ref, image.config(), creds);
            if (!p.isEmpty()) {
                platforms.add(p);
            }
        }
        return new Resolution(ref.withDigest(fm.digest()), fm.digest(), List.copyOf(new ArrayList<>(platforms)));
    }

    private String configPlatform(ImageReference ref, Descriptor cfg, RegistryCredentials creds) throws ImageException {
        if (cfg.size() > MAX_CONFIG_BYTES) {
            throw new ImageException(ImageException.Kind.INVALID, "config of " + ref + " declares "
                    + cfg.size() + " bytes, more than a config can sensibly be");
        }
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try {
            client.blob(ref, cfg.digest(), creds, new CappedStream(buf, MAX_CONFIG_BYTES));
        } catch (IOException e) {
            throw new ImageException(ImageException.Kind.INVALID, "config of " + ref + ": " + e.getMessage(), e);
        }
        byte[] bytes = buf.toByteArray();
        Digest actual = Digest.of(bytes);
        if (!actual.equals(cfg.digest())) {
            throw ImageException.digestMismatch("config of " + ref, cfg.digest(), actual);
        }
        JsonObject o = Json.object(bytes, "config of " + ref);
        String os = Json.string(o, "os", "");
        String arch = Json.string(o, "architecture", "");
        if (os.isEmpty() && arch.isEmpty()) {
            return "";
        }
        String variant = Json.string(o, "variant", "");
        return os + "/" + arch + (variant.isEmpty() ? "" : "/" + variant);
    }

    /** Fails the download once more than {@code limit} bytes arrive (a registry cannot make us buffer GiBs). */
    private static final class CappedStream extends OutputStream {
        private final OutputStream out;
        private final long limit;
        private long written;

        CappedStream(OutputStream out, long limit) {
            this.out = out;
            this.limit = limit;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            written += len;
            if (written > limit) {
                throw new IOException("more than " + limit + " bytes");
            }
            out.write(b, off, len);
        }
    }
}
