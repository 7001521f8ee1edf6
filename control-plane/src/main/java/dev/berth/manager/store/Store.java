package dev.berth.manager.store;

import java.util.function.Function;

/**
 * Read side of the replicated cluster store, as seen by the manager's own components
 * (API reads, dispatcher, reconcilers). Writes go through {@link Proposer} and the Raft
 * log; only the state machine's apply mutates the store.
 *
 * <p>Thread model: {@link #read} may be called from any thread and runs the function
 * under the store's read lock (keep it short: apply waits). Listeners run on the apply
 * thread after each entry is applied, in log order; they must not block or call back
 * into writes synchronously (hand work to an executor).
 */
public interface Store {
  <T> T read(Function<StoreView, T> reader);

  /**
   * The recorded first outcome of a client request id (the de-duplication table), if it is
   * still there: how a retried request learns what its first attempt did.
   */
  java.util.Optional<dev.berth.internal.v1.ApplyResult> requestOutcome(String requestId);

  /** Registers a listener for every applied change; returns a handle that unregisters it. */
  AutoCloseable addListener(StoreListener listener);
}
