package dev.berth.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.ClusterServiceGrpc;
import dev.berth.api.v1.CreateServiceRequest;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.ServiceResponse;
import dev.berth.cli.BerthCli;
import dev.berth.cli.CliContext;
import dev.berth.cli.GlobalOptions;
import dev.berth.manager.dispatcher.DispatcherConfig;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The {@code berth} CLI against an in-process cluster (real public API, store and dispatcher) when
 * the first manager in {@code BERTH_MANAGER} is silent: a loopback port whose kernel accepts the
 * connection but where nobody answers (a paused manager), or a manager that passes the write on and
 * then stalls before answering. The CLI must move on after its answer timeout, and a write resent
 * with the same request id must apply once.
 */
class CliFailoverTest {
  private LocalCluster cluster;
  private ServerSocket paused;
  private Server stalling;
  private final List<ManagedChannel> channels = new ArrayList<>();
  /** HOST:PORT the CLI dials -> in-process server name (other addresses are dialled over TCP). */
  private final Map<String, String> inProcess = new HashMap<>();
  private final List<CreateServiceRequest> stalled = new CopyOnWriteArrayList<>();

  record Result(int exit, String out, String err) {}

  @BeforeEach
  void start() throws IOException {
    cluster = new LocalCluster(Clock.systemUTC(), DispatcherConfig.defaults(), 600_000, "m1", "m2");
    assertThat(cluster.init().getCode()).isEqualTo("OK");
    cluster.electLeader("m1");
    inProcess.put("10.0.0.1:4700", "m1");
    inProcess.put("10.0.0.2:4700", "m2");
    paused = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
  }

  @AfterEach
  void stop() throws IOException {
    channels.forEach(ManagedChannel::shutdownNow);
    if (stalling != null) {
      stalling.shutdownNow();
    }
    paused.close();
    cluster.close();
  }

  @Test
  void readsAndWritesGoPastAPausedFirstManager() {
    String managers = "127.0.0.1:" + paused.getLocalPort() + ",10.0.0.1:4700,10.0.0.2:4700";

    Result created = cli(managers, "service", "create", "--name", "web", "--replicas", "2", "busybox");
    assertThat(created.err()).isEmpty();
    assertThat(created.exit()).isZero();
    Service web = cluster.store().read(v -> v.serviceByName("web")).orElseThrow();
    assertThat(created.out().strip()).isEqualTo(web.getMeta().getId());

    Result listed = cli(managers, "service", "ls");
    assertThat(listed.exit()).isZero();
    assertThat(listed.out()).contains("web").contains("busybox");
  }

  @Test
  void writeAppliedByAManagerThatNeverAnsweredIsNotAppliedAgainWhenResent() throws IOException {
    startStallingManager("10.0.0.9:4700", "m1");

    Result created = cli("10.0.0.9:4700,10.0.0.2:4700", "service", "create", "--name", "web", "busybox");

    assertThat(created.err()).isEmpty();
    assertThat(created.exit()).isZero();
    assertThat(stalled).hasSize(1);
    String requestId = stalled.get(0).getWrite().getRequestId();
    assertThat(cluster.store().requestOutcome(requestId)).isPresent();
    List<String> names = cluster.store().read(v -> v.services().stream().map(s -> s.getSpec().getName()).toList());
    assertThat(names).containsExactly("web");
    assertThat(created.out().strip()).isEqualTo(cluster.store().read(v -> v.serviceByName("web")).orElseThrow()
        .getMeta().getId());
  }

  /**
   * A manager reachable as {@code address} that hands each CreateService to {@code target}'s real API
   * (so the write commits) and then never answers the client, as a manager partitioned just after
   * proposing would.
   */
  private void startStallingManager(String address, String target) throws IOException {
    ClusterServiceGrpc.ClusterServiceBlockingStub real = ClusterServiceGrpc.newBlockingStub(channel(target));
    String name = "stalling-" + address;
    stalling = InProcessServerBuilder.forName(name).addService(new ClusterServiceGrpc.ClusterServiceImplBase() {
      @Override
      public void createService(CreateServiceRequest req, StreamObserver<ServiceResponse> obs) {
        real.createService(req);
        stalled.add(req);
      }
    }).build().start();
    inProcess.put(address, name);
  }

  private ManagedChannel channel(String inProcessName) {
    ManagedChannel c = InProcessChannelBuilder.forName(inProcessName).build();
    channels.add(c);
    return c;
  }

  private Result cli(String managers, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CliContext ctx = new CliContext(new PrintWriter(out), new PrintWriter(err), Clock.systemUTC(),
        Map.of(GlobalOptions.MANAGER_ENV, managers, GlobalOptions.MANAGER_TIMEOUT_ENV, "1s"),
        target -> inProcess.containsKey(target)
            ? InProcessChannelBuilder.forName(inProcess.get(target)).build()
            : NettyChannelBuilder.forTarget(target).usePlaintext().build(),
        CliContext.defaultSettings(d -> Thread.sleep(d.toMillis())));
    int exit = BerthCli.run(ctx, args);
    return new Result(exit, out.toString(), err.toString());
  }
}
