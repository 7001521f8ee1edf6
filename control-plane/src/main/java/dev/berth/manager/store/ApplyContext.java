package dev.berth.manager.store;

import dev.berth.api.v1.Cluster;
import dev.berth.api.v1.Meta;
import dev.berth.api.v1.Network;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.ObjectKind;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.WatchEvent;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * State of one entry's application: the store, the entry's index and timestamp, and the
 * changes made so far. Every write goes through here so that it is journaled (for
 * rollback) and turned into a {@link WatchEvent}.
 */
final class ApplyContext {
  final StoreState state;
  final long index;
  final long timestampMs;
  final List<WatchEvent> events = new ArrayList<>();
  final List<String> createdIds = new ArrayList<>();
  /** How many of {@link #events} only moved a task through its run (see {@link #putTaskProgress}). */
  int progressEvents;
  /** Networks whose IPAM cursor moved in this entry: one UPDATE event each, at the end. */
  private final Set<String> cursorMoved = new LinkedHashSet<>();
  /** Per-request outcomes inside the entry (batched registrations), recorded on commit. */
  final java.util.Map<String, dev.berth.internal.v1.ApplyResult> itemResults =
      new java.util.LinkedHashMap<>();

  ApplyContext(StoreState state, long index, long timestampMs) {
    this.state = state;
    this.index = index;
    this.timestampMs = timestampMs;
  }

  Meta newMeta(String id) {
    return Meta.newBuilder().setId(id).setVersion(index)
        .setCreatedAtMs(timestampMs).setUpdatedAtMs(timestampMs).build();
  }

  Meta touch(Meta m) {
    return m.toBuilder().setVersion(index).setUpdatedAtMs(timestampMs).build();
  }

  private WatchEvent.Builder event(WatchEvent.Action action, ObjectKind kind) {
    return WatchEvent.newBuilder().setIndex(index).setAction(action).setKind(kind);
  }

  private static WatchEvent.Action action(boolean existed) {
    return existed ? WatchEvent.Action.UPDATE : WatchEvent.Action.CREATE;
  }

  void putCluster(Cluster c) {
    boolean existed = state.cluster().isPresent();
    state.putCluster(c);
    events.add(event(action(existed), ObjectKind.KIND_CLUSTER).setCluster(c).build());
  }

  void putNode(Node n) {
    boolean existed = state.node(n.getMeta().getId()).isPresent();
    state.putNode(n);
    events.add(event(action(existed), ObjectKind.KIND_NODE).setNode(n).build());
  }

  void removeNode(Node n) {
    state.removeNode(n.getMeta().getId());
    events.add(event(WatchEvent.Action.REMOVE, ObjectKind.KIND_NODE).setNode(n).build());
  }

  void putService(Service s) {
    boolean existed = state.service(s.getMeta().getId()).isPresent();
    state.putService(s);
    events.add(event(action(existed), ObjectKind.KIND_SERVICE).setService(s).build());
  }

  void removeService(Service s) {
    state.removeService(s.getMeta().getId());
    events.add(event(WatchEvent.Action.REMOVE, ObjectKind.KIND_SERVICE).setService(s).build());
  }

  void putTask(Task t) {
    boolean existed = state.putTask(t) != null;
    events.add(event(action(existed), ObjectKind.KIND_TASK).setTask(t).build());
  }

  /**
   * Stores a task whose only change is its observed state moving forward from ASSIGNED up to
   * RUNNING, or its container health in the same state: it has not ended, and its desired
   * state, node, slot and spec did not move.
   */
  void putTaskProgress(Task t) {
    putTask(t);
    progressEvents++;
  }

  void removeTask(Task t) {
    state.removeTask(t.getMeta().getId());
    events.add(event(WatchEvent.Action.REMOVE, ObjectKind.KIND_TASK).setTask(t).build());
  }

  void putNetwork(Network n) {
    boolean existed = state.network(n.getMeta().getId()).isPresent();
    state.putNetwork(n);
    events.add(event(action(existed), ObjectKind.KIND_NETWORK).setNetwork(n).build());
  }

  /**
   * Stores a network whose next-fit cursor moved. A plan creating many tasks moves it once
   * per task; watchers get one event per network per entry, from {@link #finish}.
   */
  void moveCursor(Network n) {
    state.putNetwork(n);
    cursorMoved.add(n.getMeta().getId());
  }

  /** Completes the entry's events (called once, before the entry commits). */
  void finish() {
    for (String id : cursorMoved) {
      state.network(id).ifPresent(n -> events.add(
          event(WatchEvent.Action.UPDATE, ObjectKind.KIND_NETWORK).setNetwork(n).build()));
    }
  }

  void removeNetwork(Network n) {
    state.removeNetwork(n.getMeta().getId());
    events.add(event(WatchEvent.Action.REMOVE, ObjectKind.KIND_NETWORK).setNetwork(n).build());
  }
}
