package dev.berth.manager.store;

import dev.berth.api.v1.Cluster;
import dev.berth.api.v1.Network;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.Service;
import dev.berth.api.v1.Task;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A consistent read of the cluster store at one applied log index.
 *
 * <p>Thread model: a view is valid only inside the {@link Store#read} callback that
 * received it (the store holds its read lock meanwhile); do not keep it. Objects it
 * returns are immutable protobuf messages and may be kept.
 *
 * <p>Error contract: lookups of missing objects return empty, never throw.
 */
public interface StoreView {
  /** Raft log index of the last entry applied to this view (0 before any). */
  long index();

  Optional<Cluster> cluster();

  Optional<Node> node(String id);

  Collection<Node> nodes();

  Optional<Service> service(String id);

  Optional<Service> serviceByName(String name);

  Collection<Service> services();

  Optional<Task> task(String id);

  Collection<Task> tasks();

  /** Tasks of one service, in no particular order. */
  List<Task> tasksOfService(String serviceId);

  /** Tasks assigned to one node, in no particular order. */
  List<Task> tasksOfNode(String nodeId);

  /** Ids of the nodes some task is assigned to, including nodes no longer in the store. */
  Set<String> nodeIdsWithTasks();

  Optional<Network> network(String id);

  Optional<Network> networkByName(String name);

  Collection<Network> networks();
}
