package dev.berth.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.berth.api.v1.ClusterServiceGrpc;
import dev.berth.api.v1.GetClusterResponse;
import dev.berth.api.v1.ListRequest;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeRole;
import dev.berth.api.v1.ReadConsistency;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code berth manager init --force-new-cluster} on a lone survivor of a 3-manager cluster of
 * separate processes: with two managers killed it cannot write; restarted with the flag it
 * leads alone with every acknowledged write, takes new writes (also after a plain restart),
 * lists only itself as manager, and a new manager can join it.
 */
class ForceNewClusterTest {
  @Test
  void aLoneSurvivorRecoversEveryAcknowledgedWriteAndTakesNewManagers() throws Exception {
    try (ManagerTrio trio = ManagerTrio.start("force")) {
      recoverLoneSurvivor(trio);
    }
  }

  private static void recoverLoneSurvivor(ManagerTrio trio) throws Exception {
    ManagerProcess leader = trio.leader();
    List<String> acknowledged = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      leader.api().createService(ManagerTrio.service("svc" + i));
      acknowledged.add("svc" + i);
    }
    ManagerProcess survivor = trio.followers().get(0);
    // A write is acknowledged once on a majority; the survivor must hold it to recover it.
    await().atMost(Duration.ofSeconds(30)).until(() -> names(survivor, ReadConsistency.STALE).containsAll(acknowledged));
    String survivorId = ManagerTrio.idOf(ManagerTrio.cluster(survivor), survivor);
    for (ManagerProcess m : trio.managers) {
      if (m != survivor) {
        m.kill();
      }
    }

    assertThatThrownBy(() -> ClusterServiceGrpc.newBlockingStub(channelOf(survivor))
        .withDeadlineAfter(20, TimeUnit.SECONDS).createService(ManagerTrio.service("no-quorum")))
        .as("without a quorum nothing can be committed").isInstanceOf(StatusRuntimeException.class);

    survivor.kill();
    survivor.start(true, "init", "--force-new-cluster");

    GetClusterResponse c = ManagerTrio.cluster(survivor);
    assertThat(c.getLeaderAddr()).isEqualTo(survivor.addr());
    assertThat(c.getManagersList()).singleElement()
        .satisfies(m -> assertThat(m.getRaftId()).isEqualTo(survivorId));
    assertThat(names(survivor, ReadConsistency.LINEARIZABLE)).containsAll(acknowledged)
        .doesNotContain("no-quorum");
    survivor.api().createService(ManagerTrio.service("after-force"));
    acknowledged.add("after-force");
    // the forced configuration is now in the log: a plain restart keeps leading alone
    survivor.kill();
    survivor.start(true, "run");
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
        .until(() -> survivor.addr().equals(ManagerTrio.cluster(survivor).getLeaderAddr()));
    assertThat(names(survivor, ReadConsistency.LINEARIZABLE)).containsAll(acknowledged);
    List<Node> nodes = survivor.api().listNodes(ListRequest.getDefaultInstance()).getNodesList();
    assertThat(nodes.stream().filter(n -> n.getRole() == NodeRole.MANAGER || n.hasManagerStatus()))
        .extracting(n -> n.getMeta().getId()).containsExactly(survivorId);
    assertThat(nodes).hasSize(3);

    ManagerProcess newcomer = trio.add();
    trio.join(newcomer, survivor);
    trio.awaitManagers(2);
    survivor.api().createService(ManagerTrio.service("after-join"));
    acknowledged.add("after-join");
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
        .until(() -> names(newcomer, ReadConsistency.STALE).containsAll(acknowledged));
    assertThat(survivor.api().listNodes(ListRequest.getDefaultInstance()).getNodesList().stream()
        .filter(n -> n.getRole() == NodeRole.MANAGER)).hasSize(2);
  }

  private static List<String> names(ManagerProcess m, ReadConsistency consistency) {
    return m.api().listServices(ListRequest.newBuilder().setConsistency(consistency).build())
        .getServicesList().stream().map(s -> s.getSpec().getName()).toList();
  }

  private static io.grpc.Channel channelOf(ManagerProcess m) {
    return m.api().getChannel();
  }
}
