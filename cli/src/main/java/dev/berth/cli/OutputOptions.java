package dev.berth.cli;

import picocli.CommandLine.Option;

/** {@code --format table|json} for commands that print objects. */
public final class OutputOptions {
  /** Output formats. */
  public enum Format { table, json }

  @Option(names = "--format", paramLabel = "table|json",
      description = "Output format: human table (default) or protobuf JSON for scripts.")
  Format format;

  public boolean json() {
    return format == Format.json;
  }
}
