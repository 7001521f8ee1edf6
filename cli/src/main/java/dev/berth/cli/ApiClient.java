package dev.berth.cli;

import dev.berth.api.v1.ClusterServiceGrpc;
import dev.berth.api.v1.ClusterServiceGrpc.ClusterServiceBlockingStub;
import dev.berth.api.v1.WriteOptions;
import dev.berth.cli.format.Durations;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The CLI's one door to the cluster: blocking {@code ClusterService} calls over a list of
 * managers.
 *
 * <p>Failover: a call goes to the manager that last answered (first in the list at the start);
 * on UNAVAILABLE it moves to the next one. So does a manager that stays silent for
 * {@link Settings#answerTimeout} (a paused or partitioned process whose kernel still accepts the
 * connection, or a blackholed address): unary calls carry that deadline per attempt, and streaming
 * calls first wait that long for the HTTP/2 handshake. A silent manager is skipped in the later
 * rounds of the same call, so it costs its timeout once. When some manager answered UNAVAILABLE (no leader yet,
 * no quorum) the whole list is retried after a backoff, up to {@link Settings#attempts} rounds;
 * when every manager refused the connection the call gives up at once, so a down cluster is
 * reported quickly. A write keeps the same {@link WriteOptions#getRequestId() request id} across all
 * its attempts: the server de-duplicates by id, so a retry never applies twice. Other status codes
 * are not retried and propagate as {@link StatusRuntimeException}; giving up raises
 * {@link ClusterUnavailableException}.
 *
 * <p>Not thread-safe: one command, one thread.
 */
public final class ApiClient implements AutoCloseable {
  /**
   * Retry, timeout and id settings.
   *
   * @param answerTimeout how long one manager may take to answer one attempt (connection included)
   *     before the next manager is tried
   */
  public record Settings(
      int attempts, Duration initialBackoff, Duration maxBackoff, Duration answerTimeout,
      Sleeper sleeper, Supplier<String> requestIds) {
    public Settings {
      if (attempts < 1) {
        throw new IllegalArgumentException("attempts must be >= 1");
      }
      if (answerTimeout.isNegative() || answerTimeout.isZero()) {
        throw new IllegalArgumentException("answer timeout must be positive");
      }
    }

    /** These settings with another answer timeout. */
    public Settings withAnswerTimeout(Duration timeout) {
      return new Settings(attempts, initialBackoff, maxBackoff, timeout, sleeper, requestIds);
    }
  }

  private final List<String> managers;
  private final Function<String, ManagedChannel> channelFactory;
  private final Settings settings;
  private final Map<String, ManagedChannel> channels = new LinkedHashMap<>();
  private int preferred;

  public ApiClient(List<String> managers, Function<String, ManagedChannel> channelFactory, Settings settings) {
    if (managers.isEmpty()) {
      throw new IllegalArgumentException("no managers");
    }
    this.managers = List.copyOf(managers);
    this.channelFactory = channelFactory;
    this.settings = settings;
  }

  /** Runs a read. */
  public <T> T read(Function<ClusterServiceBlockingStub, T> call) {
    return withFailover(call);
  }

  /** Runs a write under one fresh request id, retried with that id while the cluster is unavailable. */
  public <T> T write(BiFunction<ClusterServiceBlockingStub, WriteOptions, T> call) {
    WriteOptions write = WriteOptions.newBuilder().setRequestId(settings.requestIds().get()).build();
    return withFailover(stub -> call.apply(stub, write));
  }

  /** The manager that answered the last successful call (or the first one before any call). */
  public String currentManager() {
    return managers.get(preferred);
  }

  /**
   * A streaming call ({@code service logs}, {@code exec}): no deadline, since it lasts as long as the user
   * wants. {@code call} must fail with UNAVAILABLE only before the server sent anything (a follower refuses
   * at once), so moving to the next manager never repeats or loses output.
   */
  public <T> T stream(Function<ClusterServiceBlockingStub, T> call) {
    return withFailover(target -> ClusterServiceGrpc.newBlockingStub(handshaken(target)), call);
  }

  /** {@link #stream} for calls that need the asynchronous stub (client-streaming input). */
  public <T> T streamAsync(Function<ClusterServiceGrpc.ClusterServiceStub, T> call) {
    return withFailover(target -> ClusterServiceGrpc.newStub(handshaken(target)), call);
  }

  private ManagedChannel channel(String target) {
    return channels.computeIfAbsent(target, channelFactory);
  }

  /**
   * The channel to {@code target} once its connection is up: a stream has no deadline, so a silent
   * manager is detected here instead. grpc-java's Netty transport turns READY only when the server's
   * HTTP/2 SETTINGS arrive, which a paused process never sends although its kernel accepted the TCP
   * connection. A refused connection (TRANSIENT_FAILURE) returns at once: the call then fails with
   * UNAVAILABLE and the reason.
   */
  private ManagedChannel handshaken(String target) {
    ManagedChannel channel = channel(target);
    long deadline = System.nanoTime() + settings.answerTimeout().toNanos();
    ConnectivityState state = channel.getState(true);
    while (state == ConnectivityState.IDLE || state == ConnectivityState.CONNECTING) {
      CountDownLatch changed = new CountDownLatch(1);
      channel.notifyWhenStateChanged(state, changed::countDown);
      try {
        if (!changed.await(deadline - System.nanoTime(), TimeUnit.NANOSECONDS)) {
          throw Status.DEADLINE_EXCEEDED.withDescription("no connection").asRuntimeException();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ClusterUnavailableException(managers, "interrupted while connecting", e);
      }
      state = channel.getState(true);
    }
    return channel;
  }

  private <T> T withFailover(Function<ClusterServiceBlockingStub, T> call) {
    return withFailover(this::stub, call);
  }

  private <S, T> T withFailover(Function<String, S> stubs, Function<S, T> call) {
    StatusRuntimeException last = null;
    String lastReason = null;
    Set<Integer> silent = new HashSet<>();
    Duration backoff = settings.initialBackoff();
    for (int round = 0; round < settings.attempts(); round++) {
      boolean anyAnswered = false;
      for (int i = 0; i < managers.size(); i++) {
        int index = (preferred + i) % managers.size();
        if (silent.contains(index)) {
          continue;
        }
        try {
          T result = call.apply(stubs.apply(managers.get(index)));
          preferred = index;
          return result;
        } catch (StatusRuntimeException e) {
          Status.Code code = e.getStatus().getCode();
          if (code == Status.Code.DEADLINE_EXCEEDED) {
            // a write is safe to send elsewhere: it keeps its request id, which the store de-duplicates
            silent.add(index);
            last = e;
            lastReason = "no answer within " + Durations.formatMillis(settings.answerTimeout().toMillis());
            continue;
          }
          if (code != Status.Code.UNAVAILABLE) {
            preferred = index;
            throw e;
          }
          last = e;
          lastReason = reason(e);
          anyAnswered |= !unreachable(e);
        }
      }
      if (!anyAnswered || round == settings.attempts() - 1) {
        break;
      }
      sleep(backoff);
      backoff = min(backoff.multipliedBy(2), settings.maxBackoff());
    }
    throw new ClusterUnavailableException(managers, lastReason, last);
  }

  private ClusterServiceBlockingStub stub(String target) {
    return ClusterServiceGrpc.newBlockingStub(channel(target))
        .withDeadlineAfter(settings.answerTimeout().toMillis(), TimeUnit.MILLISECONDS);
  }

  /** True when the failure happened before any server saw the call (nothing listening, no such host). */
  private static boolean unreachable(StatusRuntimeException e) {
    for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
      if (t instanceof ConnectException || t instanceof UnknownHostException) {
        return true;
      }
    }
    return false;
  }

  private static String reason(StatusRuntimeException e) {
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    if (root != e && root.getMessage() != null) {
      return root instanceof UnknownHostException ? "unknown host " + root.getMessage() : root.getMessage();
    }
    String description = e.getStatus().getDescription();
    return description == null ? e.getStatus().getCode().toString() : description;
  }

  private void sleep(Duration d) {
    try {
      settings.sleeper().sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ClusterUnavailableException(managers, "interrupted while waiting to retry", e);
    }
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  @Override
  public void close() {
    List<ManagedChannel> open = new ArrayList<>(channels.values());
    channels.clear();
    for (ManagedChannel c : open) {
      c.shutdownNow();
    }
  }
}
