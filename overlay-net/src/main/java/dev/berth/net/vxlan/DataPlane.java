package dev.berth.net.vxlan;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The overlay data plane of one node: keeps the desired state (networks, local
 * containers and their endpoints, remote endpoints) and makes the kernel match it on
 * every change by reading the kernel back, diffing ({@link Planner}) and running the
 * difference ({@link KernelExecutor}). Because every change goes through the same
 * read-diff-apply path, a restarted agent that re-declares its state and calls
 * {@link #reconcile} converges whatever it finds: stale devices and entries go, missing
 * ones come back.
 *
 * <p>Thread model: thread-safe (all methods synchronized; each one runs a few iproute2
 * processes, so call it from the agent's network executor, not an event loop).
 *
 * <p>Error contract: bad input throws {@link IllegalArgumentException} and changes
 * nothing. A kernel failure throws {@link IOException}; the desired state keeps the
 * change, and the next call or {@link #reconcile} retries it.
 */
public final class DataPlane {
  private final NodeConfig node;
  private final KernelReader reader;
  private final KernelExecutor executor;
  private final Map<String, OverlayNetwork> networks = new LinkedHashMap<>();
  private final Map<String, Sandbox> sandboxes = new LinkedHashMap<>();
  private final Map<String, List<LocalEndpoint>> endpoints = new LinkedHashMap<>();
  /** "networkId|ip" -> remote endpoint. */
  private final Map<String, RemoteEndpoint> remotes = new LinkedHashMap<>();

  public DataPlane(NodeConfig node, KernelReader reader, KernelExecutor executor) {
    this.node = node;
    this.reader = reader;
    this.executor = executor;
  }

  public DataPlane(NodeConfig node) {
    this(node, new KernelReader(), new KernelExecutor());
  }

  public NodeConfig node() {
    return node;
  }

  public synchronized DesiredState desired() {
    List<LocalEndpoint> eps = new ArrayList<>();
    endpoints.values().forEach(eps::addAll);
    return new DesiredState(node, List.copyOf(networks.values()), List.copyOf(sandboxes.values()), eps,
        List.copyOf(remotes.values()));
  }

  public synchronized void addNetwork(OverlayNetwork n) throws IOException {
    OverlayNetwork old = networks.get(n.id());
    if (old != null && !old.equals(n)) {
      throw new IllegalArgumentException("network " + n.id() + " is already set up as " + old);
    }
    networks.put(n.id(), n);
    apply(false);
  }

  /** Removes a network with its remote entries; refused while a local container is still attached. */
  public synchronized void removeNetwork(String networkId) throws IOException {
    for (List<LocalEndpoint> eps : endpoints.values()) {
      for (LocalEndpoint e : eps) {
        if (e.networkId().equals(networkId)) {
          throw new IllegalArgumentException("network " + networkId + " still has container " + e.sandboxId());
        }
      }
    }
    networks.remove(networkId);
    remotes.values().removeIf(r -> r.networkId().equals(networkId));
    apply(false);
  }

  /**
   * Replaces the networks and remote endpoints with the given sets in one read-diff-apply (the agent
   * declares its whole view after each assignment message instead of one call per record). A network
   * a local container is still attached to stays until that container is detached.
   */
  public synchronized void declare(Collection<OverlayNetwork> nets, Collection<RemoteEndpoint> remoteEps)
      throws IOException {
    Map<String, OverlayNetwork> next = new LinkedHashMap<>();
    nets.forEach(n -> next.put(n.id(), n));
    for (List<LocalEndpoint> eps : endpoints.values()) {
      for (LocalEndpoint e : eps) {
        next.putIfAbsent(e.networkId(), networks.get(e.networkId()));
      }
    }
    Map<String, RemoteEndpoint> nextRemotes = new LinkedHashMap<>();
    for (RemoteEndpoint r : remoteEps) {
      if (!next.containsKey(r.networkId())) {
        throw new IllegalArgumentException("remote endpoint " + r.ip() + " on unknown network " + r.networkId());
      }
      nextRemotes.put(r.networkId() + "|" + r.ip(), r);
    }
    networks.clear();
    networks.putAll(next);
    remotes.clear();
    remotes.putAll(nextRemotes);
    apply(false);
  }

  /**
   * After an agent restart: declares the networks and the containers that survived, without touching
   * the kernel (applying a state that lacks the containers would delete their veths); follow with
   * {@link #reconcile}.
   */
  public synchronized void restore(Collection<OverlayNetwork> nets, Map<Sandbox, List<LocalEndpoint>> containers) {
    Map<String, OverlayNetwork> next = new LinkedHashMap<>();
    nets.forEach(n -> next.put(n.id(), n));
    containers.forEach((sandbox, eps) -> checkEndpoints(sandbox, eps, next));
    networks.clear();
    networks.putAll(next);
    containers.forEach((sandbox, eps) -> {
      sandboxes.put(sandbox.id(), sandbox);
      endpoints.put(sandbox.id(), List.copyOf(eps));
    });
  }

  /** Plugs a container into its networks and the gateway bridge. */
  public synchronized void attach(Sandbox sandbox, List<LocalEndpoint> eps) throws IOException {
    checkEndpoints(sandbox, eps, networks);
    sandboxes.put(sandbox.id(), sandbox);
    endpoints.put(sandbox.id(), List.copyOf(eps));
    apply(false);
  }

  private static void checkEndpoints(Sandbox sandbox, List<LocalEndpoint> eps, Map<String, OverlayNetwork> nets) {
    for (LocalEndpoint e : eps) {
      if (!e.sandboxId().equals(sandbox.id())) {
        throw new IllegalArgumentException("endpoint for " + e.sandboxId() + " given with sandbox " + sandbox.id());
      }
      if (!nets.containsKey(e.networkId())) {
        throw new IllegalArgumentException("container " + sandbox.id() + " names unknown network " + e.networkId());
      }
    }
  }

  /** Unplugs a container (its veths go; a namespace already gone took them along). */
  public synchronized void detach(String sandboxId) throws IOException {
    sandboxes.remove(sandboxId);
    endpoints.remove(sandboxId);
    apply(false);
  }

  public synchronized void addRemote(RemoteEndpoint r) throws IOException {
    if (!networks.containsKey(r.networkId())) {
      throw new IllegalArgumentException("remote endpoint " + r.ip() + " on unknown network " + r.networkId());
    }
    remotes.put(r.networkId() + "|" + r.ip(), r);
    apply(false);
  }

  public synchronized void removeRemote(String networkId, String ip) throws IOException {
    remotes.remove(networkId + "|" + Cidr.hostOf(ip));
    apply(false);
  }

  /** Makes the kernel match the desired state, re-configuring inside every container too. */
  public synchronized void reconcile() throws IOException {
    apply(true);
  }

  /** Removes every device, entry and NAT rule of this node (agent leaving the cluster, tests). */
  public synchronized void teardown() throws IOException {
    networks.clear();
    sandboxes.clear();
    endpoints.clear();
    remotes.clear();
    executor.run(Planner.teardown(node, reader.read(node)));
  }

  private void apply(boolean reapply) throws IOException {
    executor.run(Planner.plan(desired(), reader.read(node), reapply));
  }
}
