package dev.berth.agent.net;

import dev.berth.agent.task.TaskNetworking;
import dev.berth.api.v1.Assignments;
import dev.berth.api.v1.NetworkAttachment;
import dev.berth.api.v1.Task;
import dev.berth.net.dns.DnsServer;
import dev.berth.net.dns.RecordTable;
import dev.berth.net.mesh.KernelMesh;
import dev.berth.net.vxlan.Cidr;
import dev.berth.net.vxlan.DataPlane;
import dev.berth.net.vxlan.Endpoints;
import dev.berth.net.vxlan.GatewayAddresses;
import dev.berth.net.vxlan.LocalEndpoint;
import dev.berth.net.vxlan.Names;
import dev.berth.net.vxlan.NetnsRef;
import dev.berth.net.vxlan.NodeConfig;
import dev.berth.net.vxlan.Sandbox;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BiConsumer;

/**
 * The node agent's network: keeps the overlay data plane ({@link DataPlane}), the node's DNS server
 * ({@link DnsServer} over a {@link RecordTable}) and the routing mesh ({@link MeshPorts}) in step with
 * the session's {@link Assignments} (through the pure {@link NetworkView}), and wires each container's
 * named network namespace ({@link Netns}) before its process starts.
 *
 * <p>Starts on the first assignments (the node id is known then): declares the networks, reattaches
 * the namespaces of this node's tasks that survived an agent restart, deletes the others, runs {@link
 * DataPlane#reconcile} (stale devices and entries go, missing ones come back) and opens the DNS server
 * on the gateway bridge address.
 *
 * <p>Thread model: everything runs on one thread of its own ("berth-net"): assignments are queued
 * there without blocking the session's loop, {@link #attach}/{@link #release} wait for their turn, so
 * a task's start always sees the networks of the assignments that brought it. Error contract: a failed
 * sync is logged and retried with the next assignments (the data plane keeps the desired state); a
 * failed attach throws and leaves nothing behind.
 */
