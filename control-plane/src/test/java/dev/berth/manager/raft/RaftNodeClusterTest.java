package dev.berth.manager.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.ReplicatedService;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.TaskSpec;
import dev.berth.internal.v1.ApplyResult;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.CreateService;
import dev.berth.internal.v1.LogEntry;
import dev.berth.manager.store.ClusterStore;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Three Ratis servers in this JVM: replication, early rejection, snapshot + restart, leader callbacks. */
class RaftNodeClusterTest {
  @TempDir Path dir;
  private final List<RaftNode> nodes = new ArrayList<>();
  private final AtomicInteger leaderStarts = new AtomicInteger();
  private RaftGroupId groupId = RaftGroupId.valueOf(UUID.randomUUID());
  private List<RaftPeer> peers;
  private int[] ports;

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private java.util.function.UnaryOperator<RaftSettings> tuning = s -> s;

  private RaftNode startNode(int i, boolean recover) throws IOException {
    RaftSettings settings = tuning.apply(RaftSettings.defaults("127.0.0.1", ports[i], dir.resolve("m" + i))
        .roomy().withSnapshotThreshold(1_000_000));
    var sm = new BerthStateMachine(new ClusterStore(), n -> { }, new BerthStateMachine.LeaderListener() {
      @Override
      public void onLeaderStart(long term) {
        leaderStarts.incrementAndGet();
      }

      @Override
      public void onLeaderStop() {}
    });
    RaftNode n = new RaftNode("m" + i, groupId, peers, settings, sm, recover);
    n.start();
    return n;
  }

  @AfterEach
  void tearDown() throws IOException {
    for (RaftNode n : nodes) {
      if (n != null) {
        n.close();
      }
    }
  }

