package dev.berth.manager.api;

import java.util.List;
import java.util.Map;

/** Label selectors of list requests: {@code key=value}, or a bare {@code key} for any value. */
final class Labels {
  private Labels() {}

  static boolean match(Map<String, String> labels, List<String> selector) {
    for (String s : selector) {
      int eq = s.indexOf('=');
      if (eq < 0 ? !labels.containsKey(s)
          : !s.substring(eq + 1).equals(labels.get(s.substring(0, eq)))) {
        return false;
      }
    }
    return true;
  }
}
