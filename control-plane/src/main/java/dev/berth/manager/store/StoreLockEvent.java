package dev.berth.manager.store;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;
import jdk.jfr.Threshold;

/**
 * A Java Flight Recorder event for one hold of the store's lock (a read, an apply, a snapshot
 * capture). Off unless a recording enables {@code dev.berth.StoreLock}; then it tells what held
 * the lock while an entry's apply waited (docs/benchmarks.md, "Control plane": the commit tail
 * was attributed with these). Why JFR and not a log line: a disabled event costs nothing and the
 * recording puts it on one time line with the GC pauses, safepoints and compilations.
 */
@Name("dev.berth.StoreLock")
@Label("Store lock held")
@Category({"Berth", "Store"})
@Description("The manager's store lock held for a read, an apply or a snapshot capture")
@StackTrace(false)
@Threshold("1 ms")
final class StoreLockEvent extends jdk.jfr.Event {
  @Label("Kind")
  String kind;

  @Label("Log index")
  long index;
}
