package dev.berth.manager.store;

import dev.berth.internal.v1.ApplyResult;
import dev.berth.internal.v1.LogEntry;
import java.util.concurrent.CompletableFuture;

/**
 * Submits log entries to the Raft group.
 *
 * <p>Thread model: thread-safe. Error contract: the future completes with the
 * deterministic {@link ApplyResult} once the entry is committed and applied (a
 * rejected entry is still a normal completion, with a non-OK code); it completes
 * exceptionally only when the outcome is unknown or the entry was not committed
 * (no leader, timeout) — the caller may retry with the same request id.
 */
public interface Proposer {
  CompletableFuture<ApplyResult> propose(LogEntry entry);

  /** True while this manager is the Raft leader (reconcilers and the dispatcher run only then). */
  boolean isLeader();
}
