package dev.berth.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static dev.berth.manager.ManagerTrio.expect;
import static org.awaitility.Awaitility.await;

import dev.berth.api.v1.GetClusterResponse;
import dev.berth.api.v1.GetRequest;
import dev.berth.api.v1.ListRequest;
import dev.berth.api.v1.ManagerInfo;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeRole;
import dev.berth.api.v1.RemoveNodeRequest;
import dev.berth.api.v1.UpdateNodeRequest;
import io.grpc.Status;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code node rm}, {@code node demote} and {@code manager leave} change the Raft group of four
 * managers running as separate processes: rm of a manager is refused unless forced (and then
 * leaves the group); with one manager paused (SIGSTOP), demoting another is refused naming the
 * quorum, and so is {@code manager leave} without --force; a forced leave goes ahead and
 * completes once the paused manager resumes; a demoted leader hands over leadership first, and
 * requests sent to a follower are carried out by the leader. Writes keep working throughout and {@code node ls} agrees with the Raft group.
 */
class ManagerMembershipTest {
  @Test
  void rmDemoteAndLeaveChangeTheRaftGroupAndGuardTheQuorum() throws Exception {
    try (ManagerTrio trio = ManagerTrio.start("membership")) {
      changeMembership(trio);
    }
  }

  private static void changeMembership(ManagerTrio trio) throws Exception {
    ManagerProcess fourth = trio.add();
    trio.join(fourth, trio.managers.get(0));
    trio.awaitManagers(4);
    ManagerProcess leader = trio.leader();
    List<ManagerProcess> followers = trio.followers();
    ManagerProcess paused = followers.get(0);
    ManagerProcess leaving = followers.get(1);
    ManagerProcess removed = followers.get(2);
    GetClusterResponse c = ManagerTrio.cluster(leader);
    String pausedId = ManagerTrio.idOf(c, paused);
    String leavingId = ManagerTrio.idOf(c, leaving);
    String removedId = ManagerTrio.idOf(c, removed);

    // rm of a manager: refused without --force, and nothing changes
    expect(() -> leaving.api().removeNode(RemoveNodeRequest.newBuilder().setNode(removedId).build()),
        Status.Code.FAILED_PRECONDITION, "is a manager: demote it first");
    assertThat(managers(leader)).hasSize(4);
    // with --force (sent to a follower): out of the Raft group, then out of the store
    leaving.api().removeNode(RemoveNodeRequest.newBuilder().setNode(removedId).setForce(true).build());
    awaitManagers(leader, leader, paused, leaving);
    expect(() -> leader.api().getNode(GetRequest.newBuilder().setId(removedId).build()),
        Status.Code.NOT_FOUND, removedId);
    removed.kill();

    // one of three paused: demoting another would leave 1 reachable of 2
    paused.signal("STOP");
    Thread.sleep(2_500); // more than one (roomy) election timeout without answers
    expect(() -> leader.api().updateNode(UpdateNodeRequest.newBuilder().setNode(leavingId)
        .setDesiredRole(NodeRole.WORKER).build()), Status.Code.FAILED_PRECONDITION,
        "demoting " + leavingId + " would leave 1 reachable of 2 managers, below the quorum of 2");
    assertThat(node(leader, leavingId).getRole()).isEqualTo(NodeRole.MANAGER);
    assertThat(leaveCli(leaving, false)).as("leave without --force is refused").isEqualTo(1);
    assertThat(managers(leader)).hasSize(3);

    // --force goes ahead; the new configuration commits once the paused manager answers again
    CompletableFuture<Integer> forced = CompletableFuture.supplyAsync(() -> leaveCli(leaving, true));
    Thread.sleep(2_000);
    paused.signal("CONT");
    assertThat(forced.get(120, TimeUnit.SECONDS)).isZero();
    awaitManagers(leader, leader, paused);
    assertThat(node(leader, leavingId).getRole()).isEqualTo(NodeRole.WORKER);
    paused.api().createService(ManagerTrio.service("after-leave"));

    // demoting the leader through its own API: it hands over leadership, the new leader
    // changes the group; now both quorum checks pass
    String leaderId = ManagerTrio.idOf(ManagerTrio.cluster(leader), leader);
    Node demoted = leader.api().updateNode(UpdateNodeRequest.newBuilder().setNode(leaderId)
        .setDesiredRole(NodeRole.WORKER).build()).getNode();
    assertThat(demoted.getRole()).isEqualTo(NodeRole.WORKER);
    assertThat(demoted.getSpec().getDesiredRole()).isEqualTo(NodeRole.WORKER);
    assertThat(demoted.hasManagerStatus()).isFalse();
    awaitManagers(paused, paused);
    assertThat(ManagerTrio.cluster(paused).getLeaderAddr()).isEqualTo(paused.addr());
    paused.api().createService(ManagerTrio.service("after-demote"));
    assertThat(paused.api().listNodes(ListRequest.getDefaultInstance()).getNodesList().stream()
        .filter(n -> n.getRole() == NodeRole.MANAGER).map(n -> n.getMeta().getId())).containsExactly(pausedId);
    // the last manager can't be demoted, even with nobody unreachable
    expect(() -> paused.api().updateNode(UpdateNodeRequest.newBuilder().setNode(pausedId)
        .setDesiredRole(NodeRole.WORKER).build()), Status.Code.FAILED_PRECONDITION, "is the last manager");
  }

  /** {@code berth manager leave [--force]} run against {@code m}'s state dir; the exit code. */
  private static int leaveCli(ManagerProcess m, boolean force) {
    List<String> args = new java.util.ArrayList<>(List.of("leave", "--state-dir", m.stateDir.toString()));
    if (force) {
      args.add("--force");
    }
    return new CommandLine(new ManagerCommand()).execute(args.toArray(String[]::new));
  }

  private static List<String> managers(ManagerProcess m) {
    return ManagerTrio.cluster(m).getManagersList().stream().map(ManagerInfo::getRaftId).toList();
  }

  private static void awaitManagers(ManagerProcess asked, ManagerProcess... expected) {
    List<String> addrs = java.util.Arrays.stream(expected).map(ManagerProcess::addr).toList();
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300)).ignoreExceptions().until(() ->
        ManagerTrio.cluster(asked).getManagersList().stream().map(ManagerInfo::getAddr).sorted().toList()
            .equals(addrs.stream().sorted().toList()));
  }

  private static Node node(ManagerProcess m, String id) {
    return m.api().getNode(GetRequest.newBuilder().setId(id).build()).getNode();
  }
}
