package dev.berth.scheduler.bench;

import dev.berth.scheduler.ClusterView;
import dev.berth.scheduler.Scheduler;
import dev.berth.scheduler.SchedulingResult;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * One {@link Scheduler#schedule} call placing a batch of mixed-service tasks onto a fresh view that already
 * runs 2 tasks per node. The view is rebuilt before every invocation, outside the measured time, followed by a
 * full GC so it sits in the old generation like the control plane's long-lived view (otherwise the first young
 * collection inside the measurement copies the whole freshly built view). The score is the time of a whole
 * batch, so placements/s = placed tasks / score.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgs = {"-Xms2g", "-Xmx2g"})
public class PlacementBenchmark {

  @Param({"100", "1000", "10000"})
  public int nodes;

  @Param({"1000", "10000", "100000"})
  public int tasks;

  private BenchCluster cluster;
  private ClusterView view;
  private final Scheduler scheduler = new Scheduler(7);

  @Setup(Level.Trial)
  public void cluster() {
    cluster = new BenchCluster(nodes, tasks, 2, 1);
  }

  @Setup(Level.Invocation)
  public void freshView() {
    view = cluster.view();
    System.gc();
  }

  @Benchmark
  public void schedule(Blackhole bh) {
    SchedulingResult r = scheduler.schedule(view, cluster.batch);
    bh.consume(r);
  }
}
