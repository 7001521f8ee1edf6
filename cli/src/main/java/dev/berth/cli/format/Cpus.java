package dev.berth.cli.format;

import java.math.BigDecimal;

/** CPU amounts: {@code 0.5} cores as typed, nano-CPUs (1e9 per core) on the wire. */
public final class Cpus {
  private static final BigDecimal NANOS_PER_CPU = BigDecimal.valueOf(1_000_000_000L);

  private Cpus() {}

  /**
   * Parses a number of cores ({@code 2}, {@code 0.5}, {@code .25}) into nano-CPUs.
   *
   * @throws IllegalArgumentException for a negative, non-numeric or finer-than-1e-9 value
   */
  public static long parseNanos(String text) {
    BigDecimal cores;
    try {
      cores = new BigDecimal(text.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("invalid CPU amount '" + text + "': use a number of cores, e.g. 0.5");
    }
    if (cores.signum() < 0) {
      throw new IllegalArgumentException("invalid CPU amount '" + text + "': must be >= 0");
    }
    try {
      return cores.multiply(NANOS_PER_CPU).longValueExact();
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException(
          "invalid CPU amount '" + text + "': at most 9 decimals and less than 9.2e9 cores");
    }
  }

  /** Formats nano-CPUs as cores without trailing zeros, e.g. {@code 0.5}, {@code 2}. */
  public static String format(long nanos) {
    return BigDecimal.valueOf(nanos).divide(NANOS_PER_CPU).stripTrailingZeros().toPlainString();
  }
}
