package dev.berth.agent.session;

import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;

/**
 * Opens the channel to one manager ("host:port"). Production uses plaintext Netty; tests use in-process
 * channels named like managers. The session client shuts down channels it no longer uses.
 */
@FunctionalInterface
public interface ChannelFactory {
    ManagedChannel open(String target);

    /** Plaintext gRPC over TCP (TLS arrives with the cluster CA). */
    static ChannelFactory plaintext() {
        return target -> NettyChannelBuilder.forTarget(target).usePlaintext().build();
    }
}
