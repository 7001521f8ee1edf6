package dev.berth.manager.orchestrator;

import dev.berth.api.v1.Service;
import dev.berth.internal.v1.Command;
import dev.berth.manager.store.StoreView;
import java.util.List;

/**
 * One reconciliation concern (scaling, restarts, reaping, ...): a pure function from a
 * consistent store view and the proposer's current time to the commands that move the
 * cluster toward its desired state — normally a single {@link dev.berth.internal.v1.Plan}.
 *
 * <p>Thread model: implementations hold immutable configuration and, at most, what their last
 * {@link #reconcile} found waiting for the clock ({@link #wakeAtMs}); they are called from the
 * single reconcile thread only. Error contract: never throws for any
 * store content; an empty list means "nothing to do". Every returned plan carries
 * {@code base_index = view.index()} so the applier can re-validate it.
 */
public interface Reconciler {
  /** Short name for logs and metrics. */
  String name();

  List<Command> reconcile(StoreView view, long nowMs);

  /**
   * When the plan can next change with time alone, the store unchanged (leader clock, epoch
   * ms): the end of the earliest restart delay, orphan grace or update delay that the last
   * {@link #reconcile} put off, or {@link Long#MAX_VALUE} (the default) when it put off nothing.
   * The loop's tick on an unchanged store runs a reconciler only once this time has come: the
   * others would plan what they planned before, and re-planning 50,000 tasks every tick was
   * most of the leader's reconcile CPU under a steady status load (docs/benchmarks.md).
   */
  default long wakeAtMs() {
    return Long.MAX_VALUE;
  }

  /**
   * Whether tasks of {@code service} moving forward through their run (ACCEPTED up to RUNNING,
   * or container health: agents' progress reports, {@link
   * dev.berth.manager.store.StoreListener}) can change the plan. After entries of nothing but
   * such reports the loop runs only the reconcilers that say yes for a service they touched;
   * the others plan from tasks' ends, desired states, placements and specs, which those reports
   * never move (at 10,000 reports/s, rounds that re-planned all of that were a core's worth of
   * scans for nothing).
   */
  default boolean followsProgress(Service service) {
    return false;
  }
}