  private static LogEntry create(String id, String name, String req) {
    return LogEntry.newBuilder().setRequestId(req).setTimestampMs(1)
        .addCommands(Command.newBuilder().setCreateService(CreateService.newBuilder().setId(id)
            .setSpec(ServiceSpec.newBuilder().setName(name)
                .setReplicated(ReplicatedService.newBuilder().setReplicas(1))
                .setTask(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage("img"))))))
        .build();
  }

  private void startThree() throws IOException {
    ports = new int[] {freePort(), freePort(), freePort()};
    peers = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      peers.add(RaftPeer.newBuilder().setId("m" + i).setAddress("127.0.0.1:" + ports[i]).build());
    }
    for (int i = 0; i < 3; i++) {
      nodes.add(startNode(i, false));
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> nodes.stream().anyMatch(RaftNode::isLeaderReady));
  }

  private RaftNode leader() {
    return nodes.stream().filter(n -> n != null && n.isLeader()).findFirst().orElseThrow();
  }

  /** Stops the leader's server (its Raft port then refuses connections, as after kill -9). */
  private RaftNode stopLeader() throws IOException {
    RaftNode leader = leader();
    leader.close();
    nodes.set(nodes.indexOf(leader), null);
    return leader;
  }

  @Test
  void aWriteSentToAFollowerAsTheLeaderDiesIsAcknowledgedOnceThroughTheNewLeader() throws Exception {
    startThree();
    RaftNode follower = nodes.stream().filter(n -> !n.isLeader()).findFirst().orElseThrow();
    ApplyResult before = follower.propose(create("id0", "svc0", "req0")).get(20, TimeUnit.SECONDS);
    long oldTerm = follower.term();
    RaftNode old = stopLeader();

    // sent while no leader exists: the router waits for the election, then goes to the new leader
    ApplyResult r = follower.propose(create("id1", "svc1", "req1")).get(30, TimeUnit.SECONDS);

    assertThat(r.getCode()).isEqualTo("OK");
    assertThat(r.getCreatedIdsList()).containsExactly("id1");
    assertThat(r.getIndex()).isGreaterThan(before.getIndex());
    RaftNode now = leader();
    assertThat(now).isNotSameAs(old);
    assertThat(now.term()).isGreaterThan(oldTerm);
    // once: the same request again is answered with the first outcome, nothing new is created
    ApplyResult again = follower.propose(create("id1-again", "svc1-again", "req1")).get(20, TimeUnit.SECONDS);
    assertThat(again.getCreatedIdsList()).containsExactly("id1");
    await().atMost(Duration.ofSeconds(20)).until(() -> follower.appliedIndex() >= again.getIndex());
    List<String> ids = follower.stateMachine().store().read(
        v -> v.services().stream().map(x -> x.getMeta().getId()).toList());
    assertThat(ids).containsExactlyInAnyOrder("id0", "id1");
  }

  @Test
  void whenTheLeadersPortRefusesConnectionsAFollowerStartsAnElectionAtOnce() throws Exception {
    // Elections by timeout take 60-120 s here (only the first one after start is quick), so a
    // new leader within the wait below can only come from the leader-loss watch.
    tuning = s -> s.withElection(Duration.ofSeconds(60), Duration.ofSeconds(120))
        .withFirstElection(Duration.ofSeconds(1));
    startThree();
    RaftNode old = leader();
    long oldTerm = old.term();
    // both followers have connected their watch to the leader
    await().atMost(Duration.ofSeconds(10)).until(() -> nodes.stream().allMatch(n -> n.leaderId().isPresent()));
    Thread.sleep(500);
    stopLeader();

    await().atMost(Duration.ofSeconds(20)).until(() -> nodes.stream()
        .anyMatch(n -> n != null && n.isLeaderReady() && n.term() > oldTerm));
    RaftNode follower = nodes.stream().filter(n -> n != null && !n.isLeader()).findFirst().orElseThrow();
    assertThat(follower.propose(create("id2", "svc2", "req2")).get(20, TimeUnit.SECONDS).getCode()).isEqualTo("OK");
  }

  @Test
  void replicatesSnapshotsAndRecovers() throws Exception {
    startThree();
    await().atMost(Duration.ofSeconds(10)).until(() -> leaderStarts.get() == 1);

    RaftNode follower = nodes.stream().filter(n -> !n.isLeader()).findFirst().orElseThrow();
    for (int i = 0; i < 20; i++) {
      ApplyResult r = follower.propose(create("id" + i, "svc" + i, "req" + i)).get(20, TimeUnit.SECONDS);
      assertThat(r.getCode()).isEqualTo("OK");
    }
    // early rejection in startTransaction comes back as a normal result
    ApplyResult bad = follower.propose(LogEntry.newBuilder().setRequestId("x").build()).get(20, TimeUnit.SECONDS);
    assertThat(bad.getCode()).isEqualTo("INVALID_ARGUMENT");
    assertThat(bad.getMessage()).contains("at least one command");
    // retry of req3 via another node applies once
    RaftNode other = nodes.stream().filter(n -> n != follower).findFirst().orElseThrow();
    ApplyResult again = other.propose(create("dup", "svc-dup", "req3")).get(20, TimeUnit.SECONDS);
    assertThat(again.getCreatedIdsList()).containsExactly("id3");

    // linearizable read barrier on a follower sees everything acknowledged
    long seen = follower.readBarrier().get(20, TimeUnit.SECONDS);
    assertThat(seen).isGreaterThanOrEqualTo(again.getIndex());
    int count = follower.stateMachine().store().read(v -> v.services().size());
    assertThat(count).isEqualTo(20);
    await().atMost(Duration.ofSeconds(20)).until(() -> nodes.stream()
        .map(n -> n.stateMachine().store().digest()).distinct().count() == 1);

    // snapshot on a follower, stop it, write more, restart from snapshot + log
    int victim = nodes.indexOf(follower);
    long snapIndex = follower.snapshotNow();
    assertThat(snapIndex).isGreaterThan(0);
    follower.close();
    nodes.set(victim, null);
    for (int i = 20; i < 25; i++) {
      assertThat(other.propose(create("id" + i, "svc" + i, "req" + i)).get(20, TimeUnit.SECONDS).getCode())
          .isEqualTo("OK");
    }
    RaftNode restarted = startNode(victim, true);
    nodes.set(victim, restarted);
    await().atMost(Duration.ofSeconds(30)).until(
        () -> restarted.stateMachine().store().read(v -> v.services().size()) == 25);
    String leaderDigest = other.stateMachine().store().digest();
    await().atMost(Duration.ofSeconds(10)).until(
        () -> restarted.stateMachine().store().digest().equals(leaderDigest));
  }
}
