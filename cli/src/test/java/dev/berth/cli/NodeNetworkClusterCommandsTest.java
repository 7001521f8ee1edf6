package dev.berth.cli;

import static dev.berth.cli.ServiceCommandsTest.assertUserError;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.Cluster;
import dev.berth.api.v1.CreateNetworkRequest;
import dev.berth.api.v1.GetClusterResponse;
import dev.berth.api.v1.JoinTokens;
import dev.berth.api.v1.ManagerInfo;
import dev.berth.api.v1.Meta;
import dev.berth.api.v1.NetworkSpec;
import dev.berth.api.v1.NodeAvailability;
import dev.berth.api.v1.NodeRole;
import dev.berth.api.v1.RemoveNetworkRequest;
import dev.berth.api.v1.RemoveNodeRequest;
import dev.berth.api.v1.RotateJoinTokenRequest;
import dev.berth.api.v1.UpdateNodeRequest;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** node, network and cluster commands: requests sent and what is printed. */
class NodeNetworkClusterCommandsTest extends InProcessClusterTest {

  @Test
  void nodeUpdateSendsOnlyWhatWasGiven() {
    CliHarness.Result r = cli.run("node", "update", "--availability", "drain", "--label-add", "zone=a",
        "--label-add", "ssd", "--label-rm", "old", "node-1");
    assertThat(r.exit()).isZero();
    assertThat(r.out()).isEqualTo("node-1\n");
    UpdateNodeRequest req = server.received(UpdateNodeRequest.class).get(0);
    assertThat(req.getNode()).isEqualTo("node-1");
    assertThat(req.getAvailability()).isEqualTo(NodeAvailability.DRAIN);
    assertThat(req.getLabelAddMap()).isEqualTo(Map.of("zone", "a", "ssd", ""));
    assertThat(req.getLabelRmList()).containsExactly("old");
    assertThat(req.hasDesiredRole()).isFalse();
    assertThat(req.getIfVersion()).isZero();
    assertThat(req.getWrite().getRequestId()).isNotEmpty();
  }

  @Test
  void nodeUpdateValidation() {
    assertUserError(cli.run("node", "update", "--availability", "sleep", "n"),
        "berth: --availability: 'sleep' is not active, pause or drain");
    assertUserError(cli.run("node", "update", "n"), "berth: node update: nothing to change");
    assertUserError(cli.run("node", "update", "--label-add", "=v", "n"), "berth: --label-add: '=v' has an empty key");
    assertThat(server.received()).isEmpty();
    assertThat(cli.run("node", "update", "--if-version", "12", "--availability", "pause", "n").exit()).isZero();
    assertThat(server.received(UpdateNodeRequest.class).get(0).getIfVersion()).isEqualTo(12);
  }

