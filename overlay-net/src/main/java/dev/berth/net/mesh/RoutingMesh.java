package dev.berth.net.mesh;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * One published port of the routing mesh on one node: accepts TCP and relays each
 * connection to a healthy task from its {@link BackendPool} (round-robin across tasks and
 * nodes) over the overlay. With PROXY protocol on, the task first receives a PROXY v2
 * header carrying the client's address (Netty's HAProxy encoder).
 *
 * <p>On Netty's native epoll transport the relay splices: bytes go socket → pipe → socket inside
 * the kernel and never reach the JVM (a user-space copy kept ~0.3× of direct throughput, splice is
 * what closes the gap). The PROXY header, when on, is written first and splicing starts after it.
 * Where epoll is missing (NIO), or when built with {@code splice = false}, bytes are copied
 * through pooled buffers with the same flow control. A connect failure tries the next task, up to
 * the rotation's size.
 *
 * <p>Socket buffers are left to the kernel's autotuning (a fixed SO_RCVBUF/SO_SNDBUF would switch
 * it off); TCP_NODELAY is on for both legs so request/response traffic is not delayed by Nagle.
 *
 * <p>Thread model: its own event loop group (threads as given); each backend connection runs on
 * its client's event loop (splice requires one loop). {@link #close} from any thread; the counters
 * from any thread. Error contract: {@link #start} throws on bind failure; a client connection
 * with no healthy (reachable) task is closed at once.
 */
public final class RoutingMesh implements AutoCloseable {
  private final InetSocketAddress listen;
  private final BackendPool pool;
  private final boolean proxyProtocol;
  private final int threads;
  private final Transport transport;
  private final LongAdder splicedConnections = new LongAdder();
  private final LongAdder copiedBytes = new LongAdder();
  private EventLoopGroup group;
  private Channel server;

  /** The mesh on the best transport: epoll with splice where available, else NIO copying. */
  public RoutingMesh(InetSocketAddress listen, BackendPool pool, boolean proxyProtocol, int threads) {
    this(listen, pool, proxyProtocol, threads, Transport.best());
  }

  /** As the 4-argument constructor; {@code splice = false} copies through user space even on epoll. */
  public RoutingMesh(InetSocketAddress listen, BackendPool pool, boolean proxyProtocol, int threads,
      boolean splice) {
    this(listen, pool, proxyProtocol, threads, splice ? Transport.best() : Transport.copying());
  }

  RoutingMesh(InetSocketAddress listen, BackendPool pool, boolean proxyProtocol, int threads, Transport transport) {
    this.listen = listen;
    this.pool = pool;
    this.proxyProtocol = proxyProtocol;
    this.threads = threads;
    this.transport = transport;
  }

  public synchronized RoutingMesh start() throws InterruptedException {
    group = new MultiThreadIoEventLoopGroup(threads, transport.ioHandler());
    try {
      server = new ServerBootstrap().group(group).channel(transport.server())
          .childOption(ChannelOption.AUTO_READ, false)
          .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
          .childOption(ChannelOption.TCP_NODELAY, true)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              Relay front = new Relay(copiedBytes);
              ch.pipeline().addLast(front);
              connect(ch, front, pool.rotation().size());
            }
          }).bind(listen).sync().channel();
    } catch (RuntimeException | InterruptedException e) {
      close();
      throw e;
    }
    return this;
  }

  public InetSocketAddress localAddress() {
    return (InetSocketAddress) server.localAddress();
  }

  /** Connections relayed by splice so far (the others were copied). */
  public long splicedConnections() {
    return splicedConnections.sum();
  }

  /** Bytes that passed through user space (copy path, and what a FIN left behind on the splice path). */
  public long copiedBytes() {
    return copiedBytes.sum();
  }

  @Override
  public synchronized void close() {
    if (server != null) {
      server.close().awaitUninterruptibly();
    }
    if (group != null) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
  }

  private void connect(Channel client, Relay front, int attemptsLeft) {
    Optional<Backend> b = pool.next();
    if (b.isEmpty() || attemptsLeft <= 0) {
      client.close();
      return;
    }
    Relay back = new Relay(copiedBytes);
    new Bootstrap().group(client.eventLoop()).channel(transport.client())
        .option(ChannelOption.AUTO_READ, false)
        .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 3000)
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            if (proxyProtocol) {
              ch.pipeline().addLast(HAProxyMessageEncoder.INSTANCE);
            }
            ch.pipeline().addLast(back);
          }
        })
        .connect(b.get().address()).addListener((ChannelFutureListener) f -> {
          if (!f.isSuccess()) {
            connect(client, front, attemptsLeft - 1);
          } else if (!client.isActive()) {
            f.channel().close();
          } else {
            relay(client, front, f.channel(), back);
          }
        });
  }

  /** Both legs are up (on one event loop): header first, then whatever the client sent early, then relay. */
  private void relay(Channel client, Relay front, Channel backend, Relay back) {
    if (proxyProtocol) {
      backend.write(proxyHeader(client));
      backend.pipeline().remove(HAProxyMessageEncoder.INSTANCE);
    }
    back.attach(backend, client);
    front.attach(client, backend);
    if (transport.splice()) {
      front.splice(client);
      back.splice(backend);
      splicedConnections.increment();
    }
    backend.flush();
    if (transport.splice()) {
      // Netty's splice does its own flow control by switching auto-read off and on
      client.config().setAutoRead(true);
      backend.config().setAutoRead(true);
    } else {
      client.read();
      backend.read();
    }
  }

  private static HAProxyMessage proxyHeader(Channel client) {
    InetSocketAddress src = (InetSocketAddress) client.remoteAddress();
    InetSocketAddress dst = (InetSocketAddress) client.localAddress();
    return new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY,
        src.getAddress() instanceof Inet6Address ? HAProxyProxiedProtocol.TCP6 : HAProxyProxiedProtocol.TCP4,
        src.getAddress().getHostAddress(), dst.getAddress().getHostAddress(), src.getPort(), dst.getPort());
  }
}
