package dev.berth.chaos;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.berth.api.v1.ClusterServiceGrpc;
import dev.berth.api.v1.CreateNetworkRequest;
import dev.berth.api.v1.CreateServiceRequest;
import dev.berth.api.v1.EndpointSpec;
import dev.berth.api.v1.ExecInput;
import dev.berth.api.v1.ExecOutput;
import dev.berth.api.v1.ExecStart;
import dev.berth.api.v1.NetworkAttachment;
import dev.berth.api.v1.NetworkAttachmentConfig;
import dev.berth.api.v1.NetworkSpec;
import dev.berth.api.v1.PortConfig;
import dev.berth.api.v1.ReplicatedService;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.UpdateServiceRequest;
import dev.berth.testkit.hosts.BusyboxImage;
import dev.berth.testkit.hosts.HostAgent;
import dev.berth.testkit.hosts.HostCluster;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Issue #6 end to end with real processes: one manager and three agents on test hosts, an overlay
 * network and a busybox httpd service on it published through the routing mesh. A container
 * reaches a task on another host by address and by name, every host answers on the published port
 * from tasks on other nodes, and a scaled-down task leaves DNS.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OverlayOnTestHostsTest {
  private HostCluster cluster;

  @BeforeAll
  void start() throws Exception {
    String reason = HostCluster.unsupportedReason();
    assumeTrue(reason == null, reason);
    cluster = HostCluster.withBusybox("overlay", 1, 3);
  }

  @AfterAll
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void containersReachEachOtherAcrossHostsAndEveryHostServesThePublishedPort() throws Exception {
    String net = cluster.api().createNetwork(CreateNetworkRequest.newBuilder()
        .setSpec(NetworkSpec.newBuilder().setName("mesh")).build()).getNetwork().getMeta().getId();
    ServiceSpec base = BusyboxImage.service("web", 3);
    ServiceSpec spec = base.toBuilder()
        .setTask(base.getTask().toBuilder().addNetworks(NetworkAttachmentConfig.newBuilder().setTarget("mesh")))
        .setEndpoint(EndpointSpec.newBuilder().addPorts(PortConfig.newBuilder().setPublishedPort(8080)
            .setTargetPort(80).setPublishMode(PortConfig.PublishMode.INGRESS)))
        .build();
    cluster.api().createService(CreateServiceRequest.newBuilder().setNoResolveImage(true).setSpec(spec).build());
    HostCluster.await("3 running web tasks on 3 nodes", Duration.ofSeconds(150), () -> {
      List<Task> running = cluster.runningTasks("web");
      return running.size() == 3 && running.stream().map(Task::getNodeId).distinct().count() == 3;
    });
    List<Task> tasks = cluster.runningTasks("web");
    Task a = tasks.get(0);
    Task b = tasks.get(1);

    // (a) by address (no wget -T: this busybox-static build crashes with it) and by name, from a container on one host to a task on another
    String bAddr = address(b, net);
    try {
      HostCluster.await("task " + a.getMeta().getId() + " fetches the page of " + b.getMeta().getId() + " at " + bAddr,
          Duration.ofSeconds(60), () -> exec(a, "wget", "-q", "-O", "-", "http://" + bAddr + "/")
              .startsWith("hello from "));
    } catch (IllegalStateException e) {
      System.err.println("last exec: " + lastExec);
      System.err.println("ip addr in a: " + exec(a, "ip", "addr"));
      System.err.println("ip route in a: " + exec(a, "ip", "route"));
      System.err.println("ip neigh in a: " + exec(a, "ip", "neigh"));
      for (HostAgent h : cluster.agents()) {
        for (String[] cmd : List.of(new String[] {"ip", "-n", h.namespace(), "-d", "link"},
            new String[] {"bridge", "-n", h.namespace(), "fdb"}, new String[] {"ip", "-n", h.namespace(), "neigh"})) {
          System.err.println(h.namespace() + " " + String.join(" ", cmd) + ":\n" + dev.berth.testhosts.TestHosts.run(cmd));
        }
      }
      throw e;
    }
    Set<String> all = tasks.stream().map(t -> address(t, net)).collect(Collectors.toSet());
    HostCluster.await("tasks.web resolves to all three tasks in " + a.getMeta().getId(), Duration.ofSeconds(30),
        () -> addressesIn(exec(a, "nslookup", "tasks.web")).containsAll(all));
    assertThat(exec(a, "wget", "-q", "-O", "-", "http://web/")).startsWith("hello from ");

    // (b) every host answers on 8080, and the answers come from tasks on more than one node
    Set<String> pages = new HashSet<>();
    for (HostAgent host : cluster.agents()) {
      Set<String> fromHost = new HashSet<>();
      HostCluster.await("host " + host.ip() + " answers on 8080 from two tasks", Duration.ofSeconds(60), () -> {
        get("http://" + host.ip() + ":8080/").ifPresent(fromHost::add);
        return fromHost.size() >= 2;
      });
      assertThat(fromHost).allMatch(p -> p.startsWith("hello from "));
      pages.addAll(fromHost);
    }
    assertThat(pages).as("pages seen through the mesh: %s", pages).hasSizeGreaterThanOrEqualTo(2);

    // (c) scaling down takes the removed task's record out of DNS on the remaining ones
    cluster.api().updateService(UpdateServiceRequest.newBuilder().setService("web").setNoResolveImage(true)
        .setSpec(spec.toBuilder().setReplicated(ReplicatedService.newBuilder().setReplicas(1))).build());
    HostCluster.await("web down to 1 task", Duration.ofSeconds(60), () -> cluster.runningTasks("web").size() == 1);
    Task left = cluster.runningTasks("web").get(0);
    Set<String> gone = new HashSet<>(all);
    gone.remove(address(left, net));
    HostCluster.await("tasks.web answers only " + address(left, net), Duration.ofSeconds(30), () -> {
      Set<String> now = addressesIn(exec(left, "nslookup", "tasks.web"));
      return now.contains(address(left, net)) && now.stream().noneMatch(gone::contains);
    });
  }

  private static String address(Task t, String networkId) {
    for (NetworkAttachment n : t.getNetworksList()) {
      if (n.getNetworkId().equals(networkId)) {
        String a = n.getAddress();
        return a.contains("/") ? a.substring(0, a.indexOf('/')) : a;
      }
    }
    throw new IllegalStateException("task " + t.getMeta().getId() + " has no address on " + networkId);
  }

  /** The IPv4 addresses in nslookup's answer section (after the server's lines). */
  private static Set<String> addressesIn(String nslookup) {
    int answer = nslookup.indexOf("Name:");
    String tail = answer < 0 ? "" : nslookup.substring(answer);
    Set<String> out = new HashSet<>();
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\b(\\d+\\.\\d+\\.\\d+\\.\\d+)\\b").matcher(tail);
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  private static java.util.Optional<String> get(String url) {
    try {
      HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
      c.setConnectTimeout(2000);
      c.setReadTimeout(3000);
      try (InputStream in = c.getInputStream()) {
        return java.util.Optional.of(new String(in.readAllBytes(), StandardCharsets.UTF_8).trim());
      } finally {
        c.disconnect();
      }
    } catch (IOException e) {
      return java.util.Optional.empty();
    }
  }

  private volatile String lastExec = "";

  /** Runs argv in the task's container through the manager's Exec rpc; its stdout ("" on failure). */
  private String exec(Task task, String... argv) {
    StringBuilder out = new StringBuilder();
    StringBuilder err = new StringBuilder();
    CompletableFuture<Integer> exit = new CompletableFuture<>();
    StreamObserver<ExecInput> in = ClusterServiceGrpc.newStub(cluster.api().getChannel()).exec(new StreamObserver<>() {
      @Override public void onNext(ExecOutput o) {
        synchronized (out) {
          out.append(o.getStdout().toStringUtf8());
          err.append(o.getStderr().toStringUtf8());
        }
        if (o.getExited()) {
          exit.complete(o.getExitCode());
        }
      }
      @Override public void onError(Throwable t) { exit.completeExceptionally(t); }
      @Override public void onCompleted() { exit.complete(-1); }
    });
    in.onNext(ExecInput.newBuilder().setStart(ExecStart.newBuilder().setTask(task.getMeta().getId())
        .addAllArgv(List.of(argv))).build());
    in.onNext(ExecInput.newBuilder().setCloseStdin(true).build());
    try {
      int code = exit.get(20, TimeUnit.SECONDS);
      in.onCompleted();
      synchronized (out) {
        lastExec = String.join(" ", argv) + " -> " + code + "\nstdout: " + out + "\nstderr: " + err;
        return out.toString();
      }
    } catch (Exception e) {
      lastExec = String.join(" ", argv) + " -> " + e;
      in.onError(e);
      return "";
    }
  }
}
