package dev.berth.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.berth.api.v1.CreateServiceRequest;
import dev.berth.api.v1.NodeAvailability;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.UpdateNodeRequest;
import dev.berth.testkit.hosts.BusyboxImage;
import dev.berth.testkit.hosts.HostAgent;
import dev.berth.testkit.hosts.HostCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Issue #5: two real agent processes on one machine, each in its own test host with its own
 * state dir and node id, running real busybox httpd containers of one service. A kill -9 and
 * restart of one agent adopts its containers and leaves the other's containers, cgroups, mounts
 * and processes exactly as they were; draining one removes only its own.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AgentsOnTestHostsTest {
  private HostCluster cluster;

  @BeforeAll
  void start() throws Exception {
    String reason = HostCluster.unsupportedReason();
    assumeTrue(reason == null, reason);
    cluster = HostCluster.withBusybox("agents", 1, 2);
  }

  @AfterAll
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private Map<String, Long> tasksPerNode(String service) {
    return cluster.runningTasks(service).stream().collect(Collectors.groupingBy(Task::getNodeId, Collectors.counting()));
  }

  private static String cmdline(long pid) {
    try {
      return Files.readString(Path.of("/proc/" + pid + "/cmdline")).replace('\0', ' ');
    } catch (java.io.IOException e) {
      return "";
    }
  }

  @Test
  void killingAndRestartingOneAgentAdoptsItsContainersAndLeavesTheOtherAlone() throws Exception {
    HostAgent a = cluster.agents().get(0);
    HostAgent b = cluster.agents().get(1);
    String idA = a.nodeId().orElseThrow();
    String idB = b.nodeId().orElseThrow();
    assertThat(idA).isNotEqualTo(idB);
    cluster.api().createService(CreateServiceRequest.newBuilder().setNoResolveImage(true)
        .setSpec(BusyboxImage.service("web", 4)).build());
    HostCluster.await("4 running web tasks on both nodes", Duration.ofSeconds(120), () -> {
      Map<String, Long> perNode = tasksPerNode("web");
      return perNode.values().stream().mapToLong(Long::longValue).sum() == 4 && perNode.size() == 2;
    });
    NodeFootprint beforeA = NodeFootprint.of(a);
    NodeFootprint beforeB = NodeFootprint.of(b);
    assertThat(beforeA.initPids()).hasSize(tasksPerNode("web").get(idA).intValue());
    assertThat(beforeB.initPids()).hasSize(tasksPerNode("web").get(idB).intValue());
    assertThat(beforeA.initPids().keySet()).doesNotContainAnyElementsOf(beforeB.initPids().keySet());
    assertThat(beforeA.cgroupDirs()).allMatch(d -> d.contains("/berth-" + idA)).isNotEmpty();
    assertThat(beforeB.cgroupPids()).doesNotContainAnyElementsOf(beforeA.cgroupPids());
    // each container is a real web server with its own root: its init (httpd) serves /www/index.html
    for (long pid : beforeB.initPids().values()) {
      assertThat(Files.readString(Path.of("/proc/" + pid + "/root/www/index.html"))).startsWith("hello from ");
    }
    assertThat(beforeB.cgroupPids().stream().filter(p -> cmdline(p).startsWith("httpd")).count())
        .as("one httpd per container in B's cgroups").isEqualTo(beforeB.initPids().size());

    a.kill();
    assertThat(beforeA.allAlive()).as("containers outlive their agent's kill -9").isTrue();
    assertThat(NodeFootprint.of(b)).isEqualTo(beforeB);

    a.start();
    HostCluster.await("agent A adopts its containers", Duration.ofSeconds(90), () -> {
      try {
        return Files.readString(a.log()).contains("found " + beforeA.initPids().size() + " container(s) from before, "
            + beforeA.initPids().size() + " running");
      } catch (java.io.IOException e) {
        return false;
      }
    });
    cluster.awaitReadyNodes(2);
    HostCluster.await("the 4 tasks run again, the same ones", Duration.ofSeconds(60), () ->
        cluster.runningTasks("web").size() == 4);
    assertThat(a.nodeId()).contains(idA);
    NodeFootprint afterA = NodeFootprint.of(a);
    assertThat(afterA.initPids()).as("the same containers, the same processes: adopted, not restarted")
        .isEqualTo(beforeA.initPids());
    assertThat(afterA.cgroupDirs()).isEqualTo(beforeA.cgroupDirs());
    assertThat(NodeFootprint.of(b)).as("the other agent's containers, mounts, cgroups, processes").isEqualTo(beforeB);

    // draining A makes A's agent stop its own containers; B keeps its own (and gets A's tasks)
    cluster.api().updateNode(UpdateNodeRequest.newBuilder().setNode(idA).setAvailability(NodeAvailability.DRAIN)
        .build());
    HostCluster.await("A's containers stopped, the 4 tasks on B", Duration.ofSeconds(90), () ->
        NodeFootprint.of(a).initPids().isEmpty() && tasksPerNode("web").equals(Map.of(idB, 4L)));
    assertThat(NodeFootprint.of(a).cgroupPids()).isEmpty();
    for (long pid : beforeA.initPids().values()) {
      assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
    }
    NodeFootprint afterB = NodeFootprint.of(b);
    assertThat(afterB.initPids()).containsAllEntriesOf(beforeB.initPids()).hasSize(4);
    assertThat(afterB.mounts()).containsAllEntriesOf(beforeB.mounts());
    assertThat(afterB.cgroupDirs()).containsAll(beforeB.cgroupDirs());
    assertThat(afterB.cgroupPids()).containsAll(beforeB.cgroupPids());

    // removing everything of A's node (the agent's runtime, by node id) leaves nothing of A and B intact
    a.kill();
    a.destroyContainers();
    NodeFootprint gone = NodeFootprint.of(a);
    assertThat(gone.cgroupDirs()).as("no berth-" + idA + " cgroup left in any hierarchy").isEmpty();
    assertThat(a.containers()).isEmpty();
    assertThat(NodeFootprint.of(b)).isEqualTo(afterB);
    assertThat(afterB.allAlive()).isTrue();
  }
}
