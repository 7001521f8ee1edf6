package dev.berth.manager.store;

import dev.berth.internal.v1.ApplyResult;
import dev.berth.internal.v1.DedupeEntry;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Replicated table of recent client request ids and their first outcome. Part of the
 * store (and of every snapshot) because a retry may reach a different manager, whose
 * Ratis retry cache never saw the first attempt.
 *
 * <p>Bounded deterministically: it keeps the last {@code capacity} ids in log order, so
 * every replica evicts the same ids at the same index. A client retry must therefore come
 * before {@code capacity} further writes (tens of thousands) have been applied.
 *
 * <p>Thread model: as {@link StoreState}.
 */
final class DedupeTable {
  private final int capacity;
  private final LinkedHashMap<String, ApplyResult> results = new LinkedHashMap<>();

  DedupeTable(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("dedupe capacity must be >= 1");
    }
    this.capacity = capacity;
  }

  ApplyResult get(String requestId) {
    return results.get(requestId);
  }

  void put(String requestId, ApplyResult result) {
    results.put(requestId, result);
    Iterator<Map.Entry<String, ApplyResult>> it = results.entrySet().iterator();
    while (results.size() > capacity && it.hasNext()) {
      it.next();
      it.remove();
    }
  }

  int size() {
    return results.size();
  }

  /** The ids and their results in log order, by reference (cheap: no messages built here). */
  List<Map.Entry<String, ApplyResult>> copy() {
    List<Map.Entry<String, ApplyResult>> out = new ArrayList<>(results.size());
    results.forEach((id, r) -> out.add(Map.entry(id, r)));
    return out;
  }

  /** Snapshot form of {@link #copy}. */
  static List<DedupeEntry> entries(List<Map.Entry<String, ApplyResult>> copy) {
    List<DedupeEntry> out = new ArrayList<>(copy.size());
    copy.forEach(e -> out.add(DedupeEntry.newBuilder().setRequestId(e.getKey()).setResult(e.getValue()).build()));
    return out;
  }

  void load(List<DedupeEntry> entries) {
    results.clear();
    for (DedupeEntry e : entries) {
      results.put(e.getRequestId(), e.getResult());
    }
  }
}
