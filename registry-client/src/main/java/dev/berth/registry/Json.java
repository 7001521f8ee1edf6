package dev.berth.registry;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Small helpers over Gson's tree model for the lenient-but-checked reading of registry JSON. */
public final class Json {
    private Json() {
    }

    public static JsonObject object(byte[] bytes, String what) throws ImageException {
        try {
            JsonElement e = JsonParser.parseString(new String(bytes, StandardCharsets.UTF_8));
            if (!e.isJsonObject()) {
                throw new ImageException(ImageException.Kind.INVALID, what + " is not a JSON object");
            }
            return e.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new ImageException(ImageException.Kind.INVALID, what + " is not valid JSON: " + e.getMessage(), e);
        }
    }

    public static String string(JsonObject o, String key, String dflt) {
        JsonElement e = o.get(key);
        return e != null && e.isJsonPrimitive() ? e.getAsString() : dflt;
    }

    /** A JSON array of strings; null (JSON null or absent) stays null so "unset" differs from "empty". */
    public static List<String> strings(JsonObject o, String key) {
        JsonElement e = o.get(key);
        if (e == null || e.isJsonNull()) {
            return null;
        }
        List<String> out = new ArrayList<>();
        if (e.isJsonArray()) {
            for (JsonElement x : (JsonArray) e) {
                out.add(x.getAsString());
            }
        } else if (e.isJsonPrimitive()) {
            out.add(e.getAsString());
        }
        return List.copyOf(out);
    }
}
