package dev.berth.cli.service;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.berth.cli.UserException;
import dev.berth.registry.ImageException;
import dev.berth.registry.ImageReference;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/**
* {@code --with-registry-auth} and {@code --no-resolve-image} for service create and update.
*
* <p>Credentials, first found wins (there is no {@code berth login}): the environment variables
* {@code BERTH_REGISTRY_USER} and {@code BERTH_REGISTRY_PASSWORD}; else the {@code auths} entry for the image's
* registry in Docker's client config ({@code $DOCKER_CONFIG/config.json}, default {@code ~/.docker/config.json},
* as written by {@code docker login} or {@code skopeo login --authfile}). Credential helpers
* ({@code credsStore}, {@code credHelpers}) are not run. The result goes into {@code ContainerSpec.registry_auth}
* as base64 "user:password"; the manager uses it to resolve the tag, agents to pull, and reads never show it.
*/
final class RegistryAuthOptions {
  static final String USER_ENV = "BERTH_REGISTRY_USER";
  static final String PASSWORD_ENV = "BERTH_REGISTRY_PASSWORD";
  /** Docker's key for Docker Hub in config.json. */
  private static final String HUB_KEY = "https://index.docker.io/v1/";

  @Option(names = "--with-registry-auth",
    description = "Send registry credentials (BERTH_REGISTRY_USER/BERTH_REGISTRY_PASSWORD, else"
      + " ~/.docker/config.json) to the manager and the agents.")
  boolean withRegistryAuth;

  @Option(names = "--no-resolve-image",
    description = "Don't pin the image tag to a digest at the manager (e.g. an image only imported on the"
      + " nodes with `berth image import`); each agent resolves the tag itself.")
  boolean noResolveImage;

  /** The base64 "user:password" for the image's registry; a clear error when there are none. */
  static String encodedCredentials(String image, Map<String, String> env) {
    String registry;
    try {
      registry = ImageReference.parse(image).registry();
    } catch (ImageException e) {
      throw UserException.field("IMAGE", e.getMessage());
    }
    String user = env.get(USER_ENV);
    if (user != null && !user.isEmpty()) {
      String password = env.getOrDefault(PASSWORD_ENV, "");
      return Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }
    Path config = dockerConfig(env);
    if (Files.isRegularFile(config)) {
      String found = fromDockerConfig(config, registry);
      if (found != null) {
        return found;
      }
    }
    throw UserException.field("--with-registry-auth", "no credentials for registry " + registry + ": set "
      + USER_ENV + " and " + PASSWORD_ENV + ", or add an auths entry for it to " + config);
  }

  private static Path dockerConfig(Map<String, String> env) {
    String dir = env.get("DOCKER_CONFIG");
    if (dir != null && !dir.isEmpty()) {
      return Path.of(dir, "config.json");
    }
    return Path.of(env.getOrDefault("HOME", System.getProperty("user.home")), ".docker", "config.json");
  }

  private static String fromDockerConfig(Path config, String registry) {
    JsonObject auths;
    try {
      JsonElement root = JsonParser.parseString(Files.readString(config));
      if (!root.isJsonObject() || !(root.getAsJsonObject().get("auths") instanceof JsonObject a)) {
        return null;
      }
      auths = a;
    } catch (IOException | JsonParseException e) {
      throw UserException.field("--with-registry-auth", "cannot read " + config + ": " + e.getMessage());
    }
    List<String> keys = registry.equals(ImageReference.DOCKER_HUB)
      ? List.of(HUB_KEY, "docker.io", "index.docker.io", "registry-1.docker.io")
      : List.of(registry, "https://" + registry, "http://" + registry);
    for (String key : keys) {
      if (auths.get(key) instanceof JsonObject entry) {
        JsonElement auth = entry.get("auth");
        if (auth != null && auth.isJsonPrimitive() && !auth.getAsString().isEmpty()) {
          return auth.getAsString();
        }
        if (entry.has("username")) {
          String plain = entry.get("username").getAsString() + ":"
            + (entry.has("password") ? entry.get("password").getAsString() : "");
          return Base64.getEncoder().encodeToString(plain.getBytes(StandardCharsets.UTF_8));
        }
      }
    }
    return null;
  }
}
