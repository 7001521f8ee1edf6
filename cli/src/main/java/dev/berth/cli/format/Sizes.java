package dev.berth.cli.format;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Memory sizes as users type them ({@code 512k}, {@code 256M}, {@code 1.5G}, {@code 1048576}) and
 * as tables show them. Units are binary (k = 1024), as in Docker's {@code --memory}; a trailing
 * {@code b}, {@code B} or {@code iB} is accepted. Hand-written because the rule is a dozen lines and
 * must match Docker's exactly; no library in the build parses this form.
 */
public final class Sizes {
  private static final Pattern SIZE =
      Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([kmgtp]?)(?:i?b)?", Pattern.CASE_INSENSITIVE);
  private static final String UNITS = "kmgtp";

  private Sizes() {}

  /**
   * Parses a size into bytes.
   *
   * @throws IllegalArgumentException with a message quoting the input when it is not a
   *     non-negative size that fits in a long
   */
  public static long parse(String text) {
    Matcher m = SIZE.matcher(text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "invalid size '" + text + "': use bytes or a number with a unit k, M, G or T (e.g. 256M)");
    }
    BigDecimal value = new BigDecimal(m.group(1));
    String unit = m.group(2).toLowerCase(Locale.ROOT);
    if (!unit.isEmpty()) {
      value = value.multiply(BigDecimal.valueOf(1024).pow(UNITS.indexOf(unit) + 1));
    }
    try {
      // Fractions of a byte round down, as Docker does.
      return value.setScale(0, java.math.RoundingMode.DOWN).longValueExact();
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("invalid size '" + text + "': too large");
    }
  }

  /** Formats bytes with the largest binary unit that keeps the value >= 1, e.g. {@code 256MiB}. */
  public static String format(long bytes) {
    if (bytes < 1024) {
      return bytes + "B";
    }
    String[] names = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double value = bytes;
    int unit = -1;
    while (value >= 1024 && unit < names.length - 1) {
      value /= 1024;
      unit++;
    }
    String number = value == Math.floor(value)
        ? String.valueOf((long) value)
        : String.format(Locale.ROOT, "%.4g", value).replaceAll("\\.?0+$", "");
    return number + names[unit];
  }
}
