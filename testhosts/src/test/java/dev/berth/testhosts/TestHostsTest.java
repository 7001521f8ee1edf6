package dev.berth.testhosts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TestHostsTest {
  @BeforeAll
  static void supported() {
    String reason = TestHosts.unsupportedReason();
    assumeTrue(reason == null, reason);
  }

  @Test
  void linkedHostsReachEachOtherAndTheTestUntilPartitionedAndCloseRemovesEverything() throws Exception {
    String a;
    String hostLinks;
    try (TestHosts hosts = TestHosts.linkedToHost()) {
      a = hosts.addHost("a", 1);
      String b = hosts.addHost("b", 2);
      assertThat(TestHosts.ping(a, hosts.ip(2))).isTrue();
      assertThat(TestHosts.ping(b, hosts.hostIp())).as("the test's own namespace is on the underlay").isTrue();
      TestHosts.partition(a, hosts.hostIp());
      assertThat(TestHosts.ping(b, hosts.ip(1))).isFalse();
      assertThat(TestHosts.ping(a, hosts.hostIp())).as("the kept address still gets through").isTrue();
      TestHosts.heal(a);
      assertThat(TestHosts.ping(b, hosts.ip(1))).isTrue();
      TestHosts.link(b, false);
      assertThat(TestHosts.ping(a, hosts.ip(2))).isFalse();
      TestHosts.link(b, true);
      assertThat(TestHosts.ping(a, hosts.ip(2))).isTrue();
      // inHost enters only the network namespace: /sys/fs/cgroup stays visible
      TestHosts.Result addr = TestHosts.check(TestHosts.run(
          TestHosts.inHost(a, java.util.List.of("ip", "-o", "addr", "show", "u0")).toArray(String[]::new)));
      assertThat(addr.out()).contains(hosts.ip(1) + "/24");
      TestHosts.Result cgroups = TestHosts.check(TestHosts.run(
          TestHosts.inHost(a, java.util.List.of("ls", "/sys/fs/cgroup")).toArray(String[]::new)));
      assertThat(cgroups.out().lines().toList())
          .containsExactlyInAnyOrderElementsOf(TestHosts.run("ls", "/sys/fs/cgroup").out().lines().toList())
          .isNotEmpty();
      hostLinks = TestHosts.run("ip", "-o", "addr").out();
      assertThat(hostLinks).contains(hosts.hostIp() + "/24");
    }
    assertThat(TestHosts.run("ip", "netns", "list").out()).doesNotContain(a);
    assertThat(TestHosts.run("ip", "-o", "link").out()).doesNotContain(a.substring(0, a.indexOf('-')) + "h");
  }
}
