package dev.berth.agent.image;

import dev.berth.registry.Digest;
import dev.berth.registry.ImageException;
import dev.berth.registry.ImageReference;
import dev.berth.registry.Json;
import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Names of images that exist only locally (imported layouts): canonical reference → manifest digest, kept in
 * {@code ROOT/refs.json} and rewritten atomically. Synchronized; small.
 */
final class LocalRefs {
    private final Path file;
    private final Map<String, Digest> refs = new TreeMap<>();

    LocalRefs(Path root) throws IOException, ImageException {
        this.file = root.resolve("refs.json");
        if (Files.exists(file)) {
            JsonObject o = Json.object(Files.readAllBytes(file), file.toString());
            for (Map.Entry<String, JsonElement> e : o.entrySet()) {
                refs.put(e.getKey(), Digest.parse(e.getValue().getAsString()));
            }
        }
    }

    synchronized Optional<Digest> get(ImageReference ref) {
        return Optional.ofNullable(refs.get(ref.toString()));
    }

    synchronized Map<String, Digest> all() {
        return Map.copyOf(refs);
    }

    synchronized void put(ImageReference ref, Digest d) throws ImageException {
        refs.put(ref.toString(), d);
        JsonObject o = new JsonObject();
        refs.forEach((k, v) -> o.addProperty(k, v.toString()));
        try {
            Path tmp = Files.createTempFile(file.getParent(), "refs", ".tmp");
            Files.write(tmp, new Gson().toJson(o).getBytes(StandardCharsets.UTF_8));
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new ImageException(ImageException.Kind.LOCAL_IO, "writing " + file + ": " + e.getMessage(), e);
        }
    }
}
