package dev.berth.net.mesh;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;

/**
 * The channel types the mesh runs on and whether it may splice: Netty's native epoll transport
 * where the native library loads (Linux; splice possible), NIO otherwise (bytes are copied).
 */
record Transport(IoHandlerFactory ioHandler, Class<? extends ServerChannel> server,
    Class<? extends SocketChannel> client, boolean splice) {

  /** Epoll with splice where available, else NIO. */
  static Transport best() {
    return Epoll.isAvailable() ? epoll(true) : nio();
  }

  /** Epoll where available (else NIO), copying through user space; for comparison and tests. */
  static Transport copying() {
    return Epoll.isAvailable() ? epoll(false) : nio();
  }

  static Transport epoll(boolean splice) {
    return new Transport(EpollIoHandler.newFactory(), EpollServerSocketChannel.class, EpollSocketChannel.class,
        splice);
  }

  static Transport nio() {
    return new Transport(NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class, false);
  }
}
