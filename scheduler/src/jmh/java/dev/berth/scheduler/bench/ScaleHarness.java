package dev.berth.scheduler.bench;

import dev.berth.scheduler.ClusterView;
import dev.berth.scheduler.Scheduler;
import dev.berth.scheduler.SchedulingResult;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;

/**
 * Companion to {@link PlacementBenchmark} for shared, loaded machines: runs the same batches and reports both
 * wall time and the scheduling thread's CPU time per batch (CPU time is what the code costs; wall time on a box
 * whose load average exceeds its cores also counts waiting for a core). Prints one line per size:
 * {@code nodes tasks placed wall-min wall-median cpu-min cpu-median placements/s (by cpu-median)}.
 *
 * <p>Usage: {@code java -XX:+UseParallelGC -Xmx2g -cp berth-scheduler-benchmarks.jar
 * dev.berth.scheduler.bench.ScaleHarness [runs] [nodes,tasks ...]} (default: 5 runs, 100/1k/10k nodes ×
 * 1k/10k/100k tasks, after 3 warm-up runs of each size).
 */
public final class ScaleHarness {

  private ScaleHarness() {}

  public static void main(String[] args) {
    int runs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    int[][] sizes;
    if (args.length > 1) {
      sizes = new int[args.length - 1][];
      for (int i = 1; i < args.length; i++) {
        String[] p = args[i].split(",");
        sizes[i - 1] = new int[] {Integer.parseInt(p[0]), Integer.parseInt(p[1])};
      }
    } else {
      sizes = new int[9][];
      int k = 0;
      for (int nodes : new int[] {100, 1_000, 10_000}) {
        for (int tasks : new int[] {1_000, 10_000, 100_000}) {
          sizes[k++] = new int[] {nodes, tasks};
        }
      }
    }
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    System.out.println("nodes  tasks  placed  wall_min_ms  wall_med_ms  cpu_min_ms  cpu_med_ms  placements/s(cpu_med)");
    for (int[] size : sizes) {
      BenchCluster cluster = new BenchCluster(size[0], size[1], 2, 1);
      Scheduler scheduler = new Scheduler(7);
      long[] wall = new long[runs];
      long[] cpu = new long[runs];
      int placed = 0;
      for (int i = -3; i < runs; i++) {
        ClusterView view = cluster.view();
        System.gc();
        long c0 = mx.getCurrentThreadCpuTime();
        long w0 = System.nanoTime();
        SchedulingResult r = scheduler.schedule(view, cluster.batch);
        long w = System.nanoTime() - w0;
        long c = mx.getCurrentThreadCpuTime() - c0;
        placed = r.assignments().size();
        if (i >= 0) {
          wall[i] = w;
          cpu[i] = c;
        }
      }
      Arrays.sort(wall);
      Arrays.sort(cpu);
      double cpuMed = cpu[runs / 2] / 1e6;
      System.out.printf("%5d %6d %7d %12.0f %12.0f %11.0f %11.0f %14.0f%n", size[0], size[1], placed,
          wall[0] / 1e6, wall[runs / 2] / 1e6, cpu[0] / 1e6, cpuMed, placed / (cpuMed / 1e3));
    }
  }
}
