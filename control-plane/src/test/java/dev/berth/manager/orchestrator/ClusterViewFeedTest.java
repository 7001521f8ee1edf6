package dev.berth.manager.orchestrator;

import static dev.berth.manager.orchestrator.Fixture.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.Service;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.WatchEvent;
import dev.berth.scheduler.ClusterView;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClusterViewFeedTest {
  final ClusterViewFeed feed = new ClusterViewFeed();

  @Test
  void buildsOnceThenFollowsEventsInPlace() {
    Fixture f = new Fixture(feed).add(aNode("n1"));
    Service s = replicated("s1", 1, spec("web:1"));
    f.add(s).add(task("t1", s, 1, "n1", TaskState.RUNNING));
    ClusterView first = feed.view(f);
    assertThat(first.nodes()).hasSize(1);
    assertThat(first.nodeOf("t1")).isEqualTo("n1");

    f.add(aNode("n2")).add(task("t2", s, 2, "n2", TaskState.RUNNING));
    f.setState("t1", TaskState.FAILED, 5);
    f.update("t1", t -> t.setDesiredState(TaskState.SHUTDOWN), 5);
    f.removeNode("n1");
    ClusterView later = feed.view(f);

    assertThat(later).as("the same view, updated incrementally").isSameAs(first);
    assertThat(later.nodes()).extracting(n -> n.id()).containsExactly("n2");
    assertThat(later.nodeOf("t1")).as("ended task no longer counts").isNull();
    assertThat(later.nodeOf("t2")).isEqualTo("n2");
  }

  @Test
  void eventsTheBuildAlreadySawAreSkippedAndResetStartsANewView() {
    Fixture f = new Fixture(feed).add(aNode("n1"));
    // Queued before the build (index 1): the build reads n1 itself; replaying the removal would lose it.
    feed.onApplied(1, List.of(WatchEvent.newBuilder().setIndex(1).setAction(WatchEvent.Action.REMOVE)
        .setNode(aNode("n1")).build()));
    ClusterView first = feed.view(f);
    assertThat(first.nodes()).extracting(n -> n.id()).containsExactly("n1");

    feed.reset();
    f.add(aNode("n2"));
    ClusterView next = feed.view(f);
    assertThat(next).isNotSameAs(first);
    assertThat(next.nodes()).extracting(n -> n.id()).containsExactlyInAnyOrder("n1", "n2");
  }

  @Test
  void progressReportsAreNotQueuedOtherChangesAre() {
    Fixture f = new Fixture(feed).add(aNode("n1"));
    Service s = replicated("s1", 1, spec("web:1"));
    f.add(s).add(task("t1", s, 1, "n1", TaskState.ACCEPTED));
    feed.view(f);
    for (int i = 0; i < 100; i++) {
      feed.onApplied(f.index + 1 + i, List.of(WatchEvent.newBuilder().setIndex(f.index + 1 + i)
          .setAction(WatchEvent.Action.UPDATE).setTask(task("t1", s, 1, "n1", TaskState.RUNNING)).build()), true);
    }
    assertThat(feed.queued()).as("progress reports leave the view as it is: nothing queued").isZero();

    feed.onApplied(f.index + 200, List.of(WatchEvent.newBuilder().setIndex(f.index + 200)
        .setAction(WatchEvent.Action.REMOVE).setTask(task("t1", s, 1, "n1", TaskState.RUNNING)).build()), false);
    assertThat(feed.queued()).isEqualTo(1);
    assertThat(feed.view(f).nodeOf("t1")).as("a removal is taken in").isNull();
  }

  @Test
  void catchUpBoundsTheQueueWhetherOrNotAViewWasBuilt() {
    Fixture f = new Fixture(feed).add(aNode("n1"));
    Service s = replicated("s1", 1, spec("web:1"));
    f.add(s);
    for (int i = 0; i < 50; i++) {
      f.add(task("t" + i, s, i + 1, "n1", TaskState.RUNNING));
    }
    assertThat(feed.queued()).as("no view yet: events pile up until someone drains them").isEqualTo(52);
    feed.catchUp();
    assertThat(feed.queued()).as("no view: dropped, the first build reads the store").isZero();
    ClusterView built = feed.view(f);
    assertThat(built.nodeOf("t49")).isEqualTo("n1");

    f.add(aNode("n2")).add(task("t50", s, 51, "n2", TaskState.RUNNING));
    feed.catchUp();
    assertThat(feed.queued()).isZero();
    assertThat(built.nodeOf("t50")).as("with a view: taken into it").isEqualTo("n2");
    assertThat(feed.view(f)).isSameAs(built);
  }
}
