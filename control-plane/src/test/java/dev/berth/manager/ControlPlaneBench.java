package dev.berth.manager;

import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.CreateServiceRequest;
import dev.berth.api.v1.GetClusterRequest;
import dev.berth.api.v1.GetJoinTokensRequest;
import dev.berth.api.v1.Meta;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeDescription;
import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.NodeStatus;
import dev.berth.api.v1.ReplicatedService;
import dev.berth.api.v1.Resources;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import dev.berth.api.v1.WriteOptions;
import dev.berth.internal.v1.ApplyResult;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.CreateService;
import dev.berth.internal.v1.LogEntry;
import dev.berth.internal.v1.RegisterNode;
import dev.berth.internal.v1.ReportTaskStatus;
import dev.berth.internal.v1.TaskStatusChange;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.TimeDuration;

/**
 * Benchmark (not a test; kept out of {@code mvn verify}): 3 managers as separate processes
 * on loopback with production Raft timeouts. Measures single-command writes through the
 * public API, batched task-status entries through Raft (as the dispatcher proposes them),
 * and leader kill -9 → first acknowledged write.
 *
 * <p>Run: {@code mvn -o -q -pl control-plane -am test-compile && java -cp "$(cat cp.txt)"
 * dev.berth.manager.ControlPlaneBench [tasks=20000] [inflight=4]} (tasks=0: only the
 * failover measure) — see
 * docs/benchmarks.md for the exact command.
 */
public final class ControlPlaneBench {
  /** Minimum election timeout of the benchmarked managers (max is twice it). */
  static final String ELECTION_MS = System.getProperty("berth.bench.electionMs", "500");
  /**
   * The managers' agent heartbeat (10 min): the benchmark's nodes have no agents, and with it the
   * leader keeps them READY (grace 5 heartbeats) instead of marking them down, which the harness
   * undid every 2 s with node-status entries, each a full reconcile round in the measured window.
   */
  static final String HEARTBEAT_MS = "600000";

