package dev.berth.manager.store;

import static dev.berth.manager.store.Fixtures.assignment;
import static dev.berth.manager.store.Fixtures.createService;
import static dev.berth.manager.store.Fixtures.entry;
import static dev.berth.manager.store.Fixtures.init;
import static dev.berth.manager.store.Fixtures.newTask;
import static dev.berth.manager.store.Fixtures.plan;
import static dev.berth.manager.store.Fixtures.registerNode;
import static dev.berth.manager.store.Fixtures.spec;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.LogEntry;
import dev.berth.internal.v1.Plan;
import dev.berth.internal.v1.ReportTaskStatus;
import dev.berth.internal.v1.TaskStatusChange;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Bytes allocated per applied task-status change, in-process (no Raft): 20,000 tasks on 100
 * nodes, then 4 rounds of {@code ReportTaskStatus} entries of 200 changes, each parsed from its
 * bytes as the state machine gets it and applied through {@link ClusterStore#apply}. A class
 * with {@code main}, kept out of {@code mvn verify}; figures in docs/benchmarks.md ("Control
 * plane"). Add {@code -XX:StartFlightRecording=filename=a.jfr,settings=profile} and read
 * {@code jfr print --events jdk.ObjectAllocationSample --stack-depth 30 a.jfr} for the sites.
 */
public final class ApplyAllocationBench {
  private ApplyAllocationBench() {}

  public static void main(String[] args) throws Exception {
    int tasks = 20_000;
    int nodes = 100;
    long ts = 1_700_000_000_000L;
    ClusterStore store = new ClusterStore();
    long index = 0;
    check(store.apply(entry("", init()), ++index));
    check(store.apply(entry("", createService("s1", spec("web", tasks))), ++index));
    for (int n = 0; n < nodes; n++) {
      check(store.apply(entry("", registerNode("node" + n, 0, 0)), ++index));
    }
    for (int b = 0; b < tasks; b += 500) {
      Plan.Builder p = Plan.newBuilder();
      for (int i = b; i < b + 500; i++) {
        p.addCreateTasks(newTask("t" + i, "s1", i + 1, 0, 0));
        p.addAssignments(assignment("t" + i, "node" + (i % nodes)));
      }
      check(store.apply(entry("", plan(p)), ++index));
    }
    TaskState[] states = {TaskState.ACCEPTED, TaskState.PREPARING, TaskState.STARTING, TaskState.RUNNING};
    List<byte[]> entries = new ArrayList<>(); // one per node and state, as an agent's session batches them
    for (TaskState s : states) {
      for (int n = 0; n < nodes; n++) {
        ReportTaskStatus.Builder r = ReportTaskStatus.newBuilder().setNodeId("node" + n);
        for (int i = n; i < tasks; i += nodes) {
          r.addChanges(TaskStatusChange.newBuilder().setTaskId("t" + i)
              .setStatus(TaskStatus.newBuilder().setState(s).setTimestampMs(ts)));
        }
        entries.add(LogEntry.newBuilder().setRequestId(UUID.randomUUID().toString()).setTimestampMs(ts)
            .addCommands(Command.newBuilder().setReportTaskStatus(r)).build().toByteArray());
      }
    }
    var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long before = threads.getCurrentThreadAllocatedBytes();
    for (byte[] e : entries) {
      check(store.apply(LogEntry.parseFrom(e), ++index));
    }
    long allocated = threads.getCurrentThreadAllocatedBytes() - before;
    System.out.printf("allocated per applied status change (parse included): %.0f B over %d changes%n",
        allocated / (double) (tasks * states.length), tasks * states.length);
  }

  private static void check(Applier.Outcome o) {
    if (!o.result().getCode().equals("OK")) {
      throw new IllegalStateException(o.result().toString());
    }
  }
}
