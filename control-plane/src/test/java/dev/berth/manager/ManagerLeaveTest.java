package dev.berth.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.berth.api.v1.GetClusterResponse;
import dev.berth.api.v1.LeaveManagerRequest;
import dev.berth.api.v1.ManagerServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import java.time.Duration;
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
  private ManagerTrio trio;
  private ManagedChannel channel;

  @AfterEach
  void stop() throws InterruptedException {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (trio != null) {
      trio.close();
    }
  }

  @Test
  void leaveRefusesToBreakQuorumAndRemovesADeadManager() throws Exception {
    trio = ManagerTrio.start("leave");
    GetClusterResponse c = ManagerTrio.cluster(trio.managers.get(0));
    ManagerProcess leader = trio.byAddr(c.getLeaderAddr());
    List<ManagerProcess> followers = trio.managers.stream().filter(m -> m != leader).toList();
    ManagerProcess dead = followers.get(0);
    ManagerProcess alive = followers.get(1);
    String deadId = ManagerTrio.idOf(c, dead);
    String aliveId = ManagerTrio.idOf(c, alive);
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
    assertThat(ManagerTrio.cluster(leader).getManagersCount()).isEqualTo(3);

    var reply = mgr.withDeadlineAfter(60, TimeUnit.SECONDS)
        .leaveManager(LeaveManagerRequest.newBuilder().setNodeId(deadId).build());
    assertThat(reply.getPeersList()).hasSize(2);
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(300)).until(() -> {
      GetClusterResponse after = ManagerTrio.cluster(leader);
      return after != null && after.getManagersCount() == 2
          && after.getManagersList().stream().noneMatch(m -> m.getRaftId().equals(deadId)
              || m.getNodeId().equals(deadId));
    });
    leader.api().createService(ManagerTrio.service("after-leave"));
  }
}
