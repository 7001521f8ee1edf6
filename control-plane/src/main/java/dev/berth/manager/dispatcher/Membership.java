package dev.berth.manager.dispatcher;

import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Where agents find managers: the public gRPC addresses (host:port) of the managers and of
 * the current leader, as this manager knows them (from Raft). Provided by the manager process.
 *
 * <p>Thread model: implementations are thread-safe and cheap (called per session open).
 */
public interface Membership {
  /** This manager's own agent-facing address (never redirect an agent to it). */
  String selfAddress();

  /** The leader's agent-facing address, when a leader is known. */
  Optional<String> leaderAddress();

  /** Every manager's agent-facing address. */
  List<String> managerAddresses();

  /** A membership that asks the three suppliers on each call (they must be thread-safe and cheap). */
  static Membership of(Supplier<String> self, Supplier<Optional<String>> leader, Supplier<List<String>> managers) {
    return new Membership() {
      @Override
      public String selfAddress() {
        return self.get();
      }

      @Override
      public Optional<String> leaderAddress() {
        return leader.get();
      }

      @Override
      public List<String> managerAddresses() {
        return managers.get();
      }
    };
  }

  /** Manager addresses with the leader (when known) first. */
  default List<String> leaderFirst() {
    List<String> all = new java.util.ArrayList<>(managerAddresses());
    leaderAddress().ifPresent(leader -> {
      all.remove(leader);
      all.add(0, leader);
    });
    return all;
  }
}
