package dev.berth.manager;

import java.util.concurrent.ThreadFactory;

/**
 * Thread factories for the manager's own executors: daemon threads, so that none of them keeps a
 * stopping manager (or a test JVM) alive, each named for what it does, so that a thread dump
 * or a flight recording says whose thread it is.
 *
 * <p>Thread model: the factories are stateless and thread-safe.
 */
public final class DaemonThreads {
  private DaemonThreads() {}

  /** Every thread it makes is a daemon called {@code name}. */
  public static ThreadFactory named(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }
}
