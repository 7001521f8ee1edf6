package dev.berth.net.mesh;

import io.netty.channel.Channel;
import io.netty.channel.epoll.AbstractEpollStreamChannel;
import io.netty.channel.epoll.EpollIoOps;
import java.lang.reflect.Method;

/**
 * Works around a Netty 4.2.18 epoll defect that loses data on half-closed connections. Once a
 * channel's input is finished Netty drops its last interest flags; with an empty set its epoll
 * registration deletes the fd from the epoll set but keeps believing it is added, so the next
 * EPOLLOUT (needed as soon as a large answer fills the socket buffer) fails with ENOENT and Netty
 * fails every pending write. Half-closing clients that read a large answer are exactly the mesh's
 * case (RelayIntegrityTest reproduces it on both the splice and the copy path).
 *
 * <p>The fix keeps the interest set non-empty after input shutdown by adding EPOLLET (edge-triggered
 * has no effect on a finished input; writes work the same): Netty then modifies instead of deleting.
 * EPOLLET can only be set through Netty's protected AbstractEpollChannel.setFlag, reached by reflection
 * (Netty is on the class path, so it is accessible); if that ever fails the mesh still runs, with
 * Netty's defect.
 */
final class EpollQuirks {
  private static final Method SET_FLAG = setFlag();

  private EpollQuirks() {}

  private static Method setFlag() {
    try {
      // declared on the package-private AbstractEpollChannel
      Method m = AbstractEpollStreamChannel.class.getSuperclass().getDeclaredMethod("setFlag", int.class);
      m.setAccessible(true);
      return m;
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      return null;
    }
  }

  /** Call on the channel's event loop once its input has shut down. */
  static void keepRegisteredAfterInputShutdown(Channel ch) {
    if (SET_FLAG != null && ch instanceof AbstractEpollStreamChannel && ch.isOpen()) {
      try {
        SET_FLAG.invoke(ch, EpollIoOps.EPOLLET.value());
      } catch (ReflectiveOperationException e) {
        // keep Netty's behaviour; see the class comment
      }
    }
  }
}
