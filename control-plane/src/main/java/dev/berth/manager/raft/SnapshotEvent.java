package dev.berth.manager.raft;

import jdk.jfr.Category;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.StackTrace;

/**
 * A Java Flight Recorder event for one snapshot taken by {@link BerthStateMachine} (capture
 * under the store's lock, write, MD5). Off unless a recording enables {@code dev.berth.Snapshot};
 * it puts snapshots on the same time line as the commit latency's other causes.
 */
@Name("dev.berth.Snapshot")
@Label("Snapshot taken")
@Category({"Berth", "Raft"})
@StackTrace(false)
final class SnapshotEvent extends jdk.jfr.Event {
  @Label("Log index")
  long index;

  @Label("Bytes")
  long bytes;
}
