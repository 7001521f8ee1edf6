package dev.berth.cli.service;

import dev.berth.cli.UserException;
import java.util.AbstractMap.SimpleEntry;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Docker's long flag form {@code key=value,key=value}: keys lower-cased, values trimmed, in order. */
final class LongForm {
  private LongForm() {}

  static List<Map.Entry<String, String>> fields(String flag, String value) {
    List<Map.Entry<String, String>> out = new ArrayList<>();
    for (String field : value.split(",")) {
      int eq = field.indexOf('=');
      if (eq <= 0) {
        throw UserException.field(flag, "'" + field + "' in '" + value + "' is not KEY=VALUE");
      }
      out.add(new SimpleEntry<>(field.substring(0, eq).trim().toLowerCase(Locale.ROOT),
          field.substring(eq + 1).trim()));
    }
    return out;
  }
}
