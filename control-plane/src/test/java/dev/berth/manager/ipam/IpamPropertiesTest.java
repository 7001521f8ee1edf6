package dev.berth.manager.ipam;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import dev.berth.api.v1.Meta;
import dev.berth.api.v1.Network;
import dev.berth.api.v1.NetworkAttachment;
import dev.berth.api.v1.NetworkSpec;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Random create / fail / confirm / remove / node join-leave sequences against small
 * networks (so exhaustion and wrap-around happen), checked against a model "store" of
 * the objects the state machine would write.
 */
class IpamPropertiesTest {

  /** The stored objects an apply loop would keep, driven by encoded operations. */
  static final class Sim {
    final Ipam ipam = new Ipam(IpamConfig.DEFAULT);
    final TreeMap<String, Network> networks = new TreeMap<>();
    final TreeMap<String, Task> tasks = new TreeMap<>();
    final TreeMap<String, Node> nodes = new TreeMap<>();
    final List<String> log = new ArrayList<>();
    int seq;

    Sim() throws IpamException {
      put(ipam.createNetwork(net("a", "alpha", "10.30.0.0/28", false)));
      put(ipam.createNetwork(net("b", "beta", "", false)));
      put(ipam.createNetwork(net("i", "ingress", "10.31.0.0/29", true)));
    }

    void put(Network n) {
      networks.put(n.getMeta().getId(), n);
    }

    static Network net(String id, String name, String subnet, boolean ingress) {
      return Network.newBuilder().setMeta(Meta.newBuilder().setId(id))
          .setSpec(NetworkSpec.newBuilder().setName(name).setSubnet(subnet).setIngress(ingress)).build();
    }

    /** Picks the pick-th element of the keys matching, or null. */
    static String pick(List<String> keys, int pick) {
      return keys.isEmpty() ? null : keys.get(Math.floorMod(pick, keys.size()));
    }

    void step(int code) throws IpamException {
      int op = Math.floorMod(code, 7);
      int arg = Math.floorDiv(code, 7);
      List<String> held = tasks.values().stream().filter(Ipam::holdsAddresses).map(t -> t.getMeta().getId()).toList();
      switch (op) {
        case 0, 1 -> { // create a task on alpha, beta (the big one) or both
          String id = "t" + (seq++);
          List<String> nets = switch (Math.floorMod(arg, 3)) {
            case 0 -> List.of("a");
            case 1 -> List.of("a", "b");
            default -> List.of("b", "a");
          };
          try {
            List<NetworkAttachment> atts = ipam.allocateTask(id, nets);
            tasks.put(id, Task.newBuilder().setMeta(Meta.newBuilder().setId(id)).addAllNetworks(atts)
                .setStatus(TaskStatus.newBuilder().setState(TaskState.RUNNING)).build());
            nets.forEach(n -> put(ipam.stamp(networks.get(n))));
            log.add(id + "=" + atts.stream().map(NetworkAttachment::getAddress).toList());
          } catch (IpamException e) {
            assertThat(e.reason()).isEqualTo(IpamException.Reason.EXHAUSTED);
            log.add(id + " exhausted");
          }
        }
        case 2 -> { // the manager gives up on a task (node down): must NOT free its addresses
          String id = pick(held, arg);
          if (id != null) {
            setState(id, Math.floorMod(arg, 2) == 0 ? TaskState.ORPHANED : TaskState.REMOVE);
          }
        }
        case 3 -> { // the agent confirms the task finished: now the addresses go
          String id = pick(held, arg);
          if (id != null) {
            setState(id, List.of(TaskState.COMPLETE, TaskState.FAILED, TaskState.SHUTDOWN,
                TaskState.REJECTED).get(Math.floorMod(arg, 4)));
            ipam.releaseTask(id);
          }
        }
        case 4 -> { // history pruned / node removed: the task leaves the store
          String id = pick(new ArrayList<>(tasks.keySet()), arg);
          if (id != null) {
            tasks.remove(id);
            ipam.releaseTask(id);
          }
        }
        case 5 -> { // a node joins: ingress address
          String id = "n" + Math.floorMod(arg, 8);
          try {
            NetworkAttachment att = ipam.allocateNode(id);
            nodes.put(id, Node.newBuilder().setMeta(Meta.newBuilder().setId(id)).setIngressAttachment(att).build());
            put(ipam.stamp(networks.get("i")));
          } catch (IpamException e) {
            assertThat(e.reason()).isEqualTo(IpamException.Reason.EXHAUSTED);
          }
        }
        default -> { // a node leaves
          String id = pick(new ArrayList<>(nodes.keySet()), arg);
          if (id != null) {
            nodes.remove(id);
            ipam.releaseNode(id);
          }
        }
      }
    }

