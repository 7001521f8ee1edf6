package dev.berth.testkit.bench;

import dev.berth.api.v1.Cluster;
import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.Meta;
import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.ReplicatedService;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.TaskState;
import dev.berth.internal.v1.ApplyResult;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.CreateService;
import dev.berth.internal.v1.InitCluster;
import dev.berth.internal.v1.LogEntry;
import dev.berth.manager.dispatcher.DispatcherConfig;
import dev.berth.manager.dispatcher.JoinTokens;
import dev.berth.manager.orchestrator.IdGenerator;
import dev.berth.manager.store.ClusterStore;
import dev.berth.testkit.FakeAgent;
import dev.berth.testkit.FakeAgentFleet;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * End-to-end benchmark (a main, not part of {@code mvn verify}): three Raft managers in this JVM
 * (real Ratis over loopback gRPC), N fake agents on real Netty Session streams, then
 * {@code service create --replicas R}, timed until every replica reports RUNNING in the store.
 *
 * <p>{@code java -cp ... dev.berth.testkit.bench.EndToEndBenchmark AGENTS REPLICAS}
 */
public final class EndToEndBenchmark {
  private EndToEndBenchmark() {}

  public static void main(String[] args) throws Exception {
    int agents = args.length > 0 ? Integer.parseInt(args[0]) : 100;
    int replicas = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
    Path dir = Files.createTempDirectory("berth-e2e");
    int code = 1;
    // FakeAgent registers with a blocking call on this pool: its size bounds how many agents
    // register at once (8 made the manager's registration batches ~3 agents each).
    int threads = Integer.getInteger("berth.bench.agentThreads", 64);
    FakeAgentFleet fleet = new FakeAgentFleet(threads);
    try (RaftManagers cluster = new RaftManagers(3, dir, DispatcherConfig.defaults())) {
      waitFor("leader", 60, () -> cluster.leader().isPresent());
      RaftManagers.Manager leader = cluster.leader().orElseThrow();
      String secret = "benchsecret";
      check(leader.raft().propose(entry(Command.newBuilder().setInitCluster(InitCluster.newBuilder()
          .setCluster(Cluster.newBuilder().setMeta(Meta.newBuilder().setId(IdGenerator.random().next()))
              .setName("bench").setWorkerTokenHash(JoinTokens.sha256(secret))
              .setManagerTokenHash(JoinTokens.sha256("unused-manager-secret")))).build()))
          .get(30, TimeUnit.SECONDS));
      ClusterStore store = leader.raft().stateMachine().store();

      long joinStart = System.nanoTime();
      for (int i = 0; i < agents; i++) {
        fleet.start(cluster.agentAddresses(), FakeAgent.Options.of("BERTH-1-bench-" + secret, "sim-" + i));
      }
      waitFor("all agents registered", 900, () -> store.read(v -> v.nodes().size()) == agents);
      double registeredS = (System.nanoTime() - joinStart) / 1e9;
      waitFor("all agents ready", 900, () -> store.read(v -> v.nodes().stream()
          .filter(n -> n.getStatus().getState() == NodeState.NODE_READY).count()) == agents);
      double joinS = (System.nanoTime() - joinStart) / 1e9;
      long indexBefore = store.index();

      String serviceId = IdGenerator.random().next();
      long start = System.nanoTime();
      check(leader.raft().propose(entry(Command.newBuilder().setCreateService(CreateService.newBuilder()
          .setId(serviceId).setSpec(ServiceSpec.newBuilder().setName("web")
              .setTask(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage("web:1")))
              .setReplicated(ReplicatedService.newBuilder().setReplicas(replicas)))).build()))
          .get(30, TimeUnit.SECONDS));
      double ackedS = (System.nanoTime() - start) / 1e9;
      long[] firstRunning = {0};
      long[] milestones = {0, 0};
      waitFor("all replicas running", 600, () -> {
        long[] counts = store.read(v -> {
          long created = 0;
          long assigned = 0;
          long run = 0;
          for (var t : v.tasksOfService(serviceId)) {
            created++;
            if (t.getStatus().getStateValue() >= TaskState.ASSIGNED_VALUE) {
              assigned++;
            }
            if (t.getStatus().getState() == TaskState.RUNNING) {
              run++;
            }
          }
          return new long[] {created, assigned, run};
        });
        long running = counts[2];
        if (counts[0] == replicas && milestones[0] == 0) {
          milestones[0] = System.nanoTime();
        }
        if (counts[1] == replicas && milestones[1] == 0) {
          milestones[1] = System.nanoTime();
        }
        if (running > 0 && firstRunning[0] == 0) {
          firstRunning[0] = System.nanoTime();
        }
        return running == replicas;
      });
      double allS = (System.nanoTime() - start) / 1e9;
      double firstS = (firstRunning[0] - start) / 1e9;
      long entries = store.index() - indexBefore;
      long perAgentMax = store.read(v -> v.nodes().stream()
          .mapToLong(n -> v.tasksOfNode(n.getMeta().getId()).size()).max().orElse(0));
      long perAgentMin = store.read(v -> v.nodes().stream()
          .mapToLong(n -> v.tasksOfNode(n.getMeta().getId()).size()).min().orElse(0));
      System.out.printf("create acked %.3fs, all tasks created %.3fs, all assigned %.3fs%n", ackedS,
          (milestones[0] - start) / 1e9, (milestones[1] - start) / 1e9);
      System.out.printf("leader before=%s after=%s registered=%.2fs (registration entries=%d)%n", leader.id(),
          cluster.leader().map(RaftManagers.Manager::id).orElse("none"), registeredS,
          leader.dispatcher().registrations().proposedEntries());
      System.out.printf("agents=%d replicas=%d join+ready=%.2fs first RUNNING=%.3fs all RUNNING=%.2fs "
              + "(%.0f tasks/s) log entries=%d status entries=%d tasks/agent=%d..%d%n",
          agents, replicas, joinS, firstS, allS, replicas / allS, entries,
          leader.dispatcher().statusBatcher().proposedEntries(), perAgentMin, perAgentMax);
      code = 0;
    } finally {
      fleet.close();
      deleteTree(dir);
    }
    System.exit(code); // Ratis leaves non-daemon threads behind (NOTES.md)
  }

  private static LogEntry entry(Command command) {
    return LogEntry.newBuilder().setTimestampMs(System.currentTimeMillis()).addCommands(command).build();
  }

  private static void check(ApplyResult result) {
    if (!"OK".equals(result.getCode())) {
      throw new IllegalStateException(result.getCode() + ": " + result.getMessage());
    }
  }

  private static void waitFor(String what, int seconds, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out waiting for " + what);
      }
      Thread.sleep(10);
    }
  }

  private static void deleteTree(Path dir) throws java.io.IOException {
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
