package dev.berth.testkit.hosts;

import dev.berth.api.v1.ClusterServiceGrpc;
import dev.berth.api.v1.GetClusterRequest;
import dev.berth.api.v1.GetClusterResponse;
import dev.berth.api.v1.GetJoinTokensRequest;
import dev.berth.api.v1.JoinTokens;
import dev.berth.api.v1.ListRequest;
import dev.berth.api.v1.ListTasksRequest;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeState;
import dev.berth.api.v1.ReadConsistency;
import dev.berth.testhosts.TestHosts;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * A Berth cluster of real processes on {@link TestHosts}: manager {@code i} (1-based) runs in its
 * own test host at {@code ip(i)}, agent {@code j} in its own at {@code ip(10 + j)}; the underlay
 * is {@linkplain TestHosts#linkedToHost() linked} to the test's namespace, so the test reaches
 * every manager's API at {@code ip(i):4700}. Every host has its own network namespace, so fixed
 * ports never clash with other tests; every agent has its own state dir and node id, so cgroups
 * ({@code berth-<nodeId>}) and container state never clash either.
 *
 * <p>{@link #close} kills every process, removes every agent's containers and cgroups with the
 * agent's own runtime ({@link HostAgent#destroyContainers}), deletes the namespaces and the state
 * dirs (logs stay, under {@code dir}). A JVM shutdown hook does the same if the test never closes.
 *
 * <p>Thread model: drive it from the test thread. Errors: a process that does not come up is an
 * {@link IOException} naming its log.
 */
public final class HostCluster implements AutoCloseable {
  public static final int API_PORT = 4700;
  private final Path dir;
  private final TestHosts hosts;
  private final List<HostManager> managers = new ArrayList<>();
  private final List<HostAgent> agents = new ArrayList<>();
  private final Thread hook = new Thread(this::close, "host-cluster-cleanup");
  private JoinTokens tokens;
  private boolean closed;

  /** Why this machine cannot run it with real containers (not root, no netns, nsenter, umoci...), or null. */
  public static String unsupportedReason() {
    String r = TestHosts.unsupportedReason();
    if (r == null && !Files.isExecutable(Path.of("/usr/bin/nsenter"))) {
      r = "nsenter (util-linux) missing";
    }
    return r != null ? r : BusyboxImage.unsupportedReason();
  }

  /**
   * A cluster under {@code target/host-clusters/<name>...} whose agents run real containers and
   * have {@link BusyboxImage} imported.
   */
  public static HostCluster withBusybox(String name, int managerCount, int agentCount) throws IOException {
    Path dir = Files.createTempDirectory(
        Files.createDirectories(Path.of("target", "host-clusters")).toAbsolutePath(), name);
    Path image = BusyboxImage.build(Files.createDirectories(dir.resolve("image")));
    return start(dir, managerCount, agentCount, "native", image);
  }

  private HostCluster(Path dir) throws IOException {
    this.dir = dir;
    this.hosts = TestHosts.linkedToHost();
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /**
   * Starts {@code managerCount} managers (one Raft group, roomy timeouts) and {@code agentCount}
   * agents with {@code executor} ("native": each gets {@code image} imported first, if given).
   */
  public static HostCluster start(Path dir, int managerCount, int agentCount, String executor, Path image)
      throws IOException {
    HostCluster c = new HostCluster(Files.createDirectories(dir));
    try {
      c.startManagers(managerCount);
      for (int j = 1; j <= agentCount; j++) {
        c.addAgent(executor, image);
      }
      c.awaitReadyNodes(agentCount);
      return c;
    } catch (IOException | RuntimeException e) {
      c.close();
      throw e;
    }
  }

  private void startManagers(int count) throws IOException {
    for (int i = 1; i <= count; i++) {
      String ns = hosts.addHost("m" + i, i);
      HostManager m = new HostManager(ns, hosts.ip(i), API_PORT, dir.resolve("m" + i));
      managers.add(m);
      if (i == 1) {
        m.start("init");
        tokens = m.api().getJoinTokens(GetJoinTokensRequest.getDefaultInstance());
      } else {
        m.start("join", "--token", tokens.getManager(), managers.get(0).addr());
      }
    }
    await("every manager sees " + count + " managers and a leader", Duration.ofSeconds(120), () ->
        managers.stream().allMatch(m -> m.cluster().map(c -> c.getManagersCount() == count
            && !c.getLeaderAddr().isEmpty()).orElse(false)));
  }

  /** Adds one more agent in a new test host (the next free number) and starts it. */
  public HostAgent addAgent(String executor, Path image) throws IOException {
    int j = agents.size() + 1;
    String ns = hosts.addHost("a" + j, 10 + j);
    HostAgent a = new HostAgent(ns, hosts.ip(10 + j), dir.resolve("a" + j), executor,
        managers.stream().map(HostManager::addr).toList(), tokens.getWorker());
    agents.add(a);
    if (image != null) {
      a.importImage(image, BusyboxImage.NAME);
    }
    a.start();
    return a;
  }

  /** Waits until {@code n} nodes are READY. */
  public void awaitReadyNodes(int n) {
    await(n + " ready nodes", Duration.ofSeconds(120), () -> nodes().stream()
        .filter(x -> x.getStatus().getState() == NodeState.NODE_READY).count() >= n);
  }

  /** Every node, read (stale) from any manager that answers. */
  public List<Node> nodes() {
    for (HostManager m : managers) {
      try {
        return m.api().listNodes(ListRequest.newBuilder().setConsistency(ReadConsistency.STALE).build())
            .getNodesList();
      } catch (StatusRuntimeException e) {
        // try the next one
      }
    }
    return List.of();
  }

  public List<HostManager> managers() {
    return List.copyOf(managers);
  }

  public List<HostAgent> agents() {
    return List.copyOf(agents);
  }

  public TestHosts hosts() {
    return hosts;
  }

  /** The tasks of {@code service} the managers want running and that run (linearizable read). */
  public List<Task> runningTasks(String service) {
    return api().listTasks(ListTasksRequest.newBuilder().setService(service).setDesiredRunning(true)
        .addStates(TaskState.RUNNING).build()).getTasksList();
  }

  /** The current leader as some reachable manager reports it (excluding {@code except}). */
  public Optional<HostManager> leader(HostManager... except) {
    List<HostManager> skip = List.of(except);
    for (HostManager m : managers) {
      if (skip.contains(m)) {
        continue;
      }
      Optional<String> addr = m.cluster().map(GetClusterResponse::getLeaderAddr).filter(s -> !s.isEmpty());
      if (addr.isPresent()) {
        return managers.stream().filter(x -> x.addr().equals(addr.get()) && !skip.contains(x)).findFirst();
      }
    }
    return Optional.empty();
  }

  /** A client for any manager (the first): managers forward writes to the leader. */
  public ClusterServiceGrpc.ClusterServiceBlockingStub api() {
    return managers.get(0).api();
  }

  /** Polls {@code condition} every 250 ms until it holds, or fails after {@code timeout}. */
  public static void await(String what, Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out after " + timeout.toSeconds() + " s waiting for: " + what);
      }
      try {
        Thread.sleep(250);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted waiting for: " + what, e);
      }
    }
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // already shutting down: this is the hook
    }
    for (HostAgent a : agents) {
      a.kill();
      try {
        a.destroyContainers();
      } catch (RuntimeException e) {
        System.err.println("cleaning up the containers of " + a.namespace() + ": " + e.getMessage());
      }
    }
    for (HostManager m : managers) {
      m.kill();
    }
    hosts.close();
    deleteStateKeepingLogs();
  }

  private void deleteStateKeepingLogs() {
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        if (!p.toString().endsWith(".log") && !p.equals(dir)) {
          try {
            Files.deleteIfExists(p);
          } catch (IOException e) {
            // a directory still holding logs
          }
        }
      }
    } catch (IOException e) {
      System.err.println("cleaning " + dir + ": " + e.getMessage());
    }
  }
}
