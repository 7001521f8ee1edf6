package dev.berth.manager.raft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SnapshotWriterTest {
  /** A state machine stand-in: applied index moves by hand; writes can be held back. */
  static final class Fake implements SnapshotWriter.Target<Long> {
    volatile long applied;
    volatile long durable = -1;
    final List<String> writes = new ArrayList<>();
    volatile CountDownLatch hold = new CountDownLatch(0);
    final CountDownLatch written = new CountDownLatch(1);
    volatile boolean fail;

    @Override
    public long durableIndex() {
      return durable;
    }

    @Override
    public Long capture() {
      return applied;
    }

    @Override
    public long index(Long c) {
      return c;
    }

    @Override
    public void write(Long c) throws IOException {
      try {
        hold.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        throw new IOException(e);
      }
      synchronized (writes) {
        writes.add(Thread.currentThread().getName() + "@" + c);
      }
      if (fail) {
        throw new IOException("disk full");
      }
      durable = c;
      written.countDown();
    }
  }

  @Test
  void automaticSnapshotIsWrittenInTheBackgroundAndReportedOnceDone() throws Exception {
    Fake sm = new Fake();
    try (SnapshotWriter w = new SnapshotWriter(100)) {
      sm.hold = new CountDownLatch(1);
      sm.applied = 150;
      // the apply thread gets the previous durable index at once, not after the write
      assertThat(w.take(sm, 150)).isEqualTo(-1);
      sm.applied = 151;
      assertThat(w.take(sm, 151)).as("still writing: no second capture").isEqualTo(-1);
      sm.hold.countDown();
      assertThat(sm.written.await(10, TimeUnit.SECONDS)).isTrue();
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
          .until(() -> w.take(sm, 152) == 150);
      assertThat(sm.writes).containsExactly("berth-snapshot-writer@150");
      // reported once: the next trigger far enough on takes a new one
      sm.applied = 260;
      assertThat(w.take(sm, 260)).isEqualTo(150);
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> sm.durable == 260);
    }
  }

  @Test
  void explicitRequestBelowTheThresholdIsWrittenBeforeReturning() throws Exception {
    Fake sm = new Fake();
    try (SnapshotWriter w = new SnapshotWriter(100)) {
      sm.applied = 20;
      assertThat(w.take(sm, 20)).isEqualTo(20);
      assertThat(sm.durable).isEqualTo(20);
      assertThat(sm.writes).singleElement().asString().doesNotContain("berth-snapshot-writer");
    }
  }

  @Test
  void failedWritesKeepThePreviousSnapshotAndAreRetried() throws Exception {
    Fake sm = new Fake();
    try (SnapshotWriter w = new SnapshotWriter(10)) {
      sm.applied = 5;
      assertThat(w.take(sm, 5)).isEqualTo(5);
      sm.fail = true;
      assertThatThrownBy(() -> w.take(sm, 6)).isInstanceOf(IOException.class).hasMessage("disk full");
      sm.applied = 30;
      assertThat(w.take(sm, 30)).isEqualTo(5);
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> {
        synchronized (sm.writes) {
          return sm.writes.size() == 3;
        }
      });
      sm.fail = false;
      assertThat(w.take(sm, 31)).as("the background write failed: still the old snapshot, and a retry").isEqualTo(5);
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> sm.durable == 30);
    }
  }
}
