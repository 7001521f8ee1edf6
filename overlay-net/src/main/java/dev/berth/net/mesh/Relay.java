package dev.berth.net.mesh;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.epoll.AbstractEpollStreamChannel;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.atomic.LongAdder;

/**
 * One direction of a relayed connection: what its channel receives goes to the peer channel,
 * either spliced in the kernel ({@link #splice}) or copied through user space.
 *
 * <p>Copy path: auto-read stays off and each read() fetches one buffer (Netty reads a single
 * buffer per read() without auto-read), written and flushed at once, and the next read() is issued
 * only while the peer's outbound buffer is under its high-water mark (else when it drains), so a
 * slow side never makes the mesh buffer without bound. This measured several times faster than
 * auto-read, which reads up to 16 buffers before one flush and overshoots the water mark. Splice
 * path: Netty's epoll splice moves bytes socket → pipe → socket and does the same flow control
 * itself (auto-read off while a splice-out is pending).
 *
 * <p>Before the peer is attached (the backend is still connecting) anything read is queued:
 * Netty reads a half-closed socket to its end even with auto-read off. A half-close (FIN) is passed
 * on once everything read before it has been written; the connection closes once both directions
 * are done.
 *
 * <p>Thread model: a handler instance belongs to one channel and runs on its event loop, which is
 * also the peer's. Error contract: an I/O error closes both channels (after flushing what is queued).
 */
final class Relay extends ChannelInboundHandlerAdapter {
  private final LongAdder copiedBytes;
  private Channel peer;
  private Queue<Object> early = new ArrayDeque<>();
  private boolean inputShutBeforeAttach;
  private boolean wrote;
  private boolean splicing;

  Relay(LongAdder copiedBytes) {
    this.copiedBytes = copiedBytes;
  }

  /** Connects this direction to its peer and hands over what was read before; event loop only. */
  void attach(Channel self, Channel peer) {
    this.peer = peer;
    for (Object msg; (msg = early.poll()) != null; ) {
      write(msg);
    }
    early = null;
    if (inputShutBeforeAttach) {
      halfClose(self, peer);
    }
  }

  /**
   * Moves this direction's bytes by splice from now on. Netty's splice needs both channels on one
   * event loop (the mesh connects each backend on its client's loop) and level-triggered epoll
   * (the only mode in Netty 4.2). A failed splice can have left bytes in the pipe, so it closes
   * the connection rather than falling back mid-stream.
   */
  void splice(Channel self) {
    splicing = true;
    ((AbstractEpollStreamChannel) self).spliceTo((AbstractEpollStreamChannel) peer, Integer.MAX_VALUE)
        .addListener((ChannelFutureListener) f -> {
          if (!f.isSuccess()) {
            closeOnFlush(peer);
            closeOnFlush(self);
          }
        });
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (peer == null) {
      early.add(msg);
      return;
    }
    write(msg);
  }

  private void write(Object msg) {
    if (msg instanceof ByteBuf b) {
      copiedBytes.add(b.readableBytes());
    }
    peer.write(msg, peer.voidPromise());
    wrote = true;
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    if (peer == null || splicing) {
      return;
    }
    if (wrote) {
      wrote = false;
      peer.flush();
    }
    if (peer.isWritable()) {
      ctx.read();
    }
  }

  /** The channel this handler reads into drained: its peer (the reading side) may read again. */
  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    if (ctx.channel().isWritable() && peer != null && !splicing) {
      peer.read();
    }
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (!(evt instanceof ChannelInputShutdownEvent)) {
      ctx.fireUserEventTriggered(evt);
      return;
    }
    EpollQuirks.keepRegisteredAfterInputShutdown(ctx.channel());
    if (peer == null) {
      inputShutBeforeAttach = true;
      return;
    }
    if (splicing) {
      drainAfterFin(ctx.channel());
    }
    halfClose(ctx.channel(), peer);
  }

  /**
   * Netty's splice path shuts the input down on EPOLLRDHUP after a single splice round (at most
   * one pipe, 64 KiB) and never reads that socket again, so bytes that arrived before the FIN can
   * still sit in the receive queue (a slow backend makes this likely). Linux keeps queued bytes
   * readable after shutdown(SHUT_RD) and the FIN guarantees all of them are there, so they are read
   * here, to the end, and queued behind the spliced bytes (the peer's outbound buffer keeps order).
   */
  private void drainAfterFin(Channel self) {
    var fd = ((AbstractEpollStreamChannel) self).fd();
    for (;;) {
      ByteBuf buf = self.alloc().directBuffer(1 << 16);
      int n;
      try {
        ByteBuffer nio = buf.internalNioBuffer(0, buf.capacity());
        n = fd.read(nio, nio.position(), nio.limit());
      } catch (IOException e) {
        buf.release();
        closeOnFlush(peer);
        self.close();
        return;
      }
      if (n <= 0) {
        buf.release();
        return;
      }
      buf.writerIndex(n);
      write(buf);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (early != null) {
      early.forEach(ReferenceCountUtil::release);
      early.clear();
    }
    closeOnFlush(peer);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    closeOnFlush(ctx.channel());
  }

  /**
   * One side finished sending: pass the FIN on once its data is flushed (request/response
   * protocols half-close), and close both once both directions are done.
   */
  static void halfClose(Channel from, Channel to) {
    if (!to.isActive()) {
      from.close();
      return;
    }
    to.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener((ChannelFutureListener) f ->
        ((DuplexChannel) to).shutdownOutput().addListener(x -> {
          if (((DuplexChannel) from).isOutputShutdown()) {
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
