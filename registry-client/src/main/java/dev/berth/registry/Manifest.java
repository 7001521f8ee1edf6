package dev.berth.registry;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** A parsed registry manifest: either an index (manifest list) or an image manifest. Immutable. */
public sealed interface Manifest permits Manifest.Index, Manifest.Image {

    String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    String DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    String DOCKER_V1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws";
    /** What we ask registries for, preferred first. */
    String ACCEPT = String.join(", ", OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST);
    Set<String> LAYER_TYPES = Set.of(
            "application/vnd.oci.image.layer.v1.tar",
            "application/vnd.oci.image.layer.v1.tar+gzip",
            "application/vnd.oci.image.layer.v1.tar+zstd",
            "application/vnd.oci.image.layer.nondistributable.v1.tar",
            "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
            "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
            "application/vnd.docker.image.rootfs.diff.tar",
            "application/vnd.docker.image.rootfs.diff.tar.gzip",
            "application/vnd.docker.image.rootfs.diff.tar.zstd",
            "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip");
    /** The platform Berth runs (containers execute natively on x86-64 Linux). */
    String PLATFORM = "linux/amd64";

    /** An image index / Docker manifest list. */
    record Index(List<Descriptor> manifests) implements Manifest {
        /** The linux/amd64 entry (any variant), or a clear error listing what the index offers. */
        public Descriptor select(String what) throws ImageException {
            List<String> offered = new ArrayList<>();
            for (Descriptor d : manifests) {
                if (d.platform() != null && (d.platform().equals(PLATFORM) || d.platform().startsWith(PLATFORM + "/"))) {
                    return d;
                }
                offered.add(d.platform() == null ? "unknown" : d.platform());
            }
            throw new ImageException(ImageException.Kind.UNSUPPORTED,
                    what + " has no " + PLATFORM + " image (index offers " + offered + ")");
        }
    }

    /** A single-platform image: its config blob and layers, bottom first. */
    record Image(Descriptor config, List<Descriptor> layers) implements Manifest {
    }

    /** Parses manifest bytes; the media type comes from the body or, failing that, the HTTP Content-Type. */
    static Manifest parse(byte[] body, String contentType, String what) throws ImageException {
        JsonObject o = Json.object(body, what + " manifest");
        String type = Json.string(o, "mediaType", "");
        if (type.isEmpty() && contentType != null) {
            String ct = contentType.split(";")[0].trim();
            // Some registries answer application/json; only a manifest media type says anything.
            if (Set.of(OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST, DOCKER_V1_SIGNED).contains(ct)) {
                type = ct;
            }
        }
        if (type.equals(DOCKER_V1_SIGNED) || (type.isEmpty() && Json.string(o, "schemaVersion", "").equals("1"))) {
            throw new ImageException(ImageException.Kind.UNSUPPORTED,
                    what + " uses the deprecated Docker schema 1 manifest; push it again with a current client");
        }
        if (type.isEmpty()) {
            // OCI allows omitting mediaType: an index has "manifests", an image has "config".
            type = o.has("manifests") ? OCI_INDEX : OCI_MANIFEST;
        }
        switch (type) {
            case OCI_INDEX, DOCKER_LIST -> {
                List<Descriptor> list = new ArrayList<>();
                if (o.get("manifests") instanceof com.google.gson.JsonArray arr) {
                    for (JsonElement e : arr) {
                        list.add(Descriptor.fromJson(e.getAsJsonObject(), what + " index"));
                    }
                }
                return new Index(List.copyOf(list));
            }
            case OCI_MANIFEST, DOCKER_MANIFEST -> {
                if (!(o.get("config") instanceof JsonObject cfg)) {
                    throw new ImageException(ImageException.Kind.INVALID, what + " manifest has no config");
                }
                List<Descriptor> layers = new ArrayList<>();
                if (o.get("layers") instanceof com.google.gson.JsonArray arr) {
                    for (JsonElement e : arr) {
                        Descriptor d = Descriptor.fromJson(e.getAsJsonObject(), what + " layer");
                        if (!d.mediaType().isEmpty() && !LAYER_TYPES.contains(d.mediaType())) {
                            throw new ImageException(ImageException.Kind.UNSUPPORTED,
                                    what + " has a layer of unsupported media type " + d.mediaType());
                        }
                        layers.add(d);
                    }
                }
                return new Image(Descriptor.fromJson(cfg, what + " config"), List.copyOf(layers));
            }
            default -> throw new ImageException(ImageException.Kind.UNSUPPORTED,
                    what + " has unsupported manifest media type " + type);
        }
    }
}
