package dev.berth.net.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The mesh on loopback: "tasks" are listeners on distinct 127.0.0.x addresses. */
class RoutingMeshTest {
  final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  /** A task that answers each connection with "NAME [source]\n" then echoes until EOF. */
  InetSocketAddress task(String ip, String name, boolean expectProxy) throws IOException {
    ServerSocket ss = new ServerSocket(0, 50, InetAddress.getByName(ip));
    closeables.add(ss);
    Thread t = new Thread(() -> {
      while (!ss.isClosed()) {
        try (Socket s = ss.accept()) {
          DataInputStream in = new DataInputStream(s.getInputStream());
          OutputStream out = s.getOutputStream();
          String source = "";
          if (expectProxy) {
            source = " " + RelayIntegrityTest.proxySource(in);
          }
          out.write((name + source + "\n").getBytes(StandardCharsets.UTF_8));
          out.flush();
          in.transferTo(out);
        } catch (IOException e) {
          // connection or listener closed
        }
      }
    }, "task-" + name);
    t.setDaemon(true);
    t.start();
    return (InetSocketAddress) ss.getLocalSocketAddress();
  }

  RoutingMesh mesh(BackendPool pool, boolean proxy) throws InterruptedException {
    RoutingMesh m = new RoutingMesh(new InetSocketAddress("127.0.0.1", 0), pool, proxy, 1).start();
    closeables.add(m);
    return m;
  }

  static String greeting(Socket s) throws IOException {
    InputStream in = s.getInputStream();
    StringBuilder sb = new StringBuilder();
    for (int c; (c = in.read()) != -1 && c != '\n'; ) {
      sb.append((char) c);
    }
    return sb.toString();
  }

  static String connectOnce(RoutingMesh m) throws IOException {
    try (Socket s = new Socket()) {
      s.setSoTimeout(5000);
      s.connect(m.localAddress());
      return greeting(s);
    }
  }

  @Test
  void connectionsAreSpreadAcrossTasksAndNodes() throws Exception {
    BackendPool pool = new BackendPool();
    pool.put(new Backend("t1", "nodeA", task("127.0.0.2", "t1", false), true));
    pool.put(new Backend("t2", "nodeA", task("127.0.0.4", "t2", false), true));
    pool.put(new Backend("t3", "nodeB", task("127.0.0.3", "t3", false), true));
    RoutingMesh m = mesh(pool, false);
    List<String> order = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      order.add(connectOnce(m));
    }
    assertThat(order).containsExactly("t1", "t3", "t2", "t1", "t3", "t2");
  }

  @Test
  void unhealthyTasksLeaveTheRotationAndDeadOnesAreSkipped() throws Exception {
    BackendPool pool = new BackendPool();
    InetSocketAddress t1 = task("127.0.0.2", "t1", false);
    pool.put(new Backend("t1", "nodeA", t1, true));
    pool.put(new Backend("t2", "nodeB", task("127.0.0.3", "t2", false), true));
    RoutingMesh m = mesh(pool, false);
    pool.put(new Backend("t1", "nodeA", t1, false));
    Map<String, Integer> hits = new HashMap<>();
    for (int i = 0; i < 4; i++) {
      hits.merge(connectOnce(m), 1, Integer::sum);
    }
    assertThat(hits).isEqualTo(Map.of("t2", 4));
    // a task whose port is closed: the next one is tried
    ServerSocket gone = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.5"));
    InetSocketAddress dead = (InetSocketAddress) gone.getLocalSocketAddress();
    gone.close();
    pool.put(new Backend("t0", "nodeC", dead, true));
    for (int i = 0; i < 4; i++) {
      assertThat(connectOnce(m)).isEqualTo("t2");
    }
    // nothing healthy: the client is closed at once
    pool.remove("t2");
    pool.remove("t0");
    assertThat(connectOnce(m)).isEmpty();
  }

  @Test
  void bytesAreRelayedIntactBothWays() throws Exception {
    BackendPool pool = new BackendPool();
    pool.put(new Backend("t1", "nodeA", task("127.0.0.2", "t1", false), true));
    RoutingMesh m = mesh(pool, false);
    byte[] data = new byte[3 << 20];
    new Random(7).nextBytes(data);
    try (Socket s = new Socket()) {
      s.setSoTimeout(10000);
      s.connect(m.localAddress());
      assertThat(greeting(s)).isEqualTo("t1");
      Thread writer = new Thread(() -> {
        try {
          s.getOutputStream().write(data);
          s.shutdownOutput();
        } catch (IOException e) {
          throw new RuntimeException(e);
        }
      });
      writer.start();
      byte[] back = s.getInputStream().readAllBytes();
      writer.join();
      assertThat(back.length).isEqualTo(data.length);
      assertThat(Arrays.equals(back, data)).as("relayed bytes equal the sent ones").isTrue();
    }
  }

  @Test
  void proxyProtocolGivesTheTaskTheClientsAddress() throws Exception {
    BackendPool pool = new BackendPool();
    pool.put(new Backend("t1", "nodeA", task("127.0.0.2", "t1", true), true));
    RoutingMesh m = mesh(pool, true);
    try (Socket s = new Socket()) {
      s.bind(new InetSocketAddress("127.0.0.9", 0));
      s.setSoTimeout(5000);
      s.connect(m.localAddress());
      assertThat(greeting(s)).isEqualTo("t1 127.0.0.9:" + s.getLocalPort());
      s.getOutputStream().write("ping".getBytes(StandardCharsets.UTF_8));
      byte[] echo = s.getInputStream().readNBytes(4);
      assertThat(new String(echo, StandardCharsets.UTF_8)).isEqualTo("ping");
    }
  }

  /**
   * The client sends its whole request and half-closes while the backend's connect is still
   * pending (its accept queue is full, so the mesh's SYN is dropped and retried a second later):
   * Netty reads such a socket to its end even with auto-read off, and the mesh must keep those
   * bytes and the FIN for the backend.
   */
  @Test
  void requestAndFinSentBeforeTheBackendAcceptsAreDelivered() throws Exception {
    ServerSocketChannel task = ServerSocketChannel.open();
    closeables.add(task);
    task.bind(new InetSocketAddress("127.0.0.2", 0), 1);
    // backlog 1: two connections nobody accepts fill the queue
    List<Integer> fillerPorts = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      Socket f = new Socket();
      closeables.add(f);
      f.connect(task.getLocalAddress(), 5000);
      fillerPorts.add(f.getLocalPort());
    }
    BackendPool pool = new BackendPool();
    pool.put(new Backend("t1", "nodeA", (InetSocketAddress) task.getLocalAddress(), true));
    RoutingMesh m = mesh(pool, false);
    try (Socket s = new Socket()) {
      s.setSoTimeout(15000);
      s.connect(m.localAddress());
      s.getOutputStream().write("early request".getBytes(StandardCharsets.UTF_8));
      s.shutdownOutput();
      Thread.sleep(300);
      // free the queue; the mesh's retried SYN comes in after the fillers
      Socket backend = null;
      for (int i = 0; i < 3 && backend == null; i++) {
        Socket a = task.accept().socket();
        closeables.add(a);
        if (!fillerPorts.contains(a.getPort())) {
          backend = a;
        }
      }
      assertThat(backend).as("the mesh's connection reached the task").isNotNull();
      backend.setSoTimeout(15000);
      byte[] got = backend.getInputStream().readAllBytes();
      assertThat(new String(got, StandardCharsets.UTF_8)).isEqualTo("early request");
      backend.getOutputStream().write("answer".getBytes(StandardCharsets.UTF_8));
      backend.close();
      assertThat(new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("answer");
    }
  }
}
