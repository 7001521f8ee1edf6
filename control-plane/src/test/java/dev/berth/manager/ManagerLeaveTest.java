package dev.berth.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.CreateServiceRequest;
import dev.berth.api.v1.GetClusterRequest;
import dev.berth.api.v1.GetClusterResponse;
import dev.berth.api.v1.GetJoinTokensRequest;
import dev.berth.api.v1.LeaveManagerRequest;
import dev.berth.api.v1.ManagerInfo;
import dev.berth.api.v1.ManagerServiceGrpc;
import dev.berth.api.v1.ReadConsistency;
import dev.berth.api.v1.ReplicatedService;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.TaskSpec;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code LeaveManager} on a 3-manager cluster of separate processes with one manager killed:
 * removing a live follower would leave 1 reachable of 2 and is refused with a message naming
 * the quorum; removing the dead manager keeps a quorum, succeeds, and the store's manager
 * record drops it; writes keep working.
 */
class ManagerLeaveTest {
  private final List<ManagerProcess> managers = new ArrayList<>();
  private ManagedChannel channel;

  @AfterEach
  void stop() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow();
    }
    for (ManagerProcess m : managers) {
      m.close();
    }
  }

  @Test
  void leaveRefusesToBreakQuorumAndRemovesADeadManager() throws Exception {
    Path dir = Files.createTempDirectory(Files.createDirectories(Path.of("target", "multi-process")), "leave");
    for (int i = 0; i < 3; i++) {
      managers.add(new ManagerProcess(dir.resolve("m" + i)));
    }
    managers.get(0).start(true, "init");
    String token = managers.get(0).api().getJoinTokens(GetJoinTokensRequest.getDefaultInstance()).getManager();
    for (int i = 1; i < 3; i++) {
      managers.get(i).start(true, "join", "--token", token, managers.get(0).addr());
    }
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).until(() -> {
      GetClusterResponse c = cluster(managers.get(0));
      return c != null && c.getManagersCount() == 3 && !c.getLeaderAddr().isEmpty()
          && c.getManagersList().stream().allMatch(x -> !x.getAddr().isEmpty());
    });
    GetClusterResponse c = cluster(managers.get(0));
    ManagerProcess leader = managers.stream().filter(m -> m.addr().equals(c.getLeaderAddr())).findFirst().orElseThrow();
    List<ManagerProcess> followers = managers.stream().filter(m -> m != leader).toList();
    ManagerProcess dead = followers.get(0);
    ManagerProcess alive = followers.get(1);
    String deadId = idOf(c, dead);
    String aliveId = idOf(c, alive);
    dead.kill();
    // Give the leader one election timeout (roomy: 1 s) without answers from the dead one.
    Thread.sleep(2_000);

    channel = NettyChannelBuilder.forTarget(leader.addr()).usePlaintext().build();
    var mgr = ManagerServiceGrpc.newBlockingStub(channel);
    assertThatThrownBy(() -> mgr.withDeadlineAfter(30, TimeUnit.SECONDS)
            .leaveManager(LeaveManagerRequest.newBuilder().setNodeId(aliveId).build()))
            .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
              assertThat(e.getStatus().getDescription()).contains("quorum").contains(aliveId)
                  .contains("--force");
            });
    assertThat(cluster(leader).getManagersCount()).isEqualTo(3);

    var reply = mgr.withDeadlineAfter(60, TimeUnit.SECONDS)
        .leaveManager(LeaveManagerRequest.newBuilder().setNodeId(deadId).build());
    assertThat(reply.getPeersList()).hasSize(2);
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300)).until(() -> {
      GetClusterResponse after = cluster(leader);
      return after != null && after.getManagersCount() == 2
          && after.getManagersList().stream().noneMatch(m -> m.getRaftId().equals(deadId)
              || m.getNodeId().equals(deadId));
    });
    leader.api().createService(CreateServiceRequest.newBuilder().setNoResolveImage(true).setSpec(ServiceSpec.newBuilder()
        .setName("after-leave").setReplicated(ReplicatedService.newBuilder().setReplicas(1))
        .setTask(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage("busybox:1.36"))))
        .build());
  }

  private static String idOf(GetClusterResponse c, ManagerProcess m) {
    return c.getManagersList().stream().filter(x -> x.getAddr().equals(m.addr()))
        .map(ManagerInfo::getRaftId).findFirst().orElseThrow(() -> new AssertionError("no manager at " + m.addr()));
  }

  private static GetClusterResponse cluster(ManagerProcess m) {
    try {
      return m.api().getCluster(GetClusterRequest.newBuilder().setConsistency(ReadConsistency.STALE).build());
    } catch (StatusRuntimeException e) {
      return null;
    }
  }
}
