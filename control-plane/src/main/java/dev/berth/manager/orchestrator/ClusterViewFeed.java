package dev.berth.manager.orchestrator;

import dev.berth.api.v1.Node;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.WatchEvent;
import dev.berth.manager.store.StoreListener;
import dev.berth.manager.store.StoreView;
import dev.berth.scheduler.ClusterView;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Keeps the scheduler's {@link ClusterView} for one leadership term: built once from a {@link
 * StoreView} when first needed after {@link #reset()}, then updated incrementally from the
 * store's applied events (never rebuilt per batch).
 *
 * <p>Thread model: {@link #onApplied} runs on the store's apply thread and only enqueues; {@link
 * #view} is called from the single reconcile thread, which drains the queue into the view before
 * planning, so the view is only ever touched by that thread. {@link #reset()} may be called from
 * any thread (leader start/stop); the next {@link #view} then rebuilds. The listener must be
 * registered before the first {@link #view} of a term so no event between the build and the
 * registration is lost: events the build already saw (index at or below the built index) are
 * skipped. Error contract: never throws for any event.
 */
public final class ClusterViewFeed implements StoreListener {
  private final ConcurrentLinkedQueue<WatchEvent> queue = new ConcurrentLinkedQueue<>();
  private volatile boolean stale = true;
  private ClusterView view;
  private long builtAt;

  @Override
  public void onApplied(long index, List<WatchEvent> events) {
    queue.addAll(events);
  }

  /**
   * Skips entries of agents' progress reports: a task's reservation in the view follows its
   * node, desired state, whether it ended, its spec and host ports, and those reports move none
   * of them (ClusterView#counts). They are most of a busy cluster's entries.
   */
  @Override
  public void onApplied(long index, List<WatchEvent> events, boolean progressOnly) {
    if (!progressOnly) {
      onApplied(index, events);
    }
  }

  /**
   * Takes the queued events in: into the view if there is one, else dropped (the next {@link
   * #view} builds from a later read of the store, which holds them). Called by the loop at the
   * start of every round, so the queue holds at most a round's worth of events even when no
   * reconciler needs the view (only the allocator with unplaced tasks, global services and
   * rebalances do; before, a cluster with none of them queued every event of the term).
   */
  public synchronized void catchUp() {
    if (stale || view == null) {
      queue.clear();
    } else {
      drain();
    }
  }

  /** Events waiting for the reconcile thread (O(n): for tests). */
  int queued() {
    return queue.size();
  }

  /** Drops the current view; the next {@link #view} builds a fresh one (new leadership term). */
  public void reset() {
    stale = true;
  }

  /** The up-to-date view; call from the reconcile thread only, inside the store read. */
  public synchronized ClusterView view(StoreView store) {
    if (stale || view == null) {
      stale = false;
      view = build(store);
      builtAt = store.index();
    }
    drain();
    return view;
  }

  private void drain() {
    WatchEvent event;
    while ((event = queue.poll()) != null) {
      if (event.getIndex() > builtAt) {
        apply(view, event);
      }
    }
  }

  private static ClusterView build(StoreView store) {
    ClusterView fresh = new ClusterView();
    for (Node node : store.nodes()) {
      fresh.upsertNode(node);
    }
    for (Service service : store.services()) {
      fresh.upsertService(service);
    }
    for (Task task : store.tasks()) {
      fresh.upsertTask(task);
    }
    return fresh;
  }

  private static void apply(ClusterView view, WatchEvent event) {
    boolean remove = event.getAction() == WatchEvent.Action.REMOVE;
    switch (event.getObjectCase()) {
      case NODE -> {
        if (remove) {
          view.removeNode(event.getNode().getMeta().getId());
        } else {
          view.upsertNode(event.getNode());
        }
      }
      case SERVICE -> {
        if (remove) {
          view.removeService(event.getService().getMeta().getId());
        } else {
          view.upsertService(event.getService());
        }
      }
      case TASK -> {
        if (remove) {
          view.removeTask(event.getTask().getMeta().getId());
        } else {
          view.upsertTask(event.getTask());
        }
      }
      default -> { }
    }
  }
}
