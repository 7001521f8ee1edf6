package dev.berth.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static dev.berth.manager.ManagerTrio.expect;
import static org.awaitility.Awaitility.await;

import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.CreateServiceRequest;
import dev.berth.api.v1.GetClusterResponse;
import dev.berth.api.v1.GetJoinTokensRequest;
import dev.berth.api.v1.GetRequest;
import dev.berth.api.v1.ListRequest;
import dev.berth.api.v1.ReadConsistency;
import dev.berth.api.v1.ReplicatedService;
import dev.berth.api.v1.ServiceResponse;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.TaskSpec;
import dev.berth.api.v1.UpdateServiceRequest;
import dev.berth.api.v1.WriteOptions;
import io.grpc.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Three managers as separate JVM processes on loopback: committed writes, bad input,
 * cross-manager retry, kill -9 of the leader, restart catching up from snapshot + log, and
 * byte-identical state on every replica.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MultiProcessClusterTest {
  private Path dir;
  private final List<ManagerProcess> managers = new ArrayList<>();
  private final List<String> acknowledged = new ArrayList<>();

  @BeforeAll
  void startCluster() throws Exception {
    // Under target/ (not a JUnit temp dir) so the managers' logs survive a failure.
    dir = java.nio.file.Files.createTempDirectory(
        java.nio.file.Files.createDirectories(Path.of("target", "multi-process")), "cluster");
    for (int i = 0; i < 3; i++) {
      managers.add(new ManagerProcess(dir.resolve("m" + i)));
    }
    ManagerProcess first = managers.get(0);
    first.start(true, "init", "--snapshot-threshold", "40");
    String token = first.api().getJoinTokens(GetJoinTokensRequest.getDefaultInstance()).getManager();
    assertThat(token).startsWith("BERTH-1-");
    for (int i = 1; i < 3; i++) {
      managers.get(i).start(true, "join", "--token", token, "--snapshot-threshold", "40", first.addr());
    }
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).until(() ->
        managers.stream().allMatch(m -> {
          GetClusterResponse c = ManagerTrio.cluster(m);
          return c != null && c.getManagersCount() == 3 && !c.getLeaderAddr().isEmpty()
              && c.getManagersList().stream().allMatch(x -> !x.getAddr().isEmpty());
        }));
  }

  @AfterAll
  void stopCluster() throws InterruptedException {
    for (ManagerProcess m : managers) {
      m.close();
    }
  }

  private static ServiceSpec spec(String name, long replicas) {
    return ServiceSpec.newBuilder().setName(name)
        .setReplicated(ReplicatedService.newBuilder().setReplicas(replicas))
        .setTask(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage("busybox:1.36")))
        .build();
  }

  private static CreateServiceRequest create(String name, long replicas, String requestId) {
    return CreateServiceRequest.newBuilder().setNoResolveImage(true).setWrite(WriteOptions.newBuilder().setRequestId(requestId))
        .setSpec(spec(name, replicas)).build();
  }

  private ManagerProcess leader() {
    String addr = managers.stream().filter(ManagerProcess::alive).map(ManagerTrio::cluster)
        .filter(c -> c != null && !c.getLeaderAddr().isEmpty()).map(GetClusterResponse::getLeaderAddr)
        .findFirst().orElseThrow();
    return managers.stream().filter(m -> m.addr().equals(addr)).findFirst().orElseThrow();
  }

  private ManagerProcess aFollower() {
    ManagerProcess l = leader();
    return managers.stream().filter(m -> m != l && m.alive()).findFirst().orElseThrow();
  }

  private void assertSameState() {
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300)).until(() -> {
      List<GetClusterResponse> all = managers.stream().filter(ManagerProcess::alive)
          .map(ManagerTrio::cluster).collect(Collectors.toList());
      return all.stream().allMatch(c -> c != null)
          && all.stream().map(GetClusterResponse::getStateDigest).distinct().count() == 1
          && all.stream().map(GetClusterResponse::getAppliedIndex).distinct().count() == 1;
    });
  }

  @Test
  @Order(1)
  void acknowledgedWritesAreCommittedOnAMajority() {
    ManagerProcess follower = aFollower();
    for (int i = 0; i < 5; i++) {
      ServiceResponse r = follower.api().createService(create("web" + i, 2, UUID.randomUUID().toString()));
      assertThat(r.getService().getSpec().getName()).isEqualTo("web" + i);
      assertThat(r.getService().getMeta().getId()).matches("[0-9a-z]{25}");
      acknowledged.add("web" + i);
      // Linearizable reads on every manager see the acknowledged write at once.
      for (ManagerProcess m : managers) {
        assertThat(m.api().getService(GetRequest.newBuilder().setId("web" + i).build())
            .getService().getMeta().getId()).isEqualTo(r.getService().getMeta().getId());
      }
    }
    assertSameState();
  }

  @Test
  @Order(2)
  void badInputIsRejectedNamingTheFieldAndChangesNothing() {
    ManagerProcess m = aFollower();
    String before = ManagerTrio.cluster(leader()).getStateDigest();
    expect(() -> m.api().createService(create("neg", -1, "r-neg")), Status.Code.INVALID_ARGUMENT,
        "spec.replicated.replicas: must be >= 0");
    expect(() -> m.api().createService(CreateServiceRequest.newBuilder().setNoResolveImage(true)
        .setSpec(spec("noimg", 1).toBuilder().setTask(TaskSpec.getDefaultInstance())).build()),
        Status.Code.INVALID_ARGUMENT, "spec.task.container.image: must not be empty");
    expect(() -> m.api().createService(create("web0", 1, "r-dup")), Status.Code.ALREADY_EXISTS,
        "service \"web0\" already exists");
    expect(() -> m.api().updateService(UpdateServiceRequest.newBuilder().setService("nope")
        .setSpec(spec("nope", 1)).build()), Status.Code.NOT_FOUND, "service \"nope\" not found");
    expect(() -> m.api().updateService(UpdateServiceRequest.newBuilder().setService("web0")
        .setSpec(spec("web0", 3)).setIfVersion(1).build()), Status.Code.FAILED_PRECONDITION, "if_version");
    ServiceSpec huge = spec("huge", 1).toBuilder().putLabels("blob", "x".repeat(10 << 20)).build();
    expect(() -> m.api().createService(CreateServiceRequest.newBuilder().setNoResolveImage(true).setSpec(huge).build()),
        Status.Code.INVALID_ARGUMENT, "spec: 10485");
    // the failed writes that reached the log changed no object (only the dedupe table
    // records their outcome), and none of these services exists
    for (String n : List.of("neg", "noimg", "huge", "nope")) {
      expect(() -> m.api().getService(GetRequest.newBuilder().setId(n).build()), Status.Code.NOT_FOUND, n);
    }
    var services = m.api().listServices(ListRequest.getDefaultInstance()).getServicesList();
    assertThat(services).extracting(s -> s.getSpec().getName()).containsExactlyInAnyOrderElementsOf(acknowledged);
    assertThat(services.stream().filter(s -> s.getSpec().getName().equals("web0")).findFirst().orElseThrow()
        .getSpec().getReplicated().getReplicas()).isEqualTo(2);
    assertThat(before).isNotEmpty();
    assertSameState();
  }

  @Test
  @Order(3)
  void aRetrySentToAnotherManagerAppliesOnce() {
    String rid = "retry-" + UUID.randomUUID();
    ServiceResponse first = managers.get(1).api().createService(create("retried", 1, rid));
    ServiceResponse second = managers.get(2).api().createService(create("retried", 1, rid));
    assertThat(second.getService().getMeta().getId()).isEqualTo(first.getService().getMeta().getId());
    ServiceResponse third = managers.get(0).api().createService(create("retried", 1, rid));
    assertThat(third.getService().getMeta().getId()).isEqualTo(first.getService().getMeta().getId());
    acknowledged.add("retried");
    assertThat(managers.get(0).api().listServices(ListRequest.getDefaultInstance()).getServicesList()
        .stream().filter(s -> s.getSpec().getName().equals("retried")).count()).isEqualTo(1);
  }

  @Test
  @Order(4)
  void killingTheLeaderKeepsEveryAcknowledgedWriteAndRestartCatchesUp() throws Exception {
    ManagerProcess oldLeader = leader();
    oldLeader.kill();
    ManagerProcess survivor = managers.stream().filter(ManagerProcess::alive).findFirst().orElseThrow();
    // writes succeed again once a new leader is elected (the client retries inside the manager)
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() ->
        survivor.api().createService(create("after-kill", 1, "after-kill")).hasService());
    acknowledged.add("after-kill");
    assertThat(leader()).isNotSameAs(oldLeader);
    for (ManagerProcess m : managers) {
      if (m.alive()) {
        Set<String> names = m.api().listServices(ListRequest.getDefaultInstance()).getServicesList().stream()
            .map(s -> s.getSpec().getName()).collect(Collectors.toSet());
        assertThat(names).containsAll(acknowledged);
      }
    }
    // enough writes while it is down that the others snapshot and purge their logs (threshold 40)
    for (int i = 0; i < 60; i++) {
      survivor.api().createService(create("bulk" + i, 1, "bulk" + i));
      acknowledged.add("bulk" + i);
    }
    oldLeader.start(true, "run", "--snapshot-threshold", "40");
    await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).ignoreExceptions().until(() ->
        oldLeader.api().listServices(ListRequest.newBuilder().setConsistency(ReadConsistency.STALE).build())
            .getServicesCount() == acknowledged.size());
    assertSameState();
    String log = java.nio.file.Files.readString(Path.of(oldLeader.stateDir + ".log"));
    assertThat(log).as("the others took snapshots, so the restarted manager had to catch up from one")
        .containsAnyOf("restored store from snapshot", "took snapshot");
  }
}
