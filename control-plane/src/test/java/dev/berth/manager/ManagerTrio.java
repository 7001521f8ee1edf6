package dev.berth.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.CreateServiceRequest;
import dev.berth.api.v1.GetClusterRequest;
import dev.berth.api.v1.GetClusterResponse;
import dev.berth.api.v1.GetJoinTokensRequest;
import dev.berth.api.v1.ManagerInfo;
import dev.berth.api.v1.ReadConsistency;
import dev.berth.api.v1.ReplicatedService;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.WriteOptions;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Three managers as separate processes (one {@code init}, two {@code join}) with roomy Raft
 * timeouts, for membership tests; more can be added. Closing kills every process.
 */
public final class ManagerTrio implements AutoCloseable {
  public final Path dir;
  public final List<ManagerProcess> managers = new ArrayList<>();

  private ManagerTrio(Path dir) {
    this.dir = dir;
  }

  /** Starts three managers and waits until each knows all three and a leader. */
  public static ManagerTrio start(String name) throws Exception {
    // Under target/ (not a JUnit temp dir) so the managers' logs survive a failure.
    ManagerTrio trio = new ManagerTrio(Files.createTempDirectory(
        Files.createDirectories(Path.of("target", "multi-process")), name));
    try {
      ManagerProcess first = trio.add();
      first.start(true, "init");
      for (int i = 1; i < 3; i++) {
        trio.join(trio.add(), first);
      }
      trio.awaitManagers(3);
      return trio;
    } catch (Exception | AssertionError e) {
      trio.close();
      throw e;
    }
  }

  /** A new (not started) manager process in this trio's directory. */
  public ManagerProcess add() throws Exception {
    ManagerProcess m = new ManagerProcess(dir.resolve("m" + managers.size()));
    managers.add(m);
    return m;
  }

  /** Starts {@code m} as a manager joining through {@code via}. */
  public void join(ManagerProcess m, ManagerProcess via) throws Exception {
    String token = via.api().getJoinTokens(GetJoinTokensRequest.getDefaultInstance()).getManager();
    m.start(true, "join", "--token", token, via.addr());
  }

  /** Waits until every live manager reports {@code n} managers, all with addresses, and a leader. */
  public void awaitManagers(int n) {
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).until(() ->
        managers.stream().filter(ManagerProcess::alive).allMatch(m -> {
          GetClusterResponse c = cluster(m);
          return c != null && c.getManagersCount() == n && !c.getLeaderAddr().isEmpty()
              && c.getManagersList().stream().allMatch(x -> !x.getAddr().isEmpty());
        }));
  }

  public ManagerProcess leader() {
    String addr = managers.stream().filter(ManagerProcess::alive).map(ManagerTrio::cluster)
        .filter(c -> c != null && !c.getLeaderAddr().isEmpty()).map(GetClusterResponse::getLeaderAddr)
        .findFirst().orElseThrow(() -> new AssertionError("no manager knows a leader"));
    return byAddr(addr);
  }

  public ManagerProcess byAddr(String addr) {
    return managers.stream().filter(m -> m.addr().equals(addr)).findFirst()
        .orElseThrow(() -> new AssertionError("no manager at " + addr));
  }

  /** Live managers other than the leader. */
  public List<ManagerProcess> followers() {
    ManagerProcess l = leader();
    return managers.stream().filter(m -> m != l && m.alive()).toList();
  }

  /** The manager's stale view of the cluster, or null when it does not answer. */
  public static GetClusterResponse cluster(ManagerProcess m) {
    try {
      return m.api().getCluster(GetClusterRequest.newBuilder().setConsistency(ReadConsistency.STALE).build());
    } catch (StatusRuntimeException e) {
      return null;
    }
  }

  /** The Raft id (= node id) of the manager serving at {@code m}'s address. */
  public static String idOf(GetClusterResponse c, ManagerProcess m) {
    return c.getManagersList().stream().filter(x -> x.getAddr().equals(m.addr()))
        .map(ManagerInfo::getRaftId).findFirst()
        .orElseThrow(() -> new AssertionError("no manager at " + m.addr()));
  }

  public static CreateServiceRequest service(String name) {
    // made-up image: nothing for the manager to resolve against a registry
    return CreateServiceRequest.newBuilder().setWrite(WriteOptions.newBuilder().setRequestId("create-" + name))
        .setNoResolveImage(true).setSpec(ServiceSpec.newBuilder().setName(name)
            .setReplicated(ReplicatedService.newBuilder().setReplicas(1))
            .setTask(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage("busybox:1.36"))))
        .build();
  }

  /** Asserts that {@code call} fails with {@code code} and a description containing {@code message}. */
  public static void expect(Runnable call, Status.Code code, String message) {
    assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(code);
      assertThat(e.getStatus().getDescription()).contains(message);
    });
  }

  @Override
  public void close() throws InterruptedException {
    for (ManagerProcess m : managers) {
      m.close();
    }
  }
}
