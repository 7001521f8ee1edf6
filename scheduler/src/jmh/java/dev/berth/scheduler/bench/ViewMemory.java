package dev.berth.scheduler.bench;

import dev.berth.scheduler.ClusterView;
import dev.berth.scheduler.Scheduler;
import dev.berth.scheduler.SchedulingResult;
import java.lang.ref.Reference;

/**
 * Heap retained by a {@link ClusterView} of N nodes, and by the same view after one batch of placements is
 * recorded into it; measured as used heap after repeated full GCs. The node/task protos themselves are
 * counted too (the control plane holds them anyway; the view shares them). Run it with a serial GC, e.g.
 * {@code java -XX:+UseSerialGC -Xmx2g -cp berth-scheduler-benchmarks.jar
 * dev.berth.scheduler.bench.ViewMemory 10000 100000}.
 */
public final class ViewMemory {

  private ViewMemory() {}

  public static void main(String[] args) {
    int nodes = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int tasks = args.length > 1 ? Integer.parseInt(args[1]) : 100_000;
    long base = usedAfterGc();
    BenchCluster cluster = new BenchCluster(nodes, tasks, 10, 1);
    long protos = usedAfterGc() - base;
    ClusterView view = cluster.view();
    long withView = usedAfterGc() - base;
    long t0 = System.nanoTime();
    SchedulingResult r = new Scheduler(7).schedule(view, cluster.batch);
    long elapsed = System.nanoTime() - t0;
    long afterBatch = usedAfterGc() - base;
    System.out.printf("nodes=%d runningTasks=%d batch=%d placed=%d unschedulable=%d (one cold run: %d ms)%n",
        nodes, cluster.running.size(), tasks, r.assignments().size(), r.unschedulable().size(),
        elapsed / 1_000_000);
    System.out.printf("protos (nodes, services, running + batch tasks) : %6.1f MB%n", protos / 1e6);
    System.out.printf("view over them (excl. protos)                   : %6.1f MB%n", (withView - protos) / 1e6);
    System.out.printf("view after recording the batch (excl. protos)   : %6.1f MB%n", (afterBatch - protos) / 1e6);
    System.out.printf("everything (protos + view + placements + result): %6.1f MB%n", afterBatch / 1e6);
    // The measurements above need these alive until here.
    Reference.reachabilityFence(view);
    Reference.reachabilityFence(cluster);
    Reference.reachabilityFence(r);
  }

  private static long usedAfterGc() {
    Runtime rt = Runtime.getRuntime();
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 5; i++) {
      System.gc();
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      used = Math.min(used, rt.totalMemory() - rt.freeMemory());
    }
    return used;
  }
}
