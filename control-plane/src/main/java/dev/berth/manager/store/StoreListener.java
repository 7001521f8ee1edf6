package dev.berth.manager.store;

import dev.berth.api.v1.WatchEvent;
import java.util.List;

/** Receives the changes of each applied log entry; see {@link Store} for the thread model. */
@FunctionalInterface
public interface StoreListener {
  /**
   * @param index log index of the applied entry
   * @param events its changes (empty when the entry failed validation or changed nothing)
   */
  void onApplied(long index, List<WatchEvent> events);

  /**
   * As {@link #onApplied(long, List)}, told whether every change only moved a task forward
   * through its run, ACCEPTED up to RUNNING or its container health ({@link
   * Applier.Outcome#progressOnly}); listeners that plan only from tasks' ends, placements and
   * specs may skip such entries. By default the flag is ignored.
   */
  default void onApplied(long index, List<WatchEvent> events, boolean progressOnly) {
    onApplied(index, events);
  }
}