  @Test
  void promoteDemoteAndRm() {
    assertThat(cli.run("node", "promote", "a", "b").out())
        .isEqualTo("Node a promoted to a manager in the cluster.\nNode b promoted to a manager in the cluster.\n");
    assertThat(cli.run("node", "demote", "c").exit()).isZero();
    assertThat(server.received(UpdateNodeRequest.class))
        .extracting(UpdateNodeRequest::getNode, UpdateNodeRequest::getDesiredRole)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("a", NodeRole.MANAGER),
            org.assertj.core.groups.Tuple.tuple("b", NodeRole.MANAGER),
            org.assertj.core.groups.Tuple.tuple("c", NodeRole.WORKER));
    server.failNext("RemoveNode", io.grpc.Status.FAILED_PRECONDITION.withDescription("node d is up; use --force"));
    CliHarness.Result rm = cli.run("node", "rm", "d", "e", "--force");
    assertThat(rm.exit()).isEqualTo(1);
    assertThat(rm.err()).isEqualTo("berth: node d is up; use --force\n");
    assertThat(rm.out()).isEqualTo("e\n");
    assertThat(server.received(RemoveNodeRequest.class)).extracting(RemoveNodeRequest::getForce).containsOnly(true);
  }

  @Test
  void networkCreateValidatesAndSendsTheSpec() {
    assertUserError(cli.run("network", "create", "--subnet", "10.0.0.0/33", "n"),
        "berth: --subnet: '10.0.0.0/33' is not an IPv4 CIDR");
    assertUserError(cli.run("network", "create", "--gateway", "10.0.0", "n"), "berth: --gateway: '10.0.0' is not");
    CliHarness.Result r = cli.run("network", "create", "--subnet", "10.20.0.0/24", "--gateway", "10.20.0.1",
        "--attachable", "--label", "team=x", "backend");
    assertThat(r.exit()).isZero();
    assertThat(r.out()).isEqualTo("net1abcdefghijklmnopqrstu\n");
    assertThat(server.received(CreateNetworkRequest.class)).singleElement()
        .satisfies(c -> assertThat(c.getSpec()).isEqualTo(NetworkSpec.newBuilder().setName("backend")
            .setDriver("overlay").setSubnet("10.20.0.0/24").setGateway("10.20.0.1").setAttachable(true)
            .putLabels("team", "x").build()));
    assertThat(cli.run("network", "rm", "backend").exit()).isZero();
    assertThat(server.received(RemoveNetworkRequest.class)).extracting(RemoveNetworkRequest::getNetwork)
        .containsExactly("backend");
  }

  @Test
  void clusterInfo() {
    server.cluster = GetClusterResponse.newBuilder()
        .setCluster(Cluster.newBuilder().setName("prod").setMeta(Meta.newBuilder().setId("c1")))
        .addManagers(ManagerInfo.newBuilder().setNodeId("n1").setRaftId("r1").setAddr("10.0.0.1:4700").setLeader(true).setMatchIndex(90))
        .addManagers(ManagerInfo.newBuilder().setNodeId("n2").setRaftId("r2").setAddr("10.0.0.2:4700").setMatchIndex(88))
        .setAnsweredBy("n2").setTerm(4).setCommitIndex(90).setAppliedIndex(89).build();
    CliHarness.Result r = cli.run("cluster", "info");
    assertThat(r.out()).isEqualTo(String.join("\n",
        "Cluster:        prod (c1)",
        "Answered by:    n2",
        "Leader:         10.0.0.1:4700 (n1)",
        "Term:           4",
        "Commit index:   90",
        "Applied index:  89",
        "Managers:       2",
        "",
        "NODE ID   RAFT ID   ADDRESS         ROLE       MATCH INDEX",
        "n1        r1        10.0.0.1:4700   Leader     90",
        "n2        r2        10.0.0.2:4700   Follower   88",
        ""));
    assertThat(cli.run("cluster", "info", "--format", "json").out()).contains("\"commitIndex\": \"90\"");
  }

  @Test
  void joinTokens() {
    server.tokens = JoinTokens.newBuilder().setWorker("BERTH-1-abc-wsecret").setManager("BERTH-1-abc-msecret").build();
    assertThat(cli.run("cluster", "join-token", "-q", "worker").out()).isEqualTo("BERTH-1-abc-wsecret\n");
    assertThat(cli.run("cluster", "join-token", "manager").out())
        .contains("berth manager join --token BERTH-1-abc-msecret " + M);
    assertThat(cli.run("cluster", "join-token", "worker").out())
        .contains("berth agent --join " + M + " --token BERTH-1-abc-wsecret");
    assertThat(server.received(RotateJoinTokenRequest.class)).isEmpty();
    CliHarness.Result rotated = cli.run("cluster", "join-token", "--rotate", "manager");
    assertThat(rotated.out()).startsWith("Rotated the manager join token.");
    assertThat(server.received(RotateJoinTokenRequest.class)).singleElement()
        .satisfies(req -> assertThat(req.getRole()).isEqualTo(NodeRole.MANAGER));
    assertUserError(cli.run("cluster", "join-token", "admin"), "berth: ROLE: 'admin' is not worker or manager");
  }
}
