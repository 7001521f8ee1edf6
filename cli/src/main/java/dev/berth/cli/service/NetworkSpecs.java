package dev.berth.cli.service;

import dev.berth.api.v1.NetworkAttachmentConfig;
import dev.berth.cli.UserException;

/**
 * {@code --network} values: a plain network name or id ({@code backend}), or Docker's long form
 * {@code name=backend,alias=db,alias=primary} giving the task extra DNS names on that network.
 */
public final class NetworkSpecs {
  private NetworkSpecs() {}

  /** Parses one value of {@code flag}; errors name the flag and quote the value. */
  public static NetworkAttachmentConfig parse(String flag, String value) {
    if (!value.contains("=")) {
      if (value.isBlank()) {
        throw UserException.field(flag, "network name must not be empty");
      }
      return NetworkAttachmentConfig.newBuilder().setTarget(value.trim()).build();
    }
    NetworkAttachmentConfig.Builder b = NetworkAttachmentConfig.newBuilder();
    for (var field : LongForm.fields(flag, value)) {
      String key = field.getKey();
      String v = field.getValue();
      if (v.isEmpty()) {
        throw UserException.field(flag, "'" + key + "' in '" + value + "' has an empty value");
      }
      switch (key) {
        case "name", "target" -> b.setTarget(v);
        case "alias" -> b.addAliases(v);
        default -> throw UserException.field(flag, "unknown key '" + key + "' in '" + value + "' (use name, alias)");
      }
    }
    if (b.getTarget().isEmpty()) {
      throw UserException.field(flag, "'" + value + "' names no network (name=NETWORK)");
    }
    return b.build();
  }
}
