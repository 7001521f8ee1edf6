package dev.berth.agent.runtime;

import java.io.IOException;
import java.util.List;

/**
 * Reads one container's output for {@code berth service logs}: what is kept so far, then (polled) what
 * follows. Not thread-safe: one reader per request, used from one thread; close it when done.
 */
public interface LogReader extends AutoCloseable {
  /** Everything kept so far, oldest first; afterwards {@link #poll} returns only what follows. */
  List<LogLine> existing() throws IOException;

  /** Lines completed since the previous call (empty when nothing new was written). */
  List<LogLine> poll() throws IOException;

  @Override
  void close() throws IOException;
}
