package dev.berth.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import dev.berth.agent.Agent;
import dev.berth.agent.cgroup.CgroupManager;
import dev.berth.agent.image.ImageService;
import dev.berth.agent.runtime.ContainerRuntime;
import dev.berth.agent.runtime.LauncherBinary;
import dev.berth.agent.runtime.RuntimeSettings;
import dev.berth.agent.session.HostDescription;
import dev.berth.agent.session.SessionConfig;
import dev.berth.agent.task.NativeExecutor;
import dev.berth.agent.task.TaskNetworking;
import dev.berth.api.v1.ClusterServiceGrpc;
import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.LogChunk;
import dev.berth.api.v1.ReplicatedService;
import dev.berth.api.v1.ServiceLogsRequest;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.TaskState;
import dev.berth.manager.dispatcher.DispatcherConfig;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ServiceLogs} and {@code Exec} through a manager into a real container: an in-process cluster, and an
 * agent with the native executor running a busybox image (built with umoci, imported as a layout tar) as a
 * real container. Needs root, overlayfs, busybox-static and umoci; skipped where they are absent.
 */
class NativeLogsAndExecTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  @TempDir
  Path tmp;

  private LocalCluster cluster;
  private Agent agent;
  private NativeExecutor executor;
  private ManagedChannel client;
  private String nodeId;
  private Path state;

  private static void run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) {
      throw new IllegalStateException(String.join(" ", cmd) + ": " + out);
    }
  }

  /** A one-layer image layout tar: busybox-static and its applets. */
  private Path buildImage() throws Exception {
    Path layout = tmp.resolve("layout");
    Path bundle = tmp.resolve("bundle");
    run("umoci", "init", "--layout", layout.toString());
    run("umoci", "new", "--image", layout + ":base");
    run("umoci", "unpack", "--image", layout + ":base", bundle.toString());
    Path bin = bundle.resolve("rootfs/bin");
    Files.createDirectories(bin);
    Files.copy(Path.of("/bin/busybox"), bin.resolve("busybox"));
    for (String applet : List.of("sh", "hostname", "cat", "sleep", "readlink", "ls")) {
      Files.createSymbolicLink(bin.resolve(applet), Path.of("busybox"));
    }
    run("umoci", "repack", "--image", layout + ":base", bundle.toString());
    run("umoci", "config", "--image", layout + ":base", "--tag", "1", "--config.env", "PATH=/bin",
        "--architecture", "amd64", "--os", "linux");
    Path tar = tmp.resolve("image.tar");
    run("tar", "-C", layout.toString(), "-cf", tar.toString(), ".");
    return tar;
  }

  @BeforeEach
  void start() throws Exception {
    assumeThat(Files.readString(Path.of("/proc/self/status")).lines().anyMatch(l -> l.matches("Uid:\\s+0\\s.*")))
        .as("needs root").isTrue();
    assumeThat(Files.isExecutable(Path.of("/bin/busybox"))).as("busybox-static").isTrue();
    assumeThat(Files.isExecutable(Path.of("/usr/bin/umoci"))).as("umoci").isTrue();
    state = tmp.resolve("agent");
    var pool = Executors.newSingleThreadExecutor();
    try {
      ImageService.create(state.resolve("images"), Set.of(), pool).importLayout(buildImage(), "busybox-logs");
    } finally {
      pool.shutdownNow();
    }
    cluster = new LocalCluster(Clock.systemUTC(), DispatcherConfig.defaults().withHeartbeat(200, 20), 600_000, "m1");
    assertThat(cluster.init().getCode()).isEqualTo("OK");
    cluster.electLeader("m1");
    executor = NativeExecutor.create(state, Set.of(), Clock.systemUTC(), TaskNetworking.NONE);
    SessionConfig cfg = new SessionConfig(cluster.addresses(), cluster.workerToken(), Map.of(),
        Duration.ofMillis(20), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofMillis(5));
    agent = new Agent(cfg, state, "", executor,
        t -> InProcessChannelBuilder.forName(t.substring(Channels.IN_PROCESS.length())).build(),
        HostDescription.system(), Clock.systemUTC(), new Random()).start();
    await().atMost(WAIT).until(() -> agent.session().nodeId().isPresent());
    nodeId = agent.session().nodeId().orElseThrow();
    client = InProcessChannelBuilder.forName("m1").build();
  }

  @AfterEach
  void stop() throws IOException {
    if (client != null) {
      client.shutdownNow();
    }
    if (agent != null) {
      agent.close();
      executor.close();
    }
    if (cluster != null) {
      cluster.close();
    }
    if (nodeId != null) { // the containers outlive the agent: remove them and check nothing of the node is left
      new ContainerRuntime(RuntimeSettings.defaults(nodeId, state, LauncherBinary.extract(state.resolve("bin"))),
          CgroupManager.detect(nodeId), Clock.systemUTC()).destroyAll();
      try (Stream<Path> s = Files.list(Path.of("/sys/fs/cgroup"))) {
        assertThat(s.map(h -> h.resolve("berth-" + nodeId)).filter(Files::exists).toList()).isEmpty();
      }
    }
  }

  private Task runService() {
    String serviceId = cluster.createService(ServiceSpec.newBuilder().setName("ticker")
        .setTask(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage("busybox-logs:1")
            .setHostname("ticker-host").addCommand("sh").addArgs("-c")
            .addArgs("echo to-stderr >&2; i=0; while true; do echo tick-$i; i=$((i+1)); sleep 0.1; done")))
        .setReplicated(ReplicatedService.newBuilder().setReplicas(1)).build());
    await().atMost(WAIT).until(() -> cluster.store().read(v -> v.tasksOfService(serviceId)).stream()
        .anyMatch(t -> t.getStatus().getState() == TaskState.RUNNING));
    return cluster.store().read(v -> v.tasksOfService(serviceId)).get(0);
  }

  @Test
  void logsWithTailAndFollowFromARealContainer() throws Exception {
    Task task = runService();
    await().atMost(WAIT).until(() -> count(ClusterServiceGrpc.newBlockingStub(client)
        .serviceLogs(ServiceLogsRequest.newBuilder().setService("ticker").build())) >= 5);
    List<LogChunk> tail = new ArrayList<>();
    ClusterServiceGrpc.newBlockingStub(client).serviceLogs(ServiceLogsRequest.newBuilder().setService("ticker")
        .setTail(3).build()).forEachRemaining(tail::add);
    assertThat(tail).hasSize(3).allSatisfy(c -> {
      assertThat(c.getTaskId()).isEqualTo(task.getMeta().getId());
      assertThat(c.getNodeId()).isEqualTo(nodeId);
      assertThat(c.getText()).startsWith("tick-");
    });
    int last = Integer.parseInt(tail.get(2).getText().substring(5));
    assertThat(tail.get(0).getText()).isEqualTo("tick-" + (last - 2));

    // follow from now: a line written after the call started arrives, then the caller cancels
    try (Context.CancellableContext ctx = Context.current().withCancellation()) {
      Iterator<LogChunk> followed = ctx.call(() -> ClusterServiceGrpc.newBlockingStub(client)
          .serviceLogs(ServiceLogsRequest.newBuilder().setService("ticker").setFollow(true).setTail(0).build()));
      int later = -1;
      while (later <= last + 3) {
        later = Integer.parseInt(followed.next().getText().substring(5));
      }
      ctx.cancel(null);
    }
  }

  private static int count(Iterator<LogChunk> it) {
    int n = 0;
    for (; it.hasNext(); it.next()) {
      n++;
    }
    return n;
  }

  private ExecCall exec(String task, String stdin, String... argv) {
    return ExecCall.start(client, task, stdin, argv);
  }

  @Test
  void execRunsInTheRealContainerWithStdinAndExitCode() {
    Task task = runService();
    ExecCall call = exec(task.getMeta().getId(), "abc\n", "sh", "-c",
        "read x; echo got-$x; hostname; readlink /proc/self/ns/pid; ls /proc | grep -c '^[0-9]'; exit 5");
    assertThat(call.exit.join()).isEqualTo(5);
    String[] out = call.stdout.toString().split("\n");
    assertThat(out[0]).isEqualTo("got-abc");
    assertThat(out[1]).isEqualTo("ticker-host");
    long initPid = task.getStatus().getContainer().getPid();
    assertThat(out[2]).isNotEqualTo(readLink("/proc/self/ns/pid")).isEqualTo(readLink("/proc/" + initPid + "/ns/pid"));
    assertThat(Integer.parseInt(out[3])).as("processes the container sees").isLessThan(10);

    assertThatThrownBy(() -> exec("no-such-task", "", "true").exit.join()).cause()
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
          assertThat(e.getStatus().getDescription()).contains("no-such-task");
        });
  }

  private static String readLink(String path) {
    try {
      return Files.readSymbolicLink(Path.of(path)).toString();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
