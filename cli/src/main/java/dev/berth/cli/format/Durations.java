package dev.berth.cli.format;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations in Go's notation, which Docker's flags use: {@code 10s}, {@code 1m30s},
 * {@code 500ms}, {@code 1.5h}, {@code 0}. java.time.Duration.parse only reads ISO-8601
 * ({@code PT1M30S}), so this small parser exists.
 */
public final class Durations {
  private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)(ns|us|µs|ms|s|m|h)");
  private static final Map<String, Long> NANOS = Map.of(
      "ns", 1L, "us", 1_000L, "µs", 1_000L, "ms", 1_000_000L, "s", 1_000_000_000L,
      "m", 60_000_000_000L, "h", 3_600_000_000_000L);

  private Durations() {}

  /**
   * Parses a non-negative duration.
   *
   * @throws IllegalArgumentException quoting the input when it is not of the form above
   */
  public static Duration parse(String text) {
    String s = text.trim();
    if (s.equals("0")) {
      return Duration.ZERO;
    }
    Matcher m = PART.matcher(s);
    BigDecimal nanos = BigDecimal.ZERO;
    int at = 0;
    while (at < s.length() && m.find(at) && m.start() == at) {
      nanos = nanos.add(new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(NANOS.get(m.group(2)))));
      at = m.end();
    }
    if (s.isEmpty() || at != s.length()) {
      throw new IllegalArgumentException(
          "invalid duration '" + text + "': use a number with a unit ns, us, ms, s, m or h (e.g. 10s, 1m30s, 500ms)");
    }
    try {
      return Duration.ofNanos(nanos.setScale(0, RoundingMode.DOWN).longValueExact());
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("invalid duration '" + text + "': too long");
    }
  }

  /** Parses and returns whole milliseconds (what the API carries). */
  public static long parseMillis(String text) {
    return parse(text).toMillis();
  }

  /** Formats milliseconds compactly in the same notation, e.g. {@code 1m30s}, {@code 500ms}. */
  public static String formatMillis(long ms) {
    if (ms == 0) {
      return "0s";
    }
    StringBuilder out = new StringBuilder();
    long h = ms / 3_600_000;
    long m = ms / 60_000 % 60;
    long s = ms / 1000 % 60;
    long rest = ms % 1000;
    if (h > 0) {
      out.append(h).append('h');
    }
    if (m > 0) {
      out.append(m).append('m');
    }
    if (s > 0) {
      out.append(s).append('s');
    }
    if (rest > 0) {
      out.append(rest).append("ms");
    }
    return out.toString();
  }
}
