package dev.berth.net.mesh;

import dev.berth.net.vxlan.Commands;
import dev.berth.net.vxlan.NetnsRef;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The routing mesh's kernel data path on one node: applies {@link NatPlanner}'s table with one
 * {@code nft -f} transaction in the node's namespace, and the few sysctls it needs there.
 *
 * <p>Read-diff-apply: the last applied rules hash is kept; when the plan differs from it (always on
 * the first apply, e.g. after an agent restart) the hash in the kernel's table comment is read and the
 * table is replaced only if that differs too, so a restarted agent leaves a correct table alone and
 * replaces a stale one.
 *
 * <p>Sysctls, in this namespace only, written on every apply with published ports (a device the data
 * plane re-creates loses its settings; the write is one short process):
 * <ul>
 *   <li>{@code net.ipv4.ip_forward=1}: DNATed connections from other hosts are forwarded to the task
 *       (the data plane's gateway NAT sets it too).
 *   <li>{@code net.ipv4.conf.DEV.route_localnet=1} on the devices DNATed connections leave by (the
 *       ingress bridge, the gateway bridge): a connection to 127.0.0.1:PORT keeps its loopback source
 *       until postrouting masquerades it, and the kernel refuses to route a loopback source out of a
 *       device without it. kube-proxy sets it on all devices; per device is enough and leaves other
 *       devices' martian filtering alone. Unknown devices (not created yet) are skipped.
 * </ul>
 * rp_filter needs nothing: replies arrive on the device the task's route points at.
 *
 * <p>Conntrack: a task leaving the rotation gets no new connections; connections already NATed to it
 * keep their entry until they end (the tool to delete entries, {@code conntrack}, is not installed on
 * these hosts; kube-proxy likewise flushes only UDP entries, TCP ends by reset or timeout).
 *
 * <p>Thread model: not thread-safe; one owner thread. Error contract: a failing {@code nft} or
 * {@code sysctl} throws {@link IOException} naming the command and its input; the kernel keeps the
 * previous table (nft transactions are atomic) and the next apply tries again.
 */
public final class KernelMesh implements AutoCloseable {
  private final NetnsRef ns;
  private final String nodeId;
  private String applied;

  public KernelMesh(NetnsRef ns, String nodeId) {
    this.ns = ns;
    this.nodeId = nodeId;
  }

  /** Whether the {@code nft} tool runs here (the mesh falls back to the user-space relay without it). */
  public static boolean available() {
    try {
      Commands.run(List.of("nft", "--version"), null);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Makes the node's table serve exactly these ports (port to its tasks, healthy or not).
   *
   * @param outDevices devices DNATed connections leave by (for route_localnet)
   */
  public void apply(SortedMap<Integer, List<Backend>> ports, Collection<String> outDevices) throws IOException {
    NatPlanner.Plan plan = NatPlanner.plan(nodeId, ports);
    if (!ports.isEmpty()) {
      List<String> cmd = new ArrayList<>(List.of("sysctl", "-q", "-e", "-w", "net.ipv4.ip_forward=1"));
      outDevices.forEach(d -> cmd.add("net.ipv4.conf." + d + ".route_localnet=1"));
      Commands.run(ns.exec(cmd), null);
    }
    if (plan.hash().equals(applied)) {
      return;
    }
    if (!plan.hash().equals(kernelHash(plan.table()))) {
      Commands.run(ns.exec(List.of("nft", "-f", "-")), plan.script());
    }
    applied = plan.hash();
  }

  /** The rules hash of the table the kernel holds ("" when there is none). */
  String kernelHash(String table) throws IOException {
    Optional<String> listing = listing(table);
    return listing.isEmpty() ? "" : NatPlanner.hashIn(listing.get()).orElse("unknown");
  }

  /** The kernel's listing of the table (with handles), empty when it does not exist. */
  public Optional<String> listing(String table) throws IOException {
    for (String line : Commands.run(ns.exec(List.of("nft", "list", "tables", "ip")), null).split("\n")) {
      if (line.trim().equals("table ip " + table)) {
        return Optional.of(Commands.run(ns.exec(List.of("nft", "-a", "list", "table", "ip", table)), null));
      }
    }
    return Optional.empty();
  }

  /** Deletes the node's table (no published port answers through the kernel any more). */
  @Override
  public void close() throws IOException {
    apply(new TreeMap<>(), List.of());
  }
}
