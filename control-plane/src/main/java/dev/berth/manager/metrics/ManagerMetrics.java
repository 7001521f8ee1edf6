package dev.berth.manager.metrics;

import dev.berth.manager.store.ClusterStore;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.prometheus.client.exporter.HTTPServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import java.util.function.ToDoubleFunction;

/**
 * The manager's Prometheus metrics (Micrometer, simpleclient registry) and the HTTP
 * endpoint serving them at {@code /metrics}.
 *
 * <p>Thread model: thread-safe. Gauges read their sources when scraped.
 */
public final class ManagerMetrics implements AutoCloseable {
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Timer applyTimer;
  private HTTPServer http;

  public ManagerMetrics() {
    applyTimer = Timer.builder("berth.raft.apply.latency")
        .description("Time to apply one Raft log entry to the store")
        .publishPercentiles(0.5, 0.99).register(registry);
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Apply-latency sink for the state machine. */
  public LongConsumer applyNanos() {
    return nanos -> applyTimer.record(nanos, TimeUnit.NANOSECONDS);
  }

  public <T> void gauge(String name, String description, T source, ToDoubleFunction<T> value) {
    Gauge.builder(name, source, value).description(description).register(registry);
  }

  /** Objects in the store by kind. */
  /** {@code berth_connected_agents}: agents with an open session on this manager (0 on followers). */
  public void connectedAgents(java.util.function.IntSupplier connected) {
    Gauge.builder("berth.connected.agents", connected, c -> c.getAsInt())
        .description("Agents with an open session on this manager (the leader)").register(registry);
  }

  public void storeGauges(ClusterStore store) {
    String d = "Objects in the replicated store";
    Gauge.builder("berth.objects", store, s -> s.read(v -> v.nodes().size())).tag("kind", "node")
        .description(d).register(registry);
    Gauge.builder("berth.objects", store, s -> s.read(v -> v.services().size())).tag("kind", "service")
        .description(d).register(registry);
    Gauge.builder("berth.objects", store, s -> s.read(v -> v.tasks().size())).tag("kind", "task")
        .description(d).register(registry);
    Gauge.builder("berth.objects", store, s -> s.read(v -> v.networks().size())).tag("kind", "network")
        .description(d).register(registry);
  }

  /** Records every gRPC call's latency by method and status code. */
  public ServerInterceptor apiInterceptor() {
    return new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        long start = System.nanoTime();
        String method = call.getMethodDescriptor().getFullMethodName();
        return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
          @Override
          public void close(Status status, Metadata trailers) {
            Timer.builder("berth.api.latency").description("Latency of public and manager API calls")
                .tag("method", method).tag("code", status.getCode().name())
                .register(registry).record(Duration.ofNanos(System.nanoTime() - start));
            super.close(status, trailers);
          }
        }, headers);
      }
    };
  }

  /** Serves /metrics on host:port (port 0 picks a free one); returns the bound port. */
  public int serve(String host, int port) throws IOException {
    http = new HTTPServer.Builder().withInetSocketAddress(new InetSocketAddress(host, port))
        .withRegistry(registry.getPrometheusRegistry()).withDaemonThreads(true).build();
    return http.getPort();
  }

  @Override
  public void close() {
    if (http != null) {
      http.close();
    }
    registry.close();
  }
}
