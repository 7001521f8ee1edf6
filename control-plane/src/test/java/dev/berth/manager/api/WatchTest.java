package dev.berth.manager.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.berth.api.v1.ClusterServiceGrpc;
import dev.berth.api.v1.Meta;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.ObjectKind;
import dev.berth.api.v1.WatchEvent;
import dev.berth.api.v1.WatchRequest;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.LogEntry;
import dev.berth.internal.v1.RegisterNode;
import dev.berth.manager.store.ClusterStore;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Watch over a real gRPC server on loopback, fed by a store applying entries. */
class WatchTest {
  private final ExecutorService pool = Executors.newCachedThreadPool();
  private ClusterStore store;
  private Server server;
  private ManagedChannel channel;
  private long index;

  private void start(int changeLogCapacity, long progressMs) throws Exception {
    store = new ClusterStore(100, changeLogCapacity);
    WatchHandler watches = new WatchHandler(store.changes(), pool, progressMs);
    // Only Watch is exercised: the write and read paths are not needed here.
    ClusterApi api = ClusterApi.builder(store, null, null, Clock.systemUTC(), watches).build();
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(api).build().start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
  }

  @AfterEach
  void stop() {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (server != null) {
      server.shutdownNow();
    }
    pool.shutdownNow();
  }

  /** Entry n registers node "n<n>" (and, every third entry, a second node in the same entry). */
  private void applyUpTo(long last) {
    while (index < last) {
      index++;
      LogEntry.Builder e = LogEntry.newBuilder().setTimestampMs(index).addCommands(register("n" + index));
      if (index % 3 == 0) {
        e.addCommands(register("n" + index + "b"));
      }
      store.apply(e.build(), index);
    }
  }

  private static Command register(String id) {
    return Command.newBuilder().setRegisterNode(RegisterNode.newBuilder()
        .setNode(Node.newBuilder().setMeta(Meta.newBuilder().setId(id)))).build();
  }

  private static List<String> expected(long after, long last) {
    List<String> out = new ArrayList<>();
    for (long i = after + 1; i <= last; i++) {
      out.add(i + ":n" + i);
      if (i % 3 == 0) {
        out.add(i + ":n" + i + "b");
      }
    }
    return out;
  }

  private static final class Collector implements StreamObserver<WatchEvent> {
    final List<String> changes = Collections.synchronizedList(new ArrayList<>());
    final List<Long> progress = Collections.synchronizedList(new ArrayList<>());
    final CompletableFuture<Throwable> error = new CompletableFuture<>();

    @Override
    public void onNext(WatchEvent e) {
      if (e.getProgress()) {
        progress.add(e.getIndex());
      } else {
        assertThat(e.getKind()).isEqualTo(ObjectKind.KIND_NODE);
        changes.add(e.getIndex() + ":" + e.getNode().getMeta().getId());
      }
    }

    @Override
    public void onError(Throwable t) {
      error.complete(t);
    }

    @Override
    public void onCompleted() {
      error.complete(null);
    }
  }

  private Collector watch(long from) {
    Collector c = new Collector();
    ClusterServiceGrpc.newStub(channel).watch(WatchRequest.newBuilder().setFromIndex(from).build(), c);
    return c;
  }

  @Test
  void streamsInOrderWithoutGapsOrRepeatsWhileWritesContinue() throws Exception {
    start(10_000, 200);
    applyUpTo(10);
    Collector c = watch(3);
    for (int i = 0; i < 20; i++) {
      applyUpTo(index + 5);
      Thread.sleep(5);
    }
    await().atMost(Duration.ofSeconds(20)).until(() -> c.changes.size() >= expected(3, index).size());
    Thread.sleep(300);
    assertThat(c.changes).containsExactlyElementsOf(expected(3, index));
  }

  @Test
  void resumingFromAProgressIndexMissesNothing() throws Exception {
    start(10_000, 100);
    applyUpTo(7);
    Collector idle = watch(0);
    await().atMost(Duration.ofSeconds(10)).until(() -> !idle.progress.isEmpty());
    long resumeAt = idle.progress.get(idle.progress.size() - 1);
    assertThat(resumeAt).isEqualTo(7);
    applyUpTo(12);
    Collector resumed = watch(resumeAt);
    await().atMost(Duration.ofSeconds(10)).until(() -> resumed.changes.size() == expected(7, 12).size());
    assertThat(resumed.changes).containsExactlyElementsOf(expected(7, 12));
    await().atMost(Duration.ofSeconds(10)).until(() -> idle.changes.size() == expected(7, 12).size());
    assertThat(idle.changes).containsExactlyElementsOf(expected(7, 12));
  }

  @Test
  void compactedIndexFailsWithOutOfRange() throws Exception {
    start(20, 200);
    applyUpTo(60);
    Collector c = watch(2);
    Throwable t = c.error.get(10, TimeUnit.SECONDS);
    assertThat(t).isInstanceOf(StatusRuntimeException.class);
    assertThat(((StatusRuntimeException) t).getStatus().getCode()).isEqualTo(Status.Code.OUT_OF_RANGE);
    assertThat(t.getMessage()).contains("compacted");
    // a recent position is still served
    Collector recent = watch(55);
    await().atMost(Duration.ofSeconds(10)).until(() -> recent.changes.size() == expected(55, 60).size());
    assertThat(recent.changes).containsExactlyElementsOf(expected(55, 60));
  }

  @Test
  void aWatchAheadOfThisServerWaitsForItToCatchUp() throws Exception {
    start(10_000, 100);
    applyUpTo(5);
    Collector c = watch(9);
    Thread.sleep(400);
    assertThat(c.changes).isEmpty();
    assertThat(c.progress).allMatch(p -> p >= 9);
    applyUpTo(12);
    await().atMost(Duration.ofSeconds(10)).until(() -> c.changes.size() == expected(9, 12).size());
    assertThat(c.changes).containsExactlyElementsOf(expected(9, 12));
    assertThat(c.error).isNotDone();
  }
}
