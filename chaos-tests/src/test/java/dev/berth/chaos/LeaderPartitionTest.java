package dev.berth.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.berth.api.v1.CreateServiceRequest;
import dev.berth.api.v1.GetClusterResponse;
import dev.berth.api.v1.ListRequest;
import dev.berth.api.v1.ListTasksRequest;
import dev.berth.api.v1.ReadConsistency;
import dev.berth.api.v1.WriteOptions;
import dev.berth.testhosts.TestHosts;
import dev.berth.testkit.hosts.BusyboxImage;
import dev.berth.testkit.hosts.HostCluster;
import dev.berth.testkit.hosts.HostManager;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Chaos with real processes: 3 managers, each in its own test host, and 2 agents running real
 * containers. {@value #ROUNDS} times: cut the leader's namespace off the others with iptables DROP
 * rules (the test's own address stays reachable, to ask the old leader), then check a new leader
 * is elected, writes continue on the majority side, the old leader commits nothing, and after
 * healing it catches up, every replica reports the same state digest and the service still runs
 * its desired number of tasks. Bounded: {@value #ROUNDS} rounds, {@value #WRITES} writes each,
 * every wait capped.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LeaderPartitionTest {
  static final int ROUNDS = 2;
  static final int WRITES = 5;
  static final int REPLICAS = 3;
  private HostCluster cluster;
  private final List<String> acknowledged = new ArrayList<>();

  @BeforeAll
  void start() throws Exception {
    String reason = HostCluster.unsupportedReason();
    assumeTrue(reason == null, reason);
    assumeTrue(Files.isExecutable(Path.of("/usr/sbin/iptables")), "iptables missing (apt-get install iptables)");
    cluster = HostCluster.withBusybox("partition", 3, 2);
  }

  @AfterAll
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static CreateServiceRequest create(String name, long replicas) {
    return CreateServiceRequest.newBuilder().setNoResolveImage(true).setWrite(WriteOptions.newBuilder().setRequestId("req-" + name))
        .setSpec(BusyboxImage.service(name, replicas)).build();
  }

  private static Set<String> services(HostManager m) {
    return m.api().listServices(ListRequest.newBuilder().setConsistency(ReadConsistency.STALE).build())
        .getServicesList().stream().map(s -> s.getSpec().getName()).collect(Collectors.toSet());
  }

  private long runningWebTasks() {
    return cluster.runningTasks("web").size();
  }

  private long desiredWebTasks() {
    return cluster.api().listTasks(ListTasksRequest.newBuilder().setService("web").setDesiredRunning(true).build())
        .getTasksCount();
  }

  @Test
  void partitionedLeaderIsReplacedCommitsNothingAndCatchesUpAfterHealing() throws Exception {
    cluster.api().createService(create("web", REPLICAS));
    HostCluster.await(REPLICAS + " running web tasks", Duration.ofSeconds(120), () -> runningWebTasks() == REPLICAS);
    String hostIp = cluster.hosts().hostIp();
    for (int round = 1; round <= ROUNDS; round++) {
      HostManager old = cluster.leader().orElseThrow();
      TestHosts.partition(old.namespace(), hostIp);
      try {
        HostCluster.await("a new leader on the majority side", Duration.ofSeconds(60), () ->
            cluster.leader(old).filter(l -> l != old).isPresent());
        HostManager leader = cluster.leader(old).orElseThrow();
        HostManager follower = cluster.managers().stream().filter(m -> m != old && m != leader).findFirst().orElseThrow();
        for (int i = 0; i < WRITES; i++) {
          String name = "r" + round + "-w" + i;
          HostManager via = i % 2 == 0 ? leader : follower;
          assertThat(via.api().createService(create(name, 0)).getService().getSpec().getName()).isEqualTo(name);
          acknowledged.add(name);
        }
        String lost = "r" + round + "-minority";
        assertThatThrownBy(() -> old.api().withDeadlineAfter(5, TimeUnit.SECONDS).createService(create(lost, 0)))
            .as("the cut-off old leader cannot commit a write").isInstanceOf(StatusRuntimeException.class);
        assertThat(services(leader)).as("the majority never saw the minority's write").doesNotContain(lost)
            .containsAll(acknowledged);
        assertThat(services(old)).as("the old leader has not seen the majority's writes")
            .doesNotContain("r" + round + "-w0");
      } finally {
        TestHosts.heal(old.namespace());
      }
      HostCluster.await("the old leader catches up", Duration.ofSeconds(90), () -> {
        try {
          return services(old).containsAll(acknowledged);
        } catch (StatusRuntimeException e) {
          return false;
        }
      });
      HostCluster.await("every replica at the same applied index and state digest", Duration.ofSeconds(90), () -> {
        List<Optional<GetClusterResponse>> views = cluster.managers().stream().map(HostManager::cluster).toList();
        return views.stream().allMatch(Optional::isPresent)
            && views.stream().map(v -> v.get().getStateDigest()).distinct().count() == 1
            && views.stream().map(v -> v.get().getAppliedIndex()).distinct().count() == 1
            && !views.get(0).get().getStateDigest().isEmpty();
      });
      HostCluster.await(REPLICAS + " web tasks desired and running", Duration.ofSeconds(90), () ->
          desiredWebTasks() == REPLICAS && runningWebTasks() == REPLICAS);
    }
    assertThat(services(cluster.managers().get(0))).containsAll(acknowledged).contains("web");
  }
}
