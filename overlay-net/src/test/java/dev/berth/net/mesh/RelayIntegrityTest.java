package dev.berth.net.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Bulk transfers through the mesh on every relay path: epoll splice, epoll copying and NIO
 * copying. The "task" reads the client's stream to its end (so it answers only after the
 * client's half-close has come through), answers with the byte count and CRC-32 it saw, then
 * streams a seeded payload back and closes. The task starts reading late, so the mesh's buffers
 * are full when the client's FIN arrives (the case where Netty's splice stops reading early).
 */
class RelayIntegrityTest {
  static final int UP = 48 << 20;
  static final int DOWN = 24 << 20;
  final List<AutoCloseable> closeables = new ArrayList<>();
  final ExecutorService pool = Executors.newCachedThreadPool();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
    pool.shutdownNow();
    assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  static Transport transport(String mode) {
    if (mode.equals("nio")) {
      return Transport.nio();
    }
    assumeTrue(Epoll.isAvailable(), "native epoll transport not available: " + Epoll.unavailabilityCause());
    return Transport.epoll(mode.equals("splice"));
  }

  static long crc(byte[] b) {
    CRC32 c = new CRC32();
    c.update(b);
    return c.getValue();
  }

  static byte[] payload(long seed, int n) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** The sink task described above; with proxy on it first decodes a PROXY v2 header. */
  InetSocketAddress sinkTask(boolean expectProxy) throws IOException {
    ServerSocket ss = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.2"));
    closeables.add(ss);
    pool.submit(() -> {
      while (!ss.isClosed()) {
        try (Socket s = ss.accept()) {
          Thread.sleep(300);
          InputStream in = new BufferedInputStream(s.getInputStream(), 1 << 16);
          String source = expectProxy ? proxySource(new DataInputStream(in)) : "-";
          CRC32 c = new CRC32();
          long n = 0;
          byte[] buf = new byte[1 << 16];
          for (int r; (r = in.read(buf)) != -1; n += r) {
            c.update(buf, 0, r);
          }
          OutputStream out = s.getOutputStream();
          out.write((n + " " + c.getValue() + " " + source + "\n").getBytes(StandardCharsets.UTF_8));
          out.write(payload(n, DOWN));
          out.flush();
        } catch (IOException e) {
          // listener closed
        }
      }
      return null;
    });
    return (InetSocketAddress) ss.getLocalSocketAddress();
  }

  /** Reads a PROXY v2 header (Netty's decoder) and returns the client address it carries. */
  static String proxySource(DataInputStream in) throws IOException {
    byte[] head = new byte[16];
    in.readFully(head);
    byte[] rest = new byte[((head[14] & 0xff) << 8) | (head[15] & 0xff)];
    in.readFully(rest);
    EmbeddedChannel dec = new EmbeddedChannel(new HAProxyMessageDecoder());
    dec.writeInbound(Unpooled.wrappedBuffer(head, rest));
    HAProxyMessage m = dec.readInbound();
    String source = m.sourceAddress() + ":" + m.sourcePort();
    m.release();
    dec.finishAndReleaseAll();
    return source;
  }

  RoutingMesh mesh(String mode, boolean proxy) throws Exception {
    BackendPool backends = new BackendPool();
    backends.put(new Backend("sink", "nodeA", sinkTask(proxy), true));
    RoutingMesh m = new RoutingMesh(new InetSocketAddress("127.0.0.1", 0), backends, proxy, 1, transport(mode))
        .start();
    closeables.add(m);
    return m;
  }

  /** Sends UP seeded bytes, half-closes, returns the task's answer line and checks the stream back. */
  String exchange(RoutingMesh m, Socket s, long seed) throws Exception {
    s.setSoTimeout(30_000);
    s.connect(m.localAddress());
    byte[] up = payload(seed, UP);
    Future<?> writer = pool.submit(() -> {
      OutputStream out = s.getOutputStream();
      for (int off = 0; off < up.length; off += 1 << 20) {
        out.write(up, off, Math.min(1 << 20, up.length - off));
      }
      s.shutdownOutput();
      return null;
    });
    DataInputStream in = new DataInputStream(new BufferedInputStream(s.getInputStream()));
    StringBuilder line = new StringBuilder();
    for (int c; (c = in.read()) != '\n'; ) {
      assertThat(c).as("answer line ended early: " + line).isNotEqualTo(-1);
      line.append((char) c);
    }
    writer.get(30, TimeUnit.SECONDS);
    byte[] down = in.readAllBytes();
    assertThat(down.length).as("bytes from the task").isEqualTo(DOWN);
    assertThat(crc(down)).as("CRC-32 of the bytes from the task").isEqualTo(crc(payload(UP, DOWN)));
    String[] f = line.toString().split(" ");
    assertThat(Long.parseLong(f[0])).as("bytes the task received").isEqualTo(UP);
    assertThat(Long.parseLong(f[1])).as("CRC-32 the task computed").isEqualTo(crc(up));
    return f[2];
  }

  @ParameterizedTest
  @ValueSource(strings = {"splice", "epoll-copy", "nio"})
  void bulkBothWaysWithHalfCloseKeepsEveryByte(String mode) throws Exception {
    RoutingMesh m = mesh(mode, false);
    for (long seed = 1; seed <= 2; seed++) {
      try (Socket s = new Socket()) {
        assertThat(exchange(m, s, seed)).isEqualTo("-");
      }
    }
    if (mode.equals("splice")) {
      assertThat(m.splicedConnections()).isEqualTo(2);
      // only what a FIN leaves in the receive queue may pass through user space
      assertThat(m.copiedBytes()).isLessThan(UP / 2);
    } else {
      assertThat(m.splicedConnections()).isZero();
      // both streams plus the two answer lines
      assertThat(m.copiedBytes()).isBetween(2L * (UP + DOWN), 2L * (UP + DOWN) + 200);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"splice", "nio"})
  void proxyHeaderIsWrittenBeforeTheSplicedStream(String mode) throws Exception {
    RoutingMesh m = mesh(mode, true);
    try (Socket s = new Socket()) {
      s.bind(new InetSocketAddress("127.0.0.9", 0));
      assertThat(exchange(m, s, 3)).isEqualTo("127.0.0.9:" + s.getLocalPort());
    }
    assertThat(m.splicedConnections()).isEqualTo(mode.equals("splice") ? 1 : 0);
  }
}
