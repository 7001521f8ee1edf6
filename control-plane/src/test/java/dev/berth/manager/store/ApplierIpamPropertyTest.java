package dev.berth.manager.store;

import static dev.berth.manager.store.Fixtures.assignment;
import static dev.berth.manager.store.Fixtures.attachedTask;
import static dev.berth.manager.store.Fixtures.createNetwork;
import static dev.berth.manager.store.Fixtures.createService;
import static dev.berth.manager.store.Fixtures.entry;
import static dev.berth.manager.store.Fixtures.init;
import static dev.berth.manager.store.Fixtures.networked;
import static dev.berth.manager.store.Fixtures.plan;
import static dev.berth.manager.store.Fixtures.registerNode;
import static dev.berth.manager.store.Fixtures.report;
import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import dev.berth.api.v1.NetworkAttachment;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.LogEntry;
import dev.berth.internal.v1.Plan;
import dev.berth.internal.v1.RemoveNode;
import dev.berth.internal.v1.TaskStatusChange;
import dev.berth.manager.ipam.Ipam;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Random create / assign / fail / orphan / delete / node join-leave sequences through the real
 * {@link Applier}, on small networks (so exhaustion and wrap-around happen), including plans
 * that carry another live task's address. After every entry: no two live holders share an
 * address, nothing is freed before the agent confirmed the task finished, no node is reserved
 * past its capacity, and the store's incremental address and reservation indexes equal ones
 * rebuilt from its objects (so rollbacks left nothing behind). Finally a replica restored from a snapshot makes the same next decisions.
 */
class ApplierIpamPropertyTest {
  private static final TaskState[] AGENT = {TaskState.RUNNING, TaskState.COMPLETE, TaskState.FAILED,
      TaskState.SHUTDOWN, TaskState.REJECTED};

  private static List<LogEntry> setup() {
    return List.of(entry("", init()),
        entry("", createNetwork("a", "alpha", "10.30.0.0/28"), createNetwork("b", "beta", "10.30.1.0/29")),
        entry("", createService("s1", networked("web", 8080, "alpha")),
            createService("s2", networked("db", 0, "alpha", "beta"))));
  }

  /** Decodes one generated integer into an entry over 4 nodes / 24 task ids. */
  private static LogEntry decode(int code, ClusterStore store) {
    int op = Math.floorMod(code, 8);
    String node = "n" + Math.floorMod(code >> 3, 4);
    String task = "t" + Math.floorMod(code >> 5, 24);
    int arg = Math.floorMod(code >> 10, 1 << 20);
    Command cmd = switch (op) {
      case 0, 1 -> plan(Plan.newBuilder().addCreateTasks(reserving(arg % 2 == 0
          ? attachedTask(task, "s1", "a") : attachedTask(task, "s2", "a", "b"), arg)));
      case 2 -> plan(Plan.newBuilder().addAssignments(withHostPort(assignment(task, node), arg)));
      case 3 -> report(node, task, AGENT[arg % AGENT.length]);
      case 4 -> plan(Plan.newBuilder().addStatusChanges(TaskStatusChange.newBuilder().setTaskId(task)
          .setStatus(TaskStatus.newBuilder().setState(TaskState.ORPHANED))));
      case 5 -> plan(Plan.newBuilder().addDeleteTasks(task));
      case 6 -> arg % 3 == 0
          ? Command.newBuilder().setRemoveNode(RemoveNode.newBuilder().setId(node).setForce(true)).build()
          : registerNode(node, NODE_CPU, NODE_MEMORY);
      default -> plan(Plan.newBuilder().addCreateTasks(stolen(task, store, arg)));
    };
    return entry("", cmd);
  }

  private static final long NODE_CPU = 1_000_000_000L;
  private static final long NODE_MEMORY = 1L << 30;

  /** Reserves 0, 0.4 or 0.7 of a node's CPU and memory: two of the larger overcommit a node. */
  private static Task reserving(Task t, int arg) {
    int tenths = new int[] {0, 4, 7}[(arg >> 4) % 3];
    return t.toBuilder().setSpec(t.getSpec().toBuilder().setResources(t.getSpec().getResources().toBuilder()
        .setReservations(dev.berth.api.v1.Resources.newBuilder().setNanoCpus(NODE_CPU / 10 * tenths)
            .setMemoryBytes(NODE_MEMORY / 10 * tenths)))).build();
  }

  /** Every other assignment takes host port 9000 or 9001, so some collide on a node. */
  private static Plan.Assignment withHostPort(Plan.Assignment a, int arg) {
    return arg % 2 == 0 ? a : a.toBuilder().addHostPorts(dev.berth.api.v1.PortBinding.newBuilder()
        .setPort(9000 + (arg >> 1) % 2)).build();
  }

