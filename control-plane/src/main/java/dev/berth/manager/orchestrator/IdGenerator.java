package dev.berth.manager.orchestrator;

import dev.berth.manager.store.Ids;

/**
 * Makes object ids on the proposing side (ids travel inside log entries; apply never
 * generates them).
 *
 * <p>Thread model: implementations are thread-safe.
 */
@FunctionalInterface
public interface IdGenerator {
  String next();

  /** Random ids in the store's format ({@link Ids#newId()}). */
  static IdGenerator random() {
    return Ids::newId;
  }
}
