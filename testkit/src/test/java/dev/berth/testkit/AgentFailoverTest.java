package dev.berth.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.berth.agent.Agent;
import dev.berth.agent.session.HostDescription;
import dev.berth.agent.session.SessionClient;
import dev.berth.agent.session.SessionConfig;
import dev.berth.agent.task.SimulatedTaskExecutor;
import dev.berth.api.v1.GetJoinTokensRequest;
import dev.berth.api.v1.ListTasksRequest;
import dev.berth.api.v1.ReadConsistency;
import dev.berth.api.v1.ReplicatedService;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.UpdateServiceRequest;
import dev.berth.manager.ManagerProcess;
import dev.berth.manager.ManagerTrio;
import io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real agent session client with the simulated executor, in this JVM, against three
 * managers running as separate processes: it receives its full task set from the leader, then
 * changes; after the leader is killed (-9) it follows the manager list to the new leader, gets
 * its full set again (keeping its tasks, not restarting them), takes further changes, and the
 * states it reports show up in {@code service ps} (ListTasks) on the surviving managers.
 */
class AgentFailoverTest {
  private static final Duration WAIT = Duration.ofSeconds(90);
  @TempDir
  Path agentDir;
  private ManagerTrio trio;
  private Agent agent;

  @AfterEach
  void stop() throws InterruptedException {
    if (agent != null) {
      agent.close();
    }
    if (trio != null) {
      trio.close();
    }
  }

  @Test
  void anAgentFollowsTheNewLeaderAndItsReportsShowUpInServicePs() throws Exception {
    trio = ManagerTrio.start("agent-failover");
    ManagerProcess leader = trio.leader();
    String token = leader.api().getJoinTokens(GetJoinTokensRequest.getDefaultInstance()).getWorker();
    SimulatedTaskExecutor executor = new SimulatedTaskExecutor(Clock.systemUTC());
    // joins through a follower: the session is redirected to the leader
    SessionConfig cfg = new SessionConfig(List.of(trio.followers().get(0).addr()), token, Map.of(),
        Duration.ofMillis(50), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(5),
        Duration.ofMillis(5));
    agent = new Agent(cfg, agentDir, "127.0.0.1", executor,
        t -> NettyChannelBuilder.forTarget(t).usePlaintext().build(), HostDescription.system(),
        Clock.systemUTC(), new Random()).start();
    await().atMost(WAIT).until(() -> session().accepted() && session().target().equals(leader.addr()));

    leader.api().createService(ManagerTrio.service("web"));
    await().atMost(WAIT).until(() -> running(leader).size() == 1);
    scale(leader, 3); // a change on the open session
    await().atMost(WAIT).until(() -> running(leader).size() == 3);
    Set<String> before = running(leader);
    assertThat(executor.running()).containsExactlyInAnyOrderElementsOf(before);
    int sessions = session().sessionsOpened();

    leader.kill();
    await().atMost(WAIT).ignoreExceptions().until(() -> !trio.leader().addr().equals(leader.addr()));
    ManagerProcess newLeader = trio.leader();
    await().atMost(WAIT).until(() -> session().accepted() && session().target().equals(newLeader.addr())
        && session().sessionsOpened() > sessions);
    assertThat(session().managers()).contains(newLeader.addr());
    // the new leader's full set kept every task: none was stopped or started again
    assertThat(executor.running()).containsExactlyInAnyOrderElementsOf(before);
    assertThat(running(newLeader)).isEqualTo(before);

    scale(newLeader, 5); // changes from the new leader
    await().atMost(WAIT).until(() -> running(newLeader).size() == 5);
    assertThat(executor.running()).containsExactlyInAnyOrderElementsOf(running(newLeader));
    // a state the agent reports now (a container exits) shows up on every surviving manager
    String exited = before.iterator().next();
    executor.exit(exited, 3, false);
    for (ManagerProcess m : trio.managers) {
      if (m.alive()) {
        await().atMost(WAIT).ignoreExceptions().until(() -> state(m, exited) == TaskState.FAILED);
      }
    }
    await().atMost(WAIT).until(() -> running(newLeader).size() == 5 && !running(newLeader).contains(exited));
  }

  private SessionClient.Snapshot session() throws Exception {
    return agent.session().snapshot().get();
  }

  private static void scale(ManagerProcess m, long replicas) {
    var service = m.api().getService(dev.berth.api.v1.GetRequest.newBuilder().setId("web").build()).getService();
    m.api().updateService(UpdateServiceRequest.newBuilder().setService("web")
        .setSpec(service.getSpec().toBuilder().setReplicated(ReplicatedService.newBuilder().setReplicas(replicas)))
        .setIfVersion(service.getMeta().getVersion()).build());
  }

  private static List<Task> tasks(ManagerProcess m) {
    return m.api().listTasks(ListTasksRequest.newBuilder().setService("web")
        .setConsistency(ReadConsistency.STALE).build()).getTasksList();
  }

  /** Ids of the tasks the manager records as RUNNING (as {@code service ps} shows them). */
  private static Set<String> running(ManagerProcess m) {
    return tasks(m).stream().filter(t -> t.getStatus().getState() == TaskState.RUNNING)
        .map(t -> t.getMeta().getId()).collect(Collectors.toSet());
  }

  private static TaskState state(ManagerProcess m, String taskId) {
    return tasks(m).stream().filter(t -> t.getMeta().getId().equals(taskId)).findFirst()
        .map(t -> t.getStatus().getState()).orElse(TaskState.NEW);
  }
}
