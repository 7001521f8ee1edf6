package dev.berth.agent.runtime;

import java.time.Instant;
import java.util.Optional;

/**
 * Joins the monitor's CRI log lines ("&lt;RFC3339Nano&gt; &lt;stream&gt; &lt;F|P&gt; &lt;text&gt;") back into
 * the container's lines: a P (partial) record continues in the next one. Not thread-safe: one per reader.
 */
final class CriLines {
  private final StringBuilder partial = new StringBuilder();

  /** Feeds one record; returns the completed line when the record ends one. Malformed records are skipped. */
  Optional<LogLine> add(String record) {
    String[] p = record.split(" ", 4);
    if (p.length < 3) {
      return Optional.empty();
    }
    partial.append(p.length == 4 ? p[3] : "");
    if (!p[2].equals("F")) {
      return Optional.empty();
    }
    Instant time;
    try {
      time = Instant.parse(p[0]);
    } catch (java.time.format.DateTimeParseException e) {
      partial.setLength(0);
      return Optional.empty();
    }
    LogLine line = new LogLine(time, p[1], partial.toString());
    partial.setLength(0);
    return Optional.of(line);
  }
}
