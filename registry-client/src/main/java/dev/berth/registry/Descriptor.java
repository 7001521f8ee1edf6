package dev.berth.registry;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.util.Map;
import java.util.TreeMap;

/**
 * An OCI content descriptor: what a manifest or index says about one blob.
 *
 * @param platform "os/architecture[/variant]" for index entries, else null
 */
public record Descriptor(String mediaType, Digest digest, long size, String platform, Map<String, String> annotations) {

    public static Descriptor fromJson(JsonObject o, String where) throws ImageException {
        JsonElement d = o.get("digest");
        JsonElement s = o.get("size");
        if (d == null || !d.isJsonPrimitive() || s == null || !s.isJsonPrimitive()) {
            throw new ImageException(ImageException.Kind.INVALID, where + ": descriptor without digest or size");
        }
        long size = s.getAsLong();
        if (size < 0) {
            throw new ImageException(ImageException.Kind.INVALID, where + ": negative size in descriptor");
        }
        String platform = null;
        if (o.get("platform") instanceof JsonObject p) {
            platform = Json.string(p, "os", "") + "/" + Json.string(p, "architecture", "");
            String variant = Json.string(p, "variant", "");
            if (!variant.isEmpty()) {
                platform += "/" + variant;
            }
        }
        Map<String, String> annotations = new TreeMap<>();
        if (o.get("annotations") instanceof JsonObject a) {
            for (Map.Entry<String, JsonElement> e : a.entrySet()) {
                if (e.getValue().isJsonPrimitive()) {
                    annotations.put(e.getKey(), e.getValue().getAsString());
                }
            }
        }
        return new Descriptor(Json.string(o, "mediaType", ""), Digest.parse(d.getAsString()), size, platform,
                Map.copyOf(annotations));
    }
}
