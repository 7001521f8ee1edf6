package dev.berth.net.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.net.vxlan.Names;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class NatPlannerTest {
  static final String T = Names.meshTable("n1");

  static Backend b(String task, String node, String ip, int port, boolean healthy) {
    return new Backend(task, node, new InetSocketAddress(ip, port), healthy);
  }

  static TreeMap<Integer, List<Backend>> ports(Object... portThenBackends) {
    TreeMap<Integer, List<Backend>> m = new TreeMap<>();
    for (int i = 0; i < portThenBackends.length; i += 2) {
      @SuppressWarnings("unchecked")
      List<Backend> l = (List<Backend>) portThenBackends[i + 1];
      m.put((Integer) portThenBackends[i], l);
    }
    return m;
  }

  @Test
  void publishedPortsBecomeOneTableWithRoundRobinDnatAndMasquerade() {
    NatPlanner.Plan p = NatPlanner.plan("n1", ports(
        8080, List.of(b("a1", "A", "10.255.0.2", 80, true), b("a2", "A", "10.255.0.4", 80, true),
            b("b1", "B", "10.255.0.3", 80, true), b("c1", "C", "10.255.0.5", 80, false)),
        9000, List.of(b("h1", "n1", "172.18.0.2", 9, true))));
    assertThat(p.table()).isEqualTo(T).startsWith("berth-mesh-");
    assertThat(p.hash()).hasSize(16);
    assertThat(p.rules()).isEqualTo("table ip " + T + " {\n"
        + "  comment \"berth routing mesh sha256:" + p.hash() + "\"\n"
        + "  chain prerouting {\n"
        + "    type nat hook prerouting priority dstnat; policy accept;\n"
        + "    fib daddr type local jump ports\n"
        + "  }\n"
        + "  chain output {\n"
        + "    type nat hook output priority -100; policy accept;\n"
        + "    fib daddr type local jump ports\n"
        + "  }\n"
        + "  chain ports {\n"
        + "    tcp dport vmap { 8080 : goto port_8080, 9000 : goto port_9000 }\n"
        + "  }\n"
        // interleaved across nodes (a1, b1, a2), the unhealthy c1 left out
        + "  chain port_8080_0 {\n    meta l4proto tcp dnat to 10.255.0.2:80\n  }\n"
        + "  chain port_8080_1 {\n    meta l4proto tcp dnat to 10.255.0.3:80\n  }\n"
        + "  chain port_8080_2 {\n    meta l4proto tcp dnat to 10.255.0.4:80\n  }\n"
        + "  chain port_8080 {\n"
        + "    numgen inc mod 3 vmap { 0 : goto port_8080_0, 1 : goto port_8080_1, 2 : goto port_8080_2 }\n"
        + "  }\n"
        + "  chain port_9000_0 {\n    meta l4proto tcp dnat to 172.18.0.2:9\n  }\n"
        + "  chain port_9000 {\n    numgen inc mod 1 vmap { 0 : goto port_9000_0 }\n  }\n"
        + "  chain postrouting {\n"
        + "    type nat hook postrouting priority srcnat; policy accept;\n"
        + "    ct status dnat ip daddr . tcp dport { 10.255.0.2 . 80, 10.255.0.3 . 80, 10.255.0.4 . 80, 172.18.0.2 . 9 }"
        + " masquerade\n"
        + "  }\n"
        + "}\n");
    assertThat(p.script()).isEqualTo("table ip " + T + "\ndelete table ip " + T + "\n" + p.rules());
    assertThat(NatPlanner.hashIn(p.rules())).contains(p.hash());
  }

  @Test
  void aPortWithoutHealthyTasksIsRefusedWithAReset() {
    NatPlanner.Plan p = NatPlanner.plan("n1", ports(8080, List.of(b("a1", "A", "10.255.0.2", 80, false)),
        8081, List.of()));
    assertThat(p.rules()).contains("  chain ports {\n  }\n")
        .contains("  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n  }\n")
        .contains("  chain refuse {\n    type filter hook input priority filter; policy accept;\n"
            + "    tcp dport { 8080, 8081 } reject with tcp reset\n  }\n")
        .doesNotContain("dnat to");
  }

  @Test
  void noPortsMeansNoTableAndTheScriptDeletesIt() {
    NatPlanner.Plan p = NatPlanner.plan("n1", new TreeMap<>());
    assertThat(p.rules()).isEmpty();
    assertThat(p.hash()).isEmpty();
    assertThat(p.script()).isEqualTo("table ip " + T + "\ndelete table ip " + T + "\n");
  }

  @Test
  void hashFollowsTheRulesAndTableNameTheNode() {
    var one = ports(8080, List.of(b("a1", "A", "10.255.0.2", 80, true)));
    var two = ports(8080, List.of(b("a1", "A", "10.255.0.2", 80, true), b("b1", "B", "10.255.0.3", 80, true)));
    assertThat(NatPlanner.plan("n1", one)).isEqualTo(NatPlanner.plan("n1", one));
    assertThat(NatPlanner.plan("n1", one).hash()).isNotEqualTo(NatPlanner.plan("n1", two).hash());
    assertThat(NatPlanner.plan("n2", one).table()).isNotEqualTo(T);
    // health flips change the rules too
    var unhealthy = ports(8080, List.of(b("a1", "A", "10.255.0.2", 80, true), b("b1", "B", "10.255.0.3", 80, false)));
    assertThat(NatPlanner.plan("n1", unhealthy).hash()).isEqualTo(NatPlanner.plan("n1", one).hash());
    assertThat(NatPlanner.hashIn("table ip filter {\n}\n")).isEmpty();
  }

  @Test
  void badInputIsRefusedNamingIt() {
    assertThatThrownBy(() -> NatPlanner.plan("n1", ports(0, List.of())))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("port 0");
    assertThatThrownBy(() -> NatPlanner.plan("n1", ports(8080,
        List.of(new Backend("t9", "A", InetSocketAddress.createUnresolved("web", 80), true)))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("task t9");
    assertThatThrownBy(() -> NatPlanner.plan("n1", ports(8080, List.of(b("t6", "A", "fd00::2", 80, true)))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("task t6");
  }
}
