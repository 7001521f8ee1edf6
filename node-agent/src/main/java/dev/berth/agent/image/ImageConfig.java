package dev.berth.agent.image;

import dev.berth.registry.Digest;
import dev.berth.registry.ImageException;
import dev.berth.registry.Json;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.berth.api.v1.HealthCheck;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The parts of an OCI / Docker image config that decide how a container runs. Lists are null when the image
 * leaves them unset (Docker distinguishes unset Cmd from an empty one); strings are empty when unset.
 *
 * @param healthcheck the image's HEALTHCHECK, durations converted to milliseconds; null when none
 * @param diffIds     sha256 of each uncompressed layer, bottom first
 */
public record ImageConfig(String os, String architecture, List<String> entrypoint, List<String> cmd,
                          List<String> env, String workingDir, String user, String stopSignal,
                          HealthCheck healthcheck, Set<String> exposedPorts, Map<String, String> labels,
                          List<Digest> diffIds) {

    /** Parses a config blob. */
    public static ImageConfig parse(byte[] json, String what) throws ImageException {
        JsonObject root = Json.object(json, what + " config");
        JsonObject c = root.get("config") instanceof JsonObject o ? o : new JsonObject();
        List<Digest> diffIds = new ArrayList<>();
        if (root.get("rootfs") instanceof JsonObject rootfs && rootfs.get("diff_ids") instanceof JsonArray ids) {
            for (JsonElement e : ids) {
                diffIds.add(Digest.parse(e.getAsString()));
            }
        }
        Set<String> ports = new TreeSet<>();
        if (c.get("ExposedPorts") instanceof JsonObject p) {
            ports.addAll(p.keySet());
        }
        Map<String, String> labels = new TreeMap<>();
        if (c.get("Labels") instanceof JsonObject l) {
            for (Map.Entry<String, JsonElement> e : l.entrySet()) {
                if (e.getValue().isJsonPrimitive()) {
                    labels.put(e.getKey(), e.getValue().getAsString());
                }
            }
        }
        List<String> env = Json.strings(c, "Env");
        return new ImageConfig(Json.string(root, "os", ""), Json.string(root, "architecture", ""),
                Json.strings(c, "Entrypoint"), Json.strings(c, "Cmd"), env == null ? List.of() : env,
                Json.string(c, "WorkingDir", ""), Json.string(c, "User", ""), Json.string(c, "StopSignal", ""),
                healthcheck(c), Set.copyOf(ports), Map.copyOf(labels), List.copyOf(diffIds));
    }

    private static HealthCheck healthcheck(JsonObject c) {
        if (!(c.get("Healthcheck") instanceof JsonObject h)) {
            return null;
        }
        HealthCheck.Builder b = HealthCheck.newBuilder();
        List<String> test = Json.strings(h, "Test");
        if (test != null) {
            b.addAllTest(test);
        }
        // Docker stores durations as nanoseconds.
        b.setIntervalMs(nanos(h, "Interval") / 1_000_000)
                .setTimeoutMs(nanos(h, "Timeout") / 1_000_000)
                .setStartPeriodMs(nanos(h, "StartPeriod") / 1_000_000);
        JsonElement retries = h.get("Retries");
        if (retries != null && retries.isJsonPrimitive()) {
            b.setRetries(retries.getAsInt());
        }
        return b.build();
    }

    private static long nanos(JsonObject o, String key) {
        JsonElement e = o.get(key);
        return e != null && e.isJsonPrimitive() ? e.getAsLong() : 0;
    }
}
