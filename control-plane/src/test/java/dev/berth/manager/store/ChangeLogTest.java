package dev.berth.manager.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.v1.Meta;
import dev.berth.api.v1.ObjectKind;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.WatchEvent;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The Watch history's two bounds (events and serialized bytes) and what trimming keeps. */
class ChangeLogTest {
  /** An event at {@code index} carrying a service whose spec has {@code labelBytes} of label. */
  private static WatchEvent event(long index, int labelBytes) {
    return WatchEvent.newBuilder().setIndex(index).setAction(WatchEvent.Action.UPDATE)
        .setKind(ObjectKind.KIND_SERVICE).setService(Service.newBuilder()
            .setMeta(Meta.newBuilder().setId("s" + index))
            .setSpec(ServiceSpec.newBuilder().setName("s" + index).putLabels("l", "x".repeat(labelBytes))))
        .build();
  }

  private static List<Long> indexes(List<WatchEvent> events) {
    return events.stream().map(WatchEvent::getIndex).toList();
  }

  @Test
  void eventBoundTrimsWholeEntriesAndRaisesTheFloor() throws Exception {
    ChangeLog log = new ChangeLog(8, 1L << 30);
    for (long i = 1; i <= 10; i++) {
      log.append(i, List.of(event(i, 1), event(i, 1))); // two events per entry
    }
    // 20 events > 8 + 8/4: trimmed to at most 8, entry by entry (both events of an index go together)
    ChangeLog.Batch all = log.read(log.floor(), 1000, 0);
    assertThat(all.events().size()).isBetween(8, 10).isEven();
    long floor = log.floor();
    assertThat(indexes(all.events()).get(0)).isEqualTo(floor + 1);
    assertThat(indexes(all.events())).endsWith(10L, 10L);
    assertThatThrownBy(() -> log.read(floor - 1, 1000, 0)).isInstanceOf(ChangeLog.CompactedException.class);
  }

  @Test
  void byteBoundTrimsLargeObjectsLongBeforeTheEventBound() throws Exception {
    long perEvent = event(1, 10_000).getSerializedSize();
    ChangeLog log = new ChangeLog(20_000, 10 * perEvent);
    List<Long> appended = new ArrayList<>();
    for (long i = 1; i <= 100; i++) {
      log.append(i, List.of(event(i, 10_000)));
      appended.add(i);
      assertThat(log.retainedBytes()).isLessThanOrEqualTo(10 * perEvent + 10 * perEvent / 4 + perEvent);
    }
    ChangeLog.Batch kept = log.read(log.floor(), 1000, 0);
    assertThat(kept.events().size()).isBetween(10, 13);
    assertThat(log.retainedBytes()).isEqualTo(kept.events().stream().mapToLong(WatchEvent::getSerializedSize).sum());
    // nothing after the floor is missing: the retained tail is exactly the newest entries
    assertThat(indexes(kept.events())).isEqualTo(appended.subList(100 - kept.events().size(), 100));
    assertThat(kept.appliedIndex()).isEqualTo(100);
  }

  @Test
  void resetForgetsEventsAndBytes() throws Exception {
    ChangeLog log = new ChangeLog(100, 1L << 20);
    log.append(1, List.of(event(1, 100)));
    log.reset(50);
    assertThat(log.retainedBytes()).isZero();
    assertThat(log.floor()).isEqualTo(50);
    assertThat(log.read(50, 10, 0).events()).isEmpty();
  }

  @Test
  void rejectsNonPositiveBounds() {
    assertThatThrownBy(() -> new ChangeLog(0, 1)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new ChangeLog(1, 0)).isInstanceOf(IllegalArgumentException.class);
  }
}