    void setState(String id, TaskState s) {
      Task t = tasks.get(id);
      tasks.put(id, t.toBuilder().setStatus(TaskStatus.newBuilder().setState(s)).build());
    }

    /** Every live holder has distinct addresses and IPAM still attributes them to it. */
    void checkInvariants() throws IpamException {
      Set<String> seen = new HashSet<>();
      for (Task t : tasks.values()) {
        if (Ipam.holdsAddresses(t)) {
          for (NetworkAttachment a : t.getNetworksList()) {
            assertThat(seen.add(a.getNetworkId() + "|" + a.getAddress()))
                .as("address %s on %s held twice", a.getAddress(), a.getNetworkId()).isTrue();
            assertThat(ipam.holderOf(a.getNetworkId(), a.getAddress()))
                .as("unconfirmed task %s lost its address", t.getMeta().getId()).contains("task/" + t.getMeta().getId());
          }
        }
      }
      for (Node n : nodes.values()) {
        NetworkAttachment a = n.getIngressAttachment();
        assertThat(seen.add(a.getNetworkId() + "|" + a.getAddress())).isTrue();
        assertThat(ipam.holderOf(a.getNetworkId(), a.getAddress())).contains("node/" + n.getMeta().getId());
      }
    }
  }

  @Test
  void noTwoLiveHoldersShareAnAddressAndNothingIsFreedBeforeConfirmation() {
    qt().withExamples(300).forAll(lists().of(integers().between(0, 10_000)).ofSizeBetween(1, 120))
        .checkAssert(ops -> {
          try {
            Sim sim = new Sim();
            for (int op : ops) {
              sim.step(op);
              sim.checkInvariants();
            }
          } catch (IpamException e) {
            throw new AssertionError(e);
          }
        });
  }

  @Test
  void rebuildFromStoredObjectsEqualsIncrementalStateAndAllocatesTheSame() {
    qt().withExamples(200).forAll(lists().of(integers().between(0, 10_000)).ofSizeBetween(1, 120),
            integers().between(0, 10_000))
        .checkAssert((ops, next) -> {
          try {
            Sim sim = new Sim();
            for (int op : ops) {
              sim.step(op);
              Ipam rebuilt = Ipam.rebuild(IpamConfig.DEFAULT, sim.networks.values(), sim.tasks.values(),
                  sim.nodes.values());
              assertThat(rebuilt).isEqualTo(sim.ipam);
            }
            // and the two make the same next decision
            Ipam rebuilt = Ipam.rebuild(IpamConfig.DEFAULT, sim.networks.values(), sim.tasks.values(),
                sim.nodes.values());
            List<String> nets = Math.floorMod(next, 2) == 0 ? List.of("a") : List.of("b", "a");
            assertThat(outcome(rebuilt, nets)).isEqualTo(outcome(sim.ipam, nets));
          } catch (IpamException e) {
            throw new AssertionError(e);
          }
        });
  }

  private static Object outcome(Ipam ipam, List<String> nets) {
    try {
      return ipam.allocateTask("probe", nets);
    } catch (IpamException e) {
      return e.getMessage();
    }
  }

  @Test
  void sameOperationsGiveTheSameAddresses() {
    qt().withExamples(100).forAll(lists().of(integers().between(0, 10_000)).ofSizeBetween(1, 150))
        .checkAssert(ops -> {
          try {
            Sim one = new Sim();
            Sim two = new Sim();
            for (int op : ops) {
              one.step(op);
              two.step(op);
            }
            assertThat(one.log).isEqualTo(two.log);
            assertThat(Map.copyOf(one.tasks)).isEqualTo(Map.copyOf(two.tasks));
            assertThat(one.ipam).isEqualTo(two.ipam);
          } catch (IpamException e) {
            throw new AssertionError(e);
          }
        });
  }
}