public final class NetworkController implements TaskNetworking, BiConsumer<String, Assignments>, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(NetworkController.class.getName());

    private final Settings settings;
    private final ExecutorService thread = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "berth-net");
        t.setDaemon(true);
        return t;
    });
    private final RecordTable table = new RecordTable();
    private final Set<RecordTable.Endpoint> records = new HashSet<>();
    private final Map<String, Local> local = new LinkedHashMap<>();
    /** Gateway-leg addresses of wired tasks, read by health probes from other threads. */
    private final Map<String, InetAddress> addresses = new ConcurrentHashMap<>();
    private final GatewayAddresses gatewayAddresses;
    private NetworkView view;
    private DataPlane plane;
    private Netns netns;
    private MeshPorts mesh;
    private DnsServer dns;

    /**
     * How this node sits on the underlay.
     *
     * @param gatewaySubnet node-local subnet of the gateway bridge (containers' default route, DNS)
     * @param dnsUpstreams where names not in the cluster are relayed (the host's resolvers)
     */
    public record Settings(Underlay underlay, String gatewaySubnet, List<InetSocketAddress> dnsUpstreams) {
        public Settings {
            Cidr.parse(gatewaySubnet);
            dnsUpstreams = List.copyOf(dnsUpstreams);
        }
    }

    /** A wired container: its gateway-leg address and the networks it is on. */
    private record Local(String serviceId, String gatewayAddress, Set<String> networks) {
        String gatewayIp() {
            return Cidr.hostOf(gatewayAddress);
        }
    }

    public NetworkController(Settings settings) {
        this.settings = settings;
        this.gatewayAddresses = new GatewayAddresses(settings.gatewaySubnet());
    }

    /** Queues one applied assignments message of the session (never blocks the caller). */
    @Override
    public void accept(String nodeId, Assignments a) {
        thread.execute(() -> {
            try {
                boolean first = plane == null;
                if (first) {
                    open(nodeId);
                }
                view.apply(a);
                if (first) {
                    restore(a);
                }
                sync();
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "network: applying assignments " + a.getSeq() + ": " + e.getMessage());
            }
        });
    }

    @Override
    public Optional<Attachment> attach(Task task, String hostname) throws Exception {
        if (task.getNetworksCount() == 0) {
            return Optional.empty();
        }
        return Optional.of(onThread(() -> wire(task, hostname)));
    }

    @Override
    public void release(String taskId) throws Exception {
        onThread(() -> {
            unwire(taskId);
            return null;
        });
    }

    @Override
    public Optional<InetAddress> address(String taskId) {
        return Optional.ofNullable(addresses.get(taskId));
    }

    /** What the node's DNS server answers from (read-only use: tests and diagnostics). */
    public RecordTable records() {
        return table;
    }

    /**
     * Stops the DNS server and the mesh (its nftables table goes, so published ports stop answering here,
     * as they did when the user-space relay closed); the data plane stays (containers keep running and a
     * restarted agent reconciles it). A killed agent leaves the table serving until its successor
     * reconciles it.
     */
    @Override
    public void close() {
        if (thread.isShutdown()) {
            return;
        }
        try {
            onThread(() -> {
                if (mesh != null) {
                    mesh.close();
                }
                if (dns != null) {
                    dns.close();
                }
                return null;
            });
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "network: closing: " + e.getMessage());
        }
        thread.shutdown();
    }

    /**
     * Removes everything this node put in the kernel: containers' namespaces, devices, entries and the
     * NAT rule (the node leaving the cluster; tests). Closes the controller.
     */
    public void teardown() throws Exception {
        onThread(() -> {
            if (plane != null) {
                for (String id : netns.list()) {
                    unwire(id);
                }
                plane.teardown();
            }
            return null;
        });
        close();
    }

    private void open(String nodeId) throws IOException {
        Underlay u = settings.underlay();
        plane = new DataPlane(new NodeConfig(nodeId, NetnsRef.CURRENT, u.device(), u.address(), u.mtu(),
                settings.gatewaySubnet()));
        view = new NetworkView(nodeId);
        netns = new Netns(nodeId);
        boolean kernelMesh = KernelMesh.available();
        mesh = new MeshPorts(kernelMesh ? new KernelMesh(NetnsRef.CURRENT, nodeId) : null);
        if (!kernelMesh) {
            LOG.log(System.Logger.Level.WARNING, "routing mesh: nft (nftables) not found; relaying in user space");
        }
    }

    /**
     * After an agent restart: namespaces of tasks the full set still lists are re-declared with the
     * gateway address they hold; the others are deleted; then the kernel is reconciled.
     */
    private void restore(Assignments first) throws IOException {
        Map<String, Task> listed = new HashMap<>();
        first.getTasksList().forEach(t -> listed.put(t.getMeta().getId(), t));
        Set<String> known = new HashSet<>();
        view.overlayNetworks().forEach(n -> known.add(n.id()));
        Map<Sandbox, List<LocalEndpoint>> survivors = new LinkedHashMap<>();
        for (String id : netns.list()) {
            Task t = listed.get(id);
            Optional<String> gw = t == null || t.getNetworksCount() == 0 ? Optional.empty()
                    : netns.address(id, Endpoints.gatewayIf(t));
            if (gw.isEmpty() || !t.getNetworksList().stream().allMatch(a -> known.contains(a.getNetworkId()))) {
                netns.delete(id);
                continue;
            }
            gatewayAddresses.restore(id, gw.get());
            survivors.put(Endpoints.sandbox(t, NetnsRef.named(netns.name(id)), Endpoints.gatewayIf(t), gw.get()),
                    Endpoints.local(t));
            addLocal(t, gw.get());
        }
        plane.restore(view.overlayNetworks(), survivors);
        plane.reconcile();
        LOG.log(System.Logger.Level.INFO, "network: data plane reconciled; " + local.size()
                + " container namespace(s) reattached");
    }

    /** Makes the data plane, DNS records and mesh match the view. */
    private void sync() throws IOException {
        plane.declare(view.overlayNetworks(), view.remotes());
        if (dns == null) {
            try {
                dns = new DnsServer(table, new InetSocketAddress(plane.node().gatewayRouter(), 53),
                        settings.dnsUpstreams()).start();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted starting the DNS server", e);
            }
        }
        Set<RecordTable.Endpoint> want = new HashSet<>(view.records());
        for (RecordTable.Endpoint gone : records) {
            if (!want.contains(gone)) {
                table.remove(gone.taskId(), gone.networkId());
            }
        }
        want.forEach(table::put);
        records.clear();
        records.addAll(want);
        syncMesh();
    }

    private void syncMesh() {
        Map<String, NetworkView.LocalTask> tasks = new HashMap<>();
        local.forEach((id, l) -> tasks.put(id, new NetworkView.LocalTask(l.serviceId(), l.gatewayIp())));
        String nodeId = plane.node().nodeId();
        List<String> outDevices = new ArrayList<>(List.of(Names.gatewayBridge(nodeId)));
        view.ingressNetworkId().ifPresent(id -> outDevices.add(Names.bridge(nodeId, id)));
        mesh.apply(view.meshPorts(tasks), outDevices);
    }

    private boolean knowsNetworks(Task t) {
        Set<String> known = new HashSet<>();
        plane.desired().networks().forEach(n -> known.add(n.id()));
        return t.getNetworksList().stream().allMatch(a -> known.contains(a.getNetworkId()));
    }

    private Attachment wire(Task task, String hostname) throws IOException {
        String id = task.getMeta().getId();
        if (plane == null || !knowsNetworks(task)) {
            throw new IOException("task " + id + " is attached to network(s) this node has not been given: "
                    + task.getNetworksList().stream().map(NetworkAttachment::getNetworkId).toList());
        }
        unwire(id); // a retried start: begin afresh
        String gw = gatewayAddresses.allocate(id);
        try {
            netns.create(id);
            plane.attach(Endpoints.sandbox(task, NetnsRef.named(netns.name(id)), Endpoints.gatewayIf(task), gw),
                    Endpoints.local(task));
        } catch (IOException | RuntimeException e) {
            try {
                unwire(id);
            } catch (IOException | RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        addLocal(task, gw);
        syncMesh();
        return new Attachment(netns.path(id), ContainerFiles.of(plane.node().gatewayRouter(), hostname, task));
    }

    /** Throws only for a malformed address (an IP literal is never looked up). */
    private void addLocal(Task t, String gatewayAddress) throws IOException {
        Set<String> nets = new HashSet<>();
        t.getNetworksList().forEach(a -> nets.add(a.getNetworkId()));
        Local l = new Local(t.getServiceId(), gatewayAddress, nets);
        local.put(t.getMeta().getId(), l);
        table.putClient(l.gatewayIp(), nets);
        addresses.put(t.getMeta().getId(), InetAddress.getByName(l.gatewayIp()));
    }

    private void unwire(String taskId) throws IOException {
        if (plane == null) {
            return;
        }
        Local l = local.remove(taskId);
        addresses.remove(taskId);
        if (l != null) {
            table.removeClient(l.gatewayIp());
        }
        gatewayAddresses.release(taskId);
        if (l != null || plane.desired().sandboxes().stream().anyMatch(s -> s.id().equals(taskId))) {
            plane.detach(taskId);
        }
        netns.delete(taskId);
        if (l != null) {
            syncMesh();
        }
    }

    private <T> T onThread(Callable<T> work) throws Exception {
        try {
            return thread.submit(work).get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception ex) {
                throw ex;
            }
            throw e;
        }
    }
}
