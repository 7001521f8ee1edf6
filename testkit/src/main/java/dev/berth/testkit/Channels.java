package dev.berth.testkit;

import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.netty.NettyChannelBuilder;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Shared client channels by manager address: {@code inproc:NAME} is an in-process server
 * (tests), anything else a plaintext {@code host:port}. Many fake agents share one channel per
 * manager, as HTTP/2 multiplexes their streams.
 *
 * <p>Thread model: thread-safe.
 */
public final class Channels implements AutoCloseable {
  public static final String IN_PROCESS = "inproc:";

  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

  public ManagedChannel get(String address) {
    return channels.computeIfAbsent(address, a -> a.startsWith(IN_PROCESS)
        ? InProcessChannelBuilder.forName(a.substring(IN_PROCESS.length())).build()
        : NettyChannelBuilder.forTarget(a).usePlaintext().build());
  }

  @Override
  public void close() {
    channels.values().forEach(ManagedChannel::shutdownNow);
    for (ManagedChannel channel : channels.values()) {
      try {
        channel.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
