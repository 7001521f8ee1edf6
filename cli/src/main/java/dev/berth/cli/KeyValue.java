package dev.berth.cli;

/**
 * A {@code KEY[=VALUE]} flag value (labels, environment): the key before the first '=', the value
 * after it, empty when there is no '='.
 */
public record KeyValue(String key, String value) {
  /**
   * Splits {@code text}, given to {@code flag}.
   *
   * @throws UserException naming the flag when the key is empty
   */
  public static KeyValue parse(String flag, String text) {
    int eq = text.indexOf('=');
    String key = eq < 0 ? text : text.substring(0, eq);
    if (key.isEmpty()) {
      throw UserException.field(flag, "'" + text + "' has an empty key");
    }
    return new KeyValue(key, eq < 0 ? "" : text.substring(eq + 1));
  }
}
