package dev.berth.cli;

import java.time.Duration;

/** Waits between retries; injected so tests do not sleep. */
@FunctionalInterface
public interface Sleeper {
  void sleep(Duration d) throws InterruptedException;

  Sleeper SYSTEM = d -> Thread.sleep(d.toMillis());
}