  public static void main(String[] args) throws Exception {
    // The managers run as `bin/berth manager` starts them (C2, G1, 1 GB), unless
    // -Dberth.manager.jvm=test asks for the tests' serial-GC, C1-only, 256 MB JVMs.
    if (System.getProperty("berth.manager.jvm") == null) {
      System.setProperty("berth.manager.jvm", "production");
    }
    int tasks = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    int inflight = args.length > 1 ? Integer.parseInt(args[1]) : 4;
    Path dir = Files.createTempDirectory("berth-bench");
    System.out.println("bench dir (manager logs): " + dir);
    List<ManagerProcess> ms = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        ms.add(new ManagerProcess(dir.resolve("m" + i)));
      }
      ms.get(0).start(false, "init", "--snapshot-threshold", "2000", "--election-timeout-ms", ELECTION_MS, "--dispatcher-heartbeat-ms", HEARTBEAT_MS);
      String token = untilAnswered(() -> ms.get(0).api().getJoinTokens(GetJoinTokensRequest.getDefaultInstance())
          .getManager());
      for (int i = 1; i < 3; i++) {
        ms.get(i).start(false, "join", "--token", token, "--snapshot-threshold", "2000", "--election-timeout-ms", ELECTION_MS, "--dispatcher-heartbeat-ms", HEARTBEAT_MS, ms.get(0).addr());
      }
      while (untilAnswered(() -> ms.stream().anyMatch(m -> m.api().getCluster(GetClusterRequest.getDefaultInstance())
          .getManagersList().stream().filter(x -> !x.getAddr().isEmpty()).count() < 3))) {
        Thread.sleep(200);
      }
      Thread.sleep(2000);
      int idle = Integer.getInteger("berth.bench.idleSeconds", 0);
      if (idle > 0) { // stability of the election timeout: leader changes in an idle cluster
        long before = leaderTerms(ms);
        Thread.sleep(idle * 1000L);
        System.out.printf("idle %d s at election timeout %s ms: %d leader change(s)%n", idle, ELECTION_MS,
            leaderTerms(ms) - before);
      }
      // tasks=0: failover only (quick, repeatable runs of the failover figure)
      if (tasks > 0) {
        singleWrites(leaderOf(ms));
        batched(ms, tasks, inflight);
      }
      long terms = leaderTerms(ms);
      failover(ms);
      if (tasks > 0 || idle > 0) {
        System.out.printf("leader changes before the failover phase: %d%n", terms - 1);
      }
    } finally {
      for (ManagerProcess m : ms) {
        m.stop();
      }
    }
    System.exit(0);
  }

  /**
   * Setup reads, retried for up to 60 s while the new cluster has no leader: on a loaded host
   * (load 15+, other builds) the first elections repeat, and one UNAVAILABLE must not end a run.
   */
  static <T> T untilAnswered(java.util.concurrent.Callable<T> read) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        return read.call();
      } catch (io.grpc.StatusRuntimeException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(500);
      }
    }
  }

  /** Leaderships taken so far, from the managers' logs ("leads term N" lines). */
  static long leaderTerms(List<ManagerProcess> ms) throws java.io.IOException {
    long n = 0;
    for (ManagerProcess m : ms) {
      try (var lines = Files.lines(Path.of(m.stateDir + ".log"))) {
        n += lines.filter(l -> l.contains(" leads term ")).count();
      }
    }
    return n;
  }

  static ManagerProcess leaderOf(List<ManagerProcess> ms) {
    for (ManagerProcess m : ms) {
      if (!m.alive()) {
        continue;
      }
      try {
        String addr = m.api().getCluster(GetClusterRequest.getDefaultInstance()).getLeaderAddr();
        for (ManagerProcess x : ms) {
          if (x.addr().equals(addr)) {
            return x;
          }
        }
      } catch (RuntimeException e) {
        // try the next one
      }
    }
    throw new IllegalStateException("no leader");
  }

  static String pct(long[] nanos, int n) {
    long[] s = Arrays.copyOf(nanos, n);
    Arrays.sort(s);
    return String.format("p50 %.1f ms, p99 %.1f ms", s[n / 2] / 1e6, s[Math.min(n - 1, n * 99 / 100)] / 1e6);
  }

  static ServiceSpec spec(String name) {
    return ServiceSpec.newBuilder().setName(name).setReplicated(ReplicatedService.newBuilder().setReplicas(1))
        .setTask(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage("busybox"))).build();
  }

  /** Sequential service creations through the public API of the leader. */
  static void singleWrites(ManagerProcess leader) {
    int n = 300;
    long[] lat = new long[n];
    for (int i = 0; i < 50; i++) {
      leader.api().createService(CreateServiceRequest.newBuilder().setNoResolveImage(true).setSpec(spec("warm" + i)).build());
    }
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      long s = System.nanoTime();
      leader.api().createService(CreateServiceRequest.newBuilder().setNoResolveImage(true)
          .setWrite(WriteOptions.newBuilder().setRequestId(UUID.randomUUID().toString()))
          .setSpec(spec("single" + i)).build());
      lat[i] = System.nanoTime() - s;
    }
    double secs = (System.nanoTime() - t0) / 1e9;
    System.out.printf("single API writes (1 client, sequential): %d in %.2f s = %.0f writes/s, %s%n",
        n, secs, n / secs, pct(lat, n));
  }

  static RaftClient raftClient(List<ManagerProcess> ms) throws Exception {
    Properties p = new Properties();
    try (var r = Files.newBufferedReader(ms.get(0).stateDir.resolve("manager.properties"))) {
      p.load(r);
    }
    List<RaftPeer> peers = new ArrayList<>();
    for (ManagerProcess m : ms) {
      Properties q = new Properties();
      try (var r = Files.newBufferedReader(m.stateDir.resolve("manager.properties"))) {
        q.load(r);
      }
      peers.add(RaftPeer.newBuilder().setId(q.getProperty("node_id")).setAddress(q.getProperty("raft_addr")).build());
    }
    RaftGroup group = RaftGroup.valueOf(RaftGroupId.valueOf(UUID.fromString(p.getProperty("group_id"))), peers);
    return RaftClient.newBuilder().setRaftGroup(group).setProperties(new RaftProperties())
        .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(50,
            TimeDuration.valueOf(50, TimeUnit.MILLISECONDS))).build();
  }

  static ApplyResult propose(RaftClient c, LogEntry e) throws Exception {
    var reply = c.async().send(Message.valueOf(UnsafeByteOperations.unsafeWrap(e.toByteArray())))
        .get(60, TimeUnit.SECONDS);
    return ApplyResult.parseFrom(reply.getMessage().getContent().asReadOnlyByteBuffer());
  }

  /**
   * Waits (up to 10 min) until the service's {@code count} tasks are all ASSIGNED, and returns
   * them in slot order.
   */
  static List<Task> awaitPlaced(ManagerProcess leader, String service, int nodes, int count) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
    while (true) {
      List<Task> placed = perNode(leader, nodes,
          dev.berth.api.v1.ListTasksRequest.newBuilder().setService(service).addStates(TaskState.ASSIGNED));
      if (placed.size() >= count) {
        placed.sort(java.util.Comparator.comparingLong(Task::getSlot));
        return placed;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(placed.size() + " of " + count + " tasks placed after 10 min");
      }
      Thread.sleep(2000);
    }
  }

  /**
   * Prints the tasks by state after the load (the assigned ones per node, plus the unassigned):
   * a load of progress reports must leave the store at its count, all RUNNING; replacements or
   * other states mean the reconcilers planned during the measurement (e.g. nodes marked down),
   * which the figures then include.
   */
  static void census(ManagerProcess leader, int nodes, int expected) {
    List<Task> all = perNode(leader, nodes, dev.berth.api.v1.ListTasksRequest.newBuilder());
    all.addAll(leader.api().listTasks(dev.berth.api.v1.ListTasksRequest.newBuilder()
        .addStates(TaskState.NEW).addStates(TaskState.PENDING).build()).getTasksList());
    java.util.Map<String, Integer> byState = new java.util.TreeMap<>();
    for (Task t : all) {
      byState.merge(t.getStatus().getState() + "/desired " + t.getDesiredState(), 1, Integer::sum);
    }
    System.out.printf("tasks after the load: %d (created %d): %s%n", all.size(), expected, byState);
  }

  /**
   * The tasks {@code filter} selects on nodes node0..node{n-1}, read node by node: one list of
   * 100,000 tasks is over gRPC's message limit.
   */
  static List<Task> perNode(ManagerProcess leader, int nodes, dev.berth.api.v1.ListTasksRequest.Builder filter) {
    List<Task> out = new ArrayList<>();
    for (int n = 0; n < nodes; n++) {
      out.addAll(leader.api().listTasks(filter.setNode("node" + n).build()).getTasksList());
    }
    return out;
  }

  /**
   * A service whose tasks the leader's reconcilers create and place, then status reports in
   * batches, several entries in flight.
   */
  static void batched(List<ManagerProcess> ms, int tasks, int inflight) throws Exception {
    try (RaftClient c = raftClient(ms)) {
      long ts = System.currentTimeMillis();
      int nodes = 100;
      String svc = "benchsvc";
      // -Dberth.bench.warmupTasks=W (status-rate runs): W more tasks, which the warm-up walks
      // instead of the measured ones, so the measured window is the state changes of `tasks`
      int warmupTasks = Integer.getInteger("berth.bench.warmupTasks", 0);
      int created = tasks + warmupTasks;
      // The tasks come as from `service create --replicas N`: the leader's scaler creates them and
      // its allocator places them, and the load reports on what they placed. (The harness used to
      // write the tasks into the slots itself, racing the scaler, which filled the same slots: a
      // run ended with 27,350 extra tasks placed by reconcile rounds inside the measured window.)
      // The nodes have no agents; the managers' heartbeat is long enough to keep them READY.
      ServiceSpec spec = spec(svc).toBuilder().setReplicated(ReplicatedService.newBuilder().setReplicas(created)).build();
      LogEntry.Builder setup = LogEntry.newBuilder().setTimestampMs(ts);
      for (int n = 0; n < nodes; n++) {
        setup.addCommands(Command.newBuilder().setRegisterNode(RegisterNode.newBuilder().setNode(Node.newBuilder()
            .setMeta(Meta.newBuilder().setId("node" + n)).setStatus(ready(ts)).setDescription(NodeDescription.newBuilder()
                .setResources(Resources.newBuilder().setNanoCpus(1L << 50).setMemoryBytes(1L << 50))))));
      }
      setup.addCommands(Command.newBuilder().setCreateService(CreateService.newBuilder().setId(svc).setSpec(spec)));
      ApplyResult r = propose(c, setup.build());
      if (!r.getCode().equals("OK")) {
        throw new IllegalStateException(r.toString());
      }
      long placing = System.nanoTime();
      List<Task> placed = awaitPlaced(leaderOf(ms), svc, nodes, created);
      System.out.printf("setup: %d tasks created and placed on %d nodes by the leader's reconcilers in %.1f s%n",
          created, nodes, (System.nanoTime() - placing) / 1e9);
      int rate = Integer.getInteger("berth.bench.statusRate", 0);
      if (rate > 0) { // open loop through the dispatcher's batcher instead of the fixed entries below
        StatusLoad.run(c, placed.subList(0, tasks), placed.subList(tasks, created), ts, rate,
            ms.get(0).stateDir.getParent(), leaderOf(ms).stateDir.toString());
        census(leaderOf(ms), nodes, created);
        return;
      }
      TaskState[] states = {TaskState.ACCEPTED, TaskState.PREPARING, TaskState.STARTING, TaskState.RUNNING};
      java.util.Map<String, List<Task>> byNode = new java.util.HashMap<>();
      for (Task t : placed.subList(0, tasks)) {
        byNode.computeIfAbsent(t.getNodeId(), x -> new ArrayList<>()).add(t);
      }
      // One entry per node and state: a node's reports batched, as the dispatcher does per session.
      int entries = states.length * nodes;
      long[] lat = new long[entries];
      Semaphore window = new Semaphore(inflight);
      List<CompletableFuture<?>> all = new ArrayList<>();
      int k = 0;
      long t0 = System.nanoTime();
      for (TaskState st : states) {
        for (int n = 0; n < nodes; n++) {
          ReportTaskStatus.Builder rep = ReportTaskStatus.newBuilder().setNodeId("node" + n);
          for (Task t : byNode.getOrDefault(rep.getNodeId(), List.of())) {
            rep.addChanges(TaskStatusChange.newBuilder().setTaskId(t.getMeta().getId())
                .setStatus(TaskStatus.newBuilder().setState(st).setTimestampMs(ts)));
          }
          LogEntry e = LogEntry.newBuilder().setRequestId(UUID.randomUUID().toString()).setTimestampMs(ts)
              .addCommands(Command.newBuilder().setReportTaskStatus(rep)).build();
          window.acquire();
          int slot = k++;
          long s = System.nanoTime();
          all.add(c.async().send(Message.valueOf(UnsafeByteOperations.unsafeWrap(e.toByteArray())))
              .whenComplete((reply, err) -> {
                lat[slot] = System.nanoTime() - s;
                window.release();
                try {
                  if (err != null || !ApplyResult.parseFrom(reply.getMessage().getContent().asReadOnlyByteBuffer())
                      .getCode().equals("OK")) {
                    System.out.println("batch failed: " + (err != null ? err : ApplyResult.parseFrom(
                        reply.getMessage().getContent().asReadOnlyByteBuffer()).getMessage()));
                  }
                } catch (Exception x) {
                  System.out.println("batch failed: " + x);
                }
              }));
        }
      }
      CompletableFuture.allOf(all.toArray(new CompletableFuture[0])).get(300, TimeUnit.SECONDS);
      double secs = (System.nanoTime() - t0) / 1e9;
      long updates = (long) tasks * states.length;
      System.out.printf("batched ReportTaskStatus (~%d updates/entry, %d entries in flight): %d updates in %.2f s"
          + " = %.0f updates/s (%.0f entries/s), commit latency per entry %s%n",
          tasks / nodes, inflight, updates, secs, updates / secs, entries / secs, pct(lat, entries));
      if (Boolean.getBoolean("berth.bench.trace")) {
        StringBuilder b = new StringBuilder("latency per entry in send order (ms):");
        for (int i = 0; i < entries; i++) {
          b.append(i % 20 == 0 ? "\n  " : " ").append(lat[i] / 1_000_000);
        }
        System.out.println(b);
      }
    }
  }

  static NodeStatus ready(long ts) {
    return NodeStatus.newBuilder().setState(NodeState.NODE_READY).setChangedAtMs(ts).build();
  }

  /**
   * kill -9 of the leader, then writes to a survivor until one is acknowledged; repeated
   * {@code berth.bench.failovers} times (default 1), restarting the killed manager from its state
   * dir ({@code berth manager run}) and letting it catch up between rounds.
   */
  static void failover(List<ManagerProcess> ms) throws Exception {
    int rounds = Integer.getInteger("berth.bench.failovers", 1);
    long[] took = new long[rounds];
    for (int round = 0; round < rounds; round++) {
      ManagerProcess leader = leaderOf(ms);
      ManagerProcess survivor = ms.stream().filter(m -> m != leader).findFirst().orElseThrow();
      survivor.api().createService(CreateServiceRequest.newBuilder().setNoResolveImage(true).setSpec(spec("pre-kill" + round)).build());
      System.out.println("killing the leader " + leader.stateDir.getFileName() + " at " + java.time.LocalTime.now()
          + "; writing to " + survivor.stateDir.getFileName());
      long t0 = System.nanoTime();
      leader.kill();
      int attempts = 0;
      while (true) {
        attempts++;
        try {
          survivor.api().withDeadlineAfter(5, TimeUnit.SECONDS).createService(CreateServiceRequest.newBuilder().setNoResolveImage(true)
              .setWrite(WriteOptions.newBuilder().setRequestId("failover" + round))
              .setSpec(spec("post-kill" + round)).build());
          break;
        } catch (RuntimeException e) {
          if (System.nanoTime() - t0 > TimeUnit.SECONDS.toNanos(60)) {
            throw e;
          }
        }
      }
      took[round] = System.nanoTime() - t0;
      System.out.println("acknowledged at " + java.time.LocalTime.now());
      System.out.printf("leader kill -9 -> first acknowledged write: %.0f ms (%d attempt(s))%n",
          took[round] / 1e6, attempts);
      if (round + 1 < rounds) {
        leader.start(false, "run", "--snapshot-threshold", "2000", "--election-timeout-ms", ELECTION_MS, "--dispatcher-heartbeat-ms", HEARTBEAT_MS);
        Thread.sleep(5000); // the restarted manager catches up and the cluster settles
      }
    }
    if (rounds > 1) {
      long[] sorted = took.clone();
      Arrays.sort(sorted);
      System.out.printf("failover over %d runs: min %.0f ms, median %.0f ms, max %.0f ms%n", rounds,
          sorted[0] / 1e6, sorted[rounds / 2] / 1e6, sorted[rounds - 1] / 1e6);
    }
  }
}