  /** A new task carrying the address of some live holder (or a free one): apply must re-validate. */
  private static Task stolen(String id, ClusterStore store, int pick) {
    List<NetworkAttachment> held = store.read((StoreView v) -> v.tasks().stream()
        .filter(Ipam::holdsAddresses).flatMap(t -> t.getNetworksList().stream())
        .filter(a -> a.getNetworkId().equals("a")).toList());
    NetworkAttachment a = held.isEmpty() || pick % 4 == 0
        ? NetworkAttachment.newBuilder().setNetworkId("a").setAddress("10.30.0." + (2 + pick % 13)).build()
        : held.get(pick % held.size());
    return attachedTask(id, "s2").toBuilder().addNetworks(a.toBuilder().clearMac()).build();
  }

  /** Live holders hold distinct addresses, each attributed to them by the index; index == rebuild. */
  private static void checkInvariants(ClusterStore store, Set<String> liveBefore) {
    store.read((StoreView v) -> {
      Ipam index = ((StoreState) v).ipam();
      Set<String> seen = new HashSet<>();
      for (Task t : v.tasks()) {
        String owner = Ipam.taskOwner(t.getMeta().getId());
        if (Ipam.holdsAddresses(t)) {
          for (NetworkAttachment a : t.getNetworksList()) {
            assertThat(seen.add(a.getNetworkId() + "|" + a.getAddress()))
                .as("address %s on %s held twice", a.getAddress(), a.getNetworkId()).isTrue();
            assertThat(holder(index, a)).as("holder of %s", a.getAddress()).isEqualTo(owner);
          }
        } else if (liveBefore.contains(t.getMeta().getId())) {
          assertThat(t.getStatus().getState()).as("freed only when the agent confirmed the end")
              .isIn(TaskState.COMPLETE, TaskState.FAILED, TaskState.SHUTDOWN, TaskState.REJECTED);
        }
      }
      for (Node n : v.nodes()) {
        NetworkAttachment a = n.getIngressAttachment();
        assertThat(seen.add(a.getNetworkId() + "|" + a.getAddress())).isTrue();
        assertThat(holder(index, a)).isEqualTo(Ipam.nodeOwner(n.getMeta().getId()));
      }
      assertThat(index).isEqualTo(Ipam.rebuild(v.networks(), v.tasks(), v.nodes()));
      assertThat(((StoreState) v).reservations.summary()).as("reservations by node")
          .isEqualTo(NodeReservations.of(v.tasks()).summary());
      for (Node n : v.nodes()) {
        String id = n.getMeta().getId();
        assertThat(((StoreState) v).reservations.cpu(id)).as("CPU reserved on %s", id)
            .isLessThanOrEqualTo(n.getDescription().getResources().getNanoCpus());
      }
      return null;
    });
  }

  private static String holder(Ipam index, NetworkAttachment a) {
    try {
      return index.holderOf(a.getNetworkId(), a.getAddress()).orElse(null);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static Set<String> live(ClusterStore store) {
    return store.read((StoreView v) -> {
      Set<String> ids = new HashSet<>();
      v.tasks().stream().filter(Ipam::holdsAddresses).forEach(t -> ids.add(t.getMeta().getId()));
      return ids;
    });
  }

  @Test
  void addressesStayUniqueThroughTheApplierAndASnapshotDecidesTheSame() {
    qt().withExamples(120).forAll(lists().of(integers().all()).ofSizeBetween(1, 80), integers().all())
        .checkAssert((codes, next) -> {
          ClusterStore store = new ClusterStore(4, 10_000);
          List<LogEntry> log = new ArrayList<>(setup());
          long index = 0;
          for (LogEntry e : log) {
            store.apply(e, ++index);
          }
          for (int code : codes) {
            LogEntry e = decode(code, store);
            log.add(e);
            Set<String> liveBefore = live(store);
            store.apply(e, ++index);
            checkInvariants(store, liveBefore);
          }
          ClusterStore restored = new ClusterStore(4, 10_000);
          restored.restore(store.snapshot(() -> null).snapshot());
          LogEntry probe = decode(next, store);
          store.apply(probe, index + 1);
          restored.apply(probe, index + 1);
          assertThat(restored.digest()).as("same decision after a snapshot").isEqualTo(store.digest());
          ClusterStore replay = new ClusterStore(4, 10_000);
          for (int i = 0; i < log.size(); i++) {
            replay.apply(log.get(i), i + 1);
          }
          replay.apply(probe, index + 1);
          assertThat(replay.digest()).as("same decisions when replaying the log").isEqualTo(store.digest());
        });
  }
}
