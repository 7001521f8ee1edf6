package dev.berth.net.dns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The DNS server on loopback: containers are told apart by source address (127.0.0.2 is
 * on network "front", 127.0.0.3 on "back"), the upstream is a tiny server of our own.
 */
class DnsServerTest {
  static final InetAddress FRONT_CLIENT = addr("127.0.0.2");
  static final InetAddress BACK_CLIENT = addr("127.0.0.3");
  final RecordTable table = new RecordTable();
  DnsTestSupport.TinyUpstream upstream;
  DnsServer server;

  static InetAddress addr(String s) {
    try {
      return InetAddress.getByName(s);
    } catch (java.net.UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  @BeforeEach
  void start() throws Exception {
    upstream = new DnsTestSupport.TinyUpstream(new InetSocketAddress("127.0.0.1", 0));
    server = new DnsServer(table, new InetSocketAddress("127.0.0.1", 0), List.of(upstream.address())).start();
    table.putClient("127.0.0.2", Set.of("front"));
    table.putClient("127.0.0.3", Set.of("back"));
    table.put(new RecordTable.Endpoint("web.1", "front", "web", List.of(), "10.20.0.5/24", true));
    table.put(new RecordTable.Endpoint("web.2", "front", "web", List.of(), "10.20.0.6/24", false));
    table.put(new RecordTable.Endpoint("db.1", "back", "db", List.of("postgres"), "10.20.1.7/24", true));
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
    if (upstream != null) {
      upstream.close();
    }
  }

  DnsTestSupport.Reply ask(InetAddress from, String name) throws Exception {
    return DnsTestSupport.query(from, server.localAddress(), name);
  }

  @Test
  void serviceNameGivesHealthyTasksAndTasksNameGivesAll() throws Exception {
    assertThat(ask(FRONT_CLIENT, "web").addresses()).containsExactly("10.20.0.5");
    assertThat(ask(FRONT_CLIENT, "tasks.web.").addresses()).containsExactlyInAnyOrder("10.20.0.5", "10.20.0.6");
    assertThat(ask(BACK_CLIENT, "POSTGRES").addresses()).containsExactly("10.20.1.7");
  }

  @Test
  void containersSeeOnlyTheirOwnNetworks() throws Exception {
    // Not on "back": the name is not ours for this asker, the upstream says it doesn't exist.
    assertThat(ask(FRONT_CLIENT, "db")).isEqualTo(new DnsTestSupport.Reply("NXDOMAIN", List.of()));
    assertThat(ask(BACK_CLIENT, "web")).isEqualTo(new DnsTestSupport.Reply("NXDOMAIN", List.of()));
    assertThat(ask(BACK_CLIENT, "db").addresses()).containsExactly("10.20.1.7");
  }

  @Test
  void otherNamesAreForwardedUpstream() throws Exception {
    assertThat(ask(FRONT_CLIENT, "outside.example")).isEqualTo(
        new DnsTestSupport.Reply("NOERROR", List.of("198.51.100.7")));
    assertThat(ask(FRONT_CLIENT, "nowhere.example").rcode()).isEqualTo("NXDOMAIN");
  }

  @Test
  void answersFollowTheTableWithinASecond() throws Exception {
    table.put(new RecordTable.Endpoint("web.3", "front", "web", List.of(), "10.20.0.8", true));
    table.put(new RecordTable.Endpoint("web.2", "front", "web", List.of(), "10.20.0.6", true));
    // 1 s promised, 3 s allowed (slack for a loaded CI machine).
    await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(50)).untilAsserted(() ->
        assertThat(ask(FRONT_CLIENT, "web").addresses()).containsExactlyInAnyOrder("10.20.0.5", "10.20.0.6", "10.20.0.8"));
    table.removeTask("web.1");
    table.remove("web.3", "front");
    await().atMost(Duration.ofSeconds(3)).pollInterval(Duration.ofMillis(50)).untilAsserted(() ->
        assertThat(ask(FRONT_CLIENT, "tasks.web").addresses()).containsExactly("10.20.0.6"));
  }

  @Test
  void answersRotateAcrossTasks() throws Exception {
    table.put(new RecordTable.Endpoint("web.2", "front", "web", List.of(), "10.20.0.6", true));
    String first = ask(FRONT_CLIENT, "web").addresses().get(0);
    String second = ask(FRONT_CLIENT, "web").addresses().get(0);
    assertThat(Set.of(first, second)).containsExactlyInAnyOrder("10.20.0.5", "10.20.0.6");
  }
}
