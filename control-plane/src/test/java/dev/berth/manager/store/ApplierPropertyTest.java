package dev.berth.manager.store;

import static dev.berth.manager.store.Fixtures.assignment;
import static dev.berth.manager.store.Fixtures.createService;
import static dev.berth.manager.store.Fixtures.entry;
import static dev.berth.manager.store.Fixtures.init;
import static dev.berth.manager.store.Fixtures.newTask;
import static dev.berth.manager.store.Fixtures.plan;
import static dev.berth.manager.store.Fixtures.registerNode;
import static dev.berth.manager.store.Fixtures.report;
import static dev.berth.manager.store.Fixtures.spec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import dev.berth.api.v1.Node;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.LogEntry;
import dev.berth.internal.v1.Plan;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Random command sequences (over a small id space so they collide often) never break the
 * store's invariants: no node over-committed, task states never move backwards, every
 * placed task's node exists or the task is ORPHANED, and a replay of the same log gives a
 * byte-identical state.
 */
class ApplierPropertyTest {
  private static final TaskState[] REPORTED = {TaskState.ACCEPTED, TaskState.PREPARING,
      TaskState.STARTING, TaskState.RUNNING, TaskState.COMPLETE, TaskState.FAILED};
  private static final long CPU = 1_000_000_000L;

  /** Decodes one generated integer into an entry touching a few of 4 nodes / 8 tasks. */
  private static LogEntry decode(int code, int seq) {
    int kind = Math.floorMod(code, 7);
    int a = Math.floorMod(code >> 3, 4);
    int b = Math.floorMod(code >> 6, 8);
    int c = Math.floorMod(code >> 9, REPORTED.length);
    String req = Math.floorMod(code >> 12, 5) == 0 ? "req" + Math.floorMod(code >> 15, 6) : "";
    Command cmd = switch (kind) {
      case 0 -> registerNode("n" + a, 2 * CPU, 1 << 30);
      case 1 -> plan(Plan.newBuilder().addCreateTasks(newTask("t" + b, "s1", b, (a + 1) * CPU / 2, 0)));
      case 2, 3 -> plan(Plan.newBuilder().addAssignments(assignment("t" + b, "n" + a)));
      case 4, 5 -> report("n" + a, "t" + b, REPORTED[c]);
      default -> Command.newBuilder().setRemoveNode(dev.berth.internal.v1.RemoveNode.newBuilder()
          .setId("n" + a).setForce(true)).build();
    };
    return seq % 11 == 10 ? entry(req, cmd, createService("s1", spec("web", 1))) : entry(req, cmd);
  }

  @Test
  void randomSequencesKeepInvariants() {
    qt().withExamples(150).forAll(lists().of(integers().all()).ofSizeBetween(1, 60))
        .checkAssert(codes -> {
          ClusterStore store = new ClusterStore(4, 10_000);
          List<LogEntry> log = new ArrayList<>();
          log.add(entry("", init(), createService("s1", spec("web", 1))));
          for (int i = 0; i < codes.size(); i++) {
            log.add(decode(codes.get(i), i));
          }
          Map<String, Integer> lastState = new HashMap<>();
          for (int i = 0; i < log.size(); i++) {
            store.apply(log.get(i), i + 1);
            store.read((StoreView v) -> {
              for (Task t : v.tasks()) {
                int s = t.getStatus().getStateValue();
                assertThat(s).as("task %s state never moves back", t.getMeta().getId())
                    .isGreaterThanOrEqualTo(lastState.getOrDefault(t.getMeta().getId(), 0));
                lastState.put(t.getMeta().getId(), s);
                if (!t.getNodeId().isEmpty() && v.node(t.getNodeId()).isEmpty()) {
                  assertThat(t.getStatus().getState()).isIn(TaskState.ORPHANED,
                      TaskState.COMPLETE, TaskState.FAILED);
                }
              }
              for (Node n : v.nodes()) {
                long used = v.tasksOfNode(n.getMeta().getId()).stream()
                    .filter(t -> t.getStatus().getStateValue() < TaskState.COMPLETE_VALUE)
                    .mapToLong(t -> t.getSpec().getResources().getReservations().getNanoCpus()).sum();
                assertThat(used).as("reserved CPU on %s", n.getMeta().getId())
                    .isLessThanOrEqualTo(n.getDescription().getResources().getNanoCpus());
              }
              return null;
            });
          }
          ClusterStore replay = new ClusterStore(4, 10_000);
          for (int i = 0; i < log.size(); i++) {
            replay.apply(log.get(i), i + 1);
          }
          assertThat(replay.digest()).isEqualTo(store.digest());
        });
  }
}
