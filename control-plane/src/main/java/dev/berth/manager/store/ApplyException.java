package dev.berth.manager.store;

/**
 * A command failed a precondition at apply time. Carries a gRPC status code name and a
 * message naming the offending field or object; both are deterministic (derived only from
 * the store and the entry) so every replica records the same outcome.
 */
public final class ApplyException extends RuntimeException {
  private final String code;

  public ApplyException(String code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  public String code() {
    return code;
  }

  public static ApplyException invalid(String message) {
    return new ApplyException("INVALID_ARGUMENT", message);
  }

  public static ApplyException notFound(String message) {
    return new ApplyException("NOT_FOUND", message);
  }

  public static ApplyException exists(String message) {
    return new ApplyException("ALREADY_EXISTS", message);
  }

  public static ApplyException precondition(String message) {
    return new ApplyException("FAILED_PRECONDITION", message);
  }

  public static ApplyException denied(String message) {
    return new ApplyException("PERMISSION_DENIED", message);
  }

  /** Compare-and-set: {@code ifVersion} 0 means unconditional. */
  public static void checkVersion(String what, long ifVersion, long actual) {
    if (ifVersion != 0 && ifVersion != actual) {
      throw precondition("if_version: " + what + " is at version " + actual
          + ", not " + ifVersion + " (it changed since you read it)");
    }
  }
}
