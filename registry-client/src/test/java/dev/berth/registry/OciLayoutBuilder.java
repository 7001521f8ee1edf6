package dev.berth.registry;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Writes OCI image layouts from crafted layers, e.g. multi-platform indexes, for skopeo to push. */
public final class OciLayoutBuilder {
    private final Path dir;
    private final JsonArray index = new JsonArray();

    public OciLayoutBuilder(Path dir) throws IOException {
        this.dir = dir;
        Files.createDirectories(dir.resolve("blobs/sha256"));
        Files.writeString(dir.resolve("oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
    }

    public JsonObject blob(byte[] content, String mediaType) throws IOException {
        Digest d = Digest.of(content);
        Files.write(dir.resolve("blobs/sha256/" + d.hex()), content);
        JsonObject desc = new JsonObject();
        desc.addProperty("mediaType", mediaType);
        desc.addProperty("digest", d.toString());
        desc.addProperty("size", content.length);
        return desc;
    }

    /** An image manifest of gzip layers (given as plain tars) with a config holding {@code configFields}. */
    public JsonObject image(String arch, List<byte[]> tars, Map<String, Object> configFields) throws IOException {
        JsonObject cfg = new JsonObject();
        cfg.addProperty("architecture", arch);
        cfg.addProperty("os", "linux");
        JsonObject c = new JsonObject();
        configFields.forEach((k, v) -> c.add(k, new com.google.gson.Gson().toJsonTree(v)));
        cfg.add("config", c);
        JsonObject rootfs = new JsonObject();
        rootfs.addProperty("type", "layers");
        JsonArray diffIds = new JsonArray();
        JsonArray layers = new JsonArray();
        for (byte[] t : tars) {
            diffIds.add(Digest.of(t).toString());
            layers.add(blob(TarBuilder.gzip(t), "application/vnd.oci.image.layer.v1.tar+gzip"));
        }
        rootfs.add("diff_ids", diffIds);
        cfg.add("rootfs", rootfs);
        JsonObject m = new JsonObject();
        m.addProperty("schemaVersion", 2);
        m.addProperty("mediaType", Manifest.OCI_MANIFEST);
        m.add("config", blob(cfg.toString().getBytes(StandardCharsets.UTF_8), "application/vnd.oci.image.config.v1+json"));
        m.add("layers", layers);
        JsonObject desc = blob(m.toString().getBytes(StandardCharsets.UTF_8), Manifest.OCI_MANIFEST);
        JsonObject platform = new JsonObject();
        platform.addProperty("os", "linux");
        platform.addProperty("architecture", arch);
        desc.add("platform", platform);
        return desc;
    }

    /** Tags a manifest (or a new index over several) in index.json. */
    public JsonObject tag(String tag, JsonObject... manifests) throws IOException {
        JsonObject desc;
        if (manifests.length == 1) {
            desc = manifests[0].deepCopy();
            desc.remove("platform");
        } else {
            JsonObject idx = new JsonObject();
            idx.addProperty("schemaVersion", 2);
            idx.addProperty("mediaType", Manifest.OCI_INDEX);
            JsonArray arr = new JsonArray();
            for (JsonObject m : manifests) {
                arr.add(m);
            }
            idx.add("manifests", arr);
            desc = blob(idx.toString().getBytes(StandardCharsets.UTF_8), Manifest.OCI_INDEX);
        }
        JsonObject ann = new JsonObject();
        ann.addProperty("org.opencontainers.image.ref.name", tag);
        desc.add("annotations", ann);
        index.add(desc);
        JsonObject top = new JsonObject();
        top.addProperty("schemaVersion", 2);
        top.add("manifests", index);
        Files.writeString(dir.resolve("index.json"), top.toString());
        return desc;
    }
}
