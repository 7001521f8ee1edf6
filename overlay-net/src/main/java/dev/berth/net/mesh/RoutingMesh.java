package dev.berth.net.mesh;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageEncoder;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One published port of the routing mesh on one node: accepts TCP and relays each
 * connection to a healthy task from its {@link BackendPool} (round-robin across tasks and
 * nodes) over the overlay. With PROXY protocol on, the task first receives a PROXY v2
 * header carrying the client's address (Netty's HAProxy encoder).
 *
 * <p>The relay copies through user space on Netty's native epoll transport (NIO where epoll
 * is missing); epoll splice would keep bytes in the kernel, left for later (the benchmark
 * measures the cost of the copy). A connect failure tries the next
 * task, up to the rotation's size.
 *
 * <p>Thread model: its own event loop group (threads as given); {@link #close} from any
 * thread. Error contract: {@link #start} throws on bind failure; a client connection with
 * no healthy task is closed at once.
 */
public final class RoutingMesh implements AutoCloseable {
  private final InetSocketAddress listen;
  private final BackendPool pool;
  private final boolean proxyProtocol;
  private final int threads;
  private final Transport transport = Transport.best();
  private EventLoopGroup group;
  private Channel server;

  public RoutingMesh(InetSocketAddress listen, BackendPool pool, boolean proxyProtocol, int threads) {
    this.listen = listen;
    this.pool = pool;
    this.proxyProtocol = proxyProtocol;
    this.threads = threads;
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
              ch.pipeline().addLast(new Frontend());
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

  @Override
  public synchronized void close() {
    if (server != null) {
      server.close().awaitUninterruptibly();
    }
    if (group != null) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }
  }

  private final class Frontend extends Pipe {
    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      connect(ctx.channel(), pool.rotation().size());
    }

    private void connect(Channel client, int attemptsLeft) {
      Optional<Backend> b = pool.next();
      if (b.isEmpty() || attemptsLeft <= 0) {
        client.close();
        return;
      }
      Pipe back = new Pipe();
      back.peer = client;
      Bootstrap bs = new Bootstrap().group(client.eventLoop()).channel(transport.client())
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
          });
      bs.connect(b.get().address()).addListener((ChannelFutureListener) f -> {
        if (!f.isSuccess()) {
          connect(client, attemptsLeft - 1);
          return;
        }
        peer = f.channel();
        if (proxyProtocol) {
          InetSocketAddress src = (InetSocketAddress) client.remoteAddress();
          InetSocketAddress dst = (InetSocketAddress) client.localAddress();
          peer.write(new HAProxyMessage(HAProxyProtocolVersion.V2, HAProxyCommand.PROXY,
              src.getAddress() instanceof java.net.Inet6Address ? HAProxyProxiedProtocol.TCP6
                  : HAProxyProxiedProtocol.TCP4,
              src.getAddress().getHostAddress(), dst.getAddress().getHostAddress(), src.getPort(), dst.getPort()));
          peer.pipeline().remove(HAProxyMessageEncoder.INSTANCE);
        }
        peer.flush();
        peer.read();
        client.read();
      });
    }
  }

  /**
   * Copies one direction: whatever its channel reads goes to the peer. Reads stop while
   * the peer's outbound buffer is over its high-water mark and resume when it drains, so
   * a slow side never makes the mesh buffer without bound.
   */
  private static class Pipe extends ChannelInboundHandlerAdapter {
    Channel peer;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      peer.write(msg, peer.voidPromise());
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      peer.flush();
      if (peer.isWritable()) {
        ctx.read();
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      if (ctx.channel().isWritable() && peer != null) {
        peer.read();
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof ChannelInputShutdownEvent) {
        halfClose(ctx.channel(), peer);
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      closeOnFlush(peer);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      closeOnFlush(ctx.channel());
    }
  }

  /**
   * One side finished sending: pass the FIN on once its data is flushed (request/response
   * protocols half-close), and close both once both directions are done.
   */
  static void halfClose(Channel from, Channel to) {
    if (to == null || !to.isActive()) {
      from.close();
      return;
    }
    to.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) f ->
        ((SocketChannel) to).shutdownOutput().addListener(x -> {
          if (((SocketChannel) from).isOutputShutdown()) {
            from.close();
            to.close();
          }
        }));
  }

  static void closeOnFlush(Channel ch) {
    if (ch != null && ch.isActive()) {
      ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
    }
  }
}
