package dev.berth.net.mesh;

import java.net.InetSocketAddress;

/**
 * Runs a node's routing mesh inside a test host's namespace (started with `ip netns exec
 * HOST java ...`, as a JVM cannot bind in another namespace). Args: PORT then backends
 * "TASK,NODE,IP:PORT"...; prints "ready", runs until stdin closes. {@code -Dberth.mesh.splice=false}
 * makes it copy through user space (benchmark comparison).
 */
public final class MeshHarness {
  private MeshHarness() {}

  public static void main(String[] args) throws Exception {
    BackendPool pool = new BackendPool();
    for (int i = 1; i < args.length; i++) {
      String[] t = args[i].split(",");
      String[] hp = t[2].split(":");
      pool.put(new Backend(t[0], t[1], new InetSocketAddress(hp[0], Integer.parseInt(hp[1])), true));
    }
    try (RoutingMesh m = new RoutingMesh(new InetSocketAddress("0.0.0.0", Integer.parseInt(args[0])), pool, false, 1,
        !"false".equals(System.getProperty("berth.mesh.splice")))
        .start()) {
      System.out.println("ready");
      System.out.flush();
      while (System.in.read() != -1) {
        // run until the test closes our stdin
      }
    }
    System.exit(0);
  }
}
