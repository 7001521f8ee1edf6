package dev.berth.manager.orchestrator;

import dev.berth.internal.v1.Command;
import dev.berth.manager.store.StoreView;
import java.util.List;

/**
 * One reconciliation concern (scaling, restarts, reaping, ...): a pure function from a
 * consistent store view and the proposer's current time to the commands that move the
 * cluster toward its desired state — normally a single {@link dev.berth.internal.v1.Plan}.
 *
 * <p>Thread model: implementations are stateless (or hold only immutable configuration)
 * and are called from the single reconcile thread. Error contract: never throws for any
 * store content; an empty list means "nothing to do". Every returned plan carries
 * {@code base_index = view.index()} so the applier can re-validate it.
 */
public interface Reconciler {
  /** Short name for logs and metrics. */
  String name();

  List<Command> reconcile(StoreView view, long nowMs);

  /**
   * Whether the plan can change with time alone on an unchanged store (a restart delay running
   * out, a node down for long enough): the loop's periodic tick runs only these reconcilers
   * unless the store changed since the last round. The others are functions of the store.
   */
  default boolean timeDriven() {
    return false;
  }
}
