package dev.berth.manager.api;

import dev.berth.api.v1.ManagerInfo;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * What the API needs to know about this manager's Raft server.
 *
 * <p>Thread model: thread-safe.
 */
public interface RaftView {
  /** ReadIndex: completes once this manager has applied everything committed before the call. */
  CompletableFuture<Long> readBarrier();

  /** This manager's Raft peer id (also its node id). */
  String selfId();

  /** Public API address (host:port) of the current leader, or empty when unknown. */
  String leaderAddr();

  long term();

  long commitIndex();

  long appliedIndex();

  List<ManagerInfo> managers();
}
