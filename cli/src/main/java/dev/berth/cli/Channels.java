package dev.berth.cli;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;

/** Channel construction for the real CLI (kept apart so --help never loads Netty). */
final class Channels {
  private Channels() {}

  static ManagedChannel plaintext(String target) {
    return NettyChannelBuilder.forTarget(target).usePlaintext().build();
  }
}
