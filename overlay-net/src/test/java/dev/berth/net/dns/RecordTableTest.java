package dev.berth.net.dns;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RecordTableTest {
  final RecordTable t = new RecordTable();

  @Test
  void unknownAskersAndUnknownNamesAreNotOurs() {
    t.put(new RecordTable.Endpoint("a", "n1", "web", List.of(), "10.0.0.2", true));
    assertThat(t.lookup("172.18.0.9", "web").ours()).isFalse();
    t.putClient("172.18.0.2", Set.of("n1"));
    assertThat(t.lookup("172.18.0.2", "api").ours()).isFalse();
    assertThat(t.lookup("172.18.0.2", "web.").addresses()).containsExactly("10.0.0.2");
  }

  @Test
  void serviceWithOnlyUnhealthyTasksIsOursButEmpty() {
    t.putClient("172.18.0.2", Set.of("n1"));
    t.put(new RecordTable.Endpoint("a", "n1", "web", List.of(), "10.0.0.2", false));
    assertThat(t.lookup("172.18.0.2", "web")).isEqualTo(new RecordTable.Answer(true, List.of()));
    assertThat(t.lookup("172.18.0.2", "tasks.web").addresses()).containsExactly("10.0.0.2");
  }

  @Test
  void addressesAreOrderedNumericallyAndOnlyFromSharedNetworks() {
    t.putClient("172.18.0.2", Set.of("n1", "n2"));
    t.put(new RecordTable.Endpoint("a", "n1", "web", List.of(), "10.0.0.10", true));
    t.put(new RecordTable.Endpoint("b", "n2", "web", List.of(), "10.0.1.9", true));
    t.put(new RecordTable.Endpoint("c", "n1", "web", List.of(), "10.0.0.9", true));
    t.put(new RecordTable.Endpoint("d", "n3", "web", List.of(), "10.0.3.9", true));
    assertThat(t.lookup("172.18.0.2", "tasks.web").addresses()).containsExactly("10.0.0.9", "10.0.0.10", "10.0.1.9");
    t.removeClient("172.18.0.2");
    assertThat(t.lookup("172.18.0.2", "web").ours()).isFalse();
  }
}
