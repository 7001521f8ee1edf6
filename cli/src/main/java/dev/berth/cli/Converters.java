package dev.berth.cli;

import dev.berth.cli.format.Cpus;
import dev.berth.cli.format.Durations;
import dev.berth.cli.format.Sizes;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** picocli converters for the unit-bearing flags; the message names the value, picocli the flag. */
public final class Converters {
  private Converters() {}

  /** {@code 256M} → bytes. */
  public static final class Size implements ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      try {
        return Sizes.parse(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }

  /** {@code 0.5} → nano-CPUs. */
  public static final class Cpu implements ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      try {
        return Cpus.parseNanos(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }

  /** {@code 1m30s} → milliseconds. */
  public static final class Millis implements ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      try {
        return Durations.parseMillis(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}
