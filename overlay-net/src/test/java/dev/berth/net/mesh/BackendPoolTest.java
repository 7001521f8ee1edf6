package dev.berth.net.mesh;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class BackendPoolTest {
  static Backend b(String task, String node, boolean healthy) {
    return new Backend(task, node, InetSocketAddress.createUnresolved(task, 80), healthy);
  }

  @Test
  void rotationInterleavesNodesAndSkipsUnhealthy() {
    BackendPool p = new BackendPool();
    p.put(b("a1", "A", true));
    p.put(b("a2", "A", true));
    p.put(b("a3", "A", true));
    p.put(b("b1", "B", true));
    p.put(b("c1", "C", false));
    assertThat(p.rotation()).extracting(Backend::taskId).containsExactly("a1", "b1", "a2", "a3");
    p.put(b("c1", "C", true));
    assertThat(p.rotation()).extracting(Backend::taskId).containsExactly("a1", "b1", "c1", "a2", "a3");
    assertThat(p.next().orElseThrow().taskId()).isEqualTo("a1");
    assertThat(p.next().orElseThrow().taskId()).isEqualTo("b1");
    p.remove("a1");
    p.remove("a2");
    p.remove("a3");
    p.remove("b1");
    p.put(b("c1", "C", false));
    assertThat(p.next()).isEmpty();
  }
}
