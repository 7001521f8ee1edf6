package dev.berth.manager.store;

import static dev.berth.manager.store.Fixtures.*;

import dev.berth.internal.v1.ApplyResult;
import dev.berth.internal.v1.LogEntry;
import dev.berth.internal.v1.Plan;
import java.util.Arrays;

/**
 * Apply time of an allocator-sized plan (create and assign 1,000 tasks over 100 nodes) on a
 * store that already holds {@code tasks} assigned tasks, in-process (no Raft): what every
 * manager spends applying one scale-up plan, while the status entries behind it wait. A class
 * with {@code main}, kept out of {@code mvn verify}; figures in docs/benchmarks.md ("Control
 * plane"). Args: {@code [tasks=100000] [plans=30]}; the first third of the plans warm up.
 */
public final class PlanApplyBench {
  private PlanApplyBench() {}

  public static void main(String[] args) {
    int tasks = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    int plans = args.length > 1 ? Integer.parseInt(args[1]) : 30;
    int nodes = 100;
    int perPlan = 1_000;
    ClusterStore store = new ClusterStore();
    long index = 0;
    check(store.apply(entry("", init()), ++index));
    check(store.apply(entry("", createService("s1", spec("web", 1))), ++index));
    for (int n = 0; n < nodes; n++) {
      check(store.apply(entry("", registerNode("node" + n, 1L << 50, 1L << 50)), ++index));
    }
    int next = 0;
    for (; next < tasks; next += perPlan) {
      check(store.apply(planOf(next, perPlan, nodes), ++index));
    }
    long[] nanos = new long[plans];
    for (int p = 0; p < plans; p++, next += perPlan) {
      LogEntry e = planOf(next, perPlan, nodes);
      long t0 = System.nanoTime();
      check(store.apply(e, ++index));
      nanos[p] = System.nanoTime() - t0;
    }
    long[] measured = Arrays.copyOfRange(nanos, plans / 3, plans);
    Arrays.sort(measured);
    System.out.printf("plan of %d creates + %d assignments over %d nodes on a store of %d tasks:"
        + " apply p50 %.2f ms, min %.2f ms, max %.2f ms (%d plans after %d warm-up)%n",
        perPlan, perPlan, nodes, tasks, measured[measured.length / 2] / 1e6, measured[0] / 1e6,
        measured[measured.length - 1] / 1e6, measured.length, plans / 3);
  }

  /** Creates tasks {@code from..from+count-1} (1 ms of CPU, 1 MiB each) and assigns them round-robin. */
  private static LogEntry planOf(int from, int count, int nodes) {
    Plan.Builder p = Plan.newBuilder();
    for (int i = from; i < from + count; i++) {
      p.addCreateTasks(newTask("t" + i, "s1", i + 1, 1_000_000, 1 << 20));
      p.addAssignments(assignment("t" + i, "node" + (i % nodes)));
    }
    return entry("", plan(p));
  }

  private static void check(Applier.Outcome o) {
    ApplyResult r = o.result();
    if (!r.getCode().equals("OK")) {
      throw new IllegalStateException(r.getCode() + ": " + r.getMessage());
    }
  }
}
