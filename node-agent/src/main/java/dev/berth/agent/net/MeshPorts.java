package dev.berth.agent.net;

import dev.berth.net.mesh.Backend;
import dev.berth.net.mesh.BackendPool;
import dev.berth.net.mesh.KernelMesh;
import dev.berth.net.mesh.RoutingMesh;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Collection;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The node's routing-mesh ports. Where the {@code nft} tool exists, ports go through the kernel
 * ({@link KernelMesh}: nftables DNAT, no user-space hop, as kube-proxy and Swarm's IPVS do); ports
 * published with PROXY protocol keep a user-space {@link RoutingMesh} (listening on all addresses, one
 * {@link BackendPool} per port), since the kernel cannot write the header. Without {@code nft} every
 * port uses the user-space mesh. Ports move between the two as their settings change.
 *
 * <p>Thread model: not thread-safe; the network controller's thread owns it (the user-space meshes
 * run on their own event loops). Error contract: a port that cannot be bound, or a kernel table that
 * cannot be written, is logged and tried again on the next {@link #apply}; other ports are unaffected.
 */
final class MeshPorts implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(MeshPorts.class.getName());

    private record Open(RoutingMesh mesh, BackendPool pool, boolean proxyProtocol, Set<String> tasks) {
    }

    private final Map<Integer, Open> open = new TreeMap<>();
    private final KernelMesh kernel;

    /** @param kernel the node's kernel mesh, null to relay every port in user space */
    MeshPorts(KernelMesh kernel) {
        this.kernel = kernel;
    }

    /**
     * Serves exactly these ports.
     *
     * @param outDevices devices the kernel mesh's connections leave by (see {@link KernelMesh#apply})
     */
    void apply(Map<Integer, NetworkView.MeshPort> all, Collection<String> outDevices) {
        Map<Integer, NetworkView.MeshPort> want = new TreeMap<>();
        TreeMap<Integer, List<Backend>> inKernel = new TreeMap<>();
        all.forEach((port, w) -> {
            if (kernel != null && !w.proxyProtocol()) {
                inKernel.put(port, w.backends());
            } else {
                want.put(port, w);
            }
        });
        userSpace(want);
        if (kernel != null) {
            try {
                kernel.apply(inKernel, outDevices);
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "routing mesh: kernel table not applied: " + e.getMessage());
            }
        }
    }

    private void userSpace(Map<Integer, NetworkView.MeshPort> want) {
        for (Iterator<Map.Entry<Integer, Open>> it = open.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Integer, Open> e = it.next();
            NetworkView.MeshPort w = want.get(e.getKey());
            if (w == null || w.proxyProtocol() != e.getValue().proxyProtocol()) {
                e.getValue().mesh().close();
                it.remove();
            }
        }
        for (NetworkView.MeshPort w : want.values()) {
            Open o = open.get(w.port());
            if (o == null) {
                BackendPool pool = new BackendPool();
                try {
                    RoutingMesh m = new RoutingMesh(new InetSocketAddress(w.port()), pool, w.proxyProtocol(), 1).start();
                    o = new Open(m, pool, w.proxyProtocol(), new HashSet<>());
                    open.put(w.port(), o);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                } catch (Exception e) { // Netty rethrows the checked BindException undeclared
                    LOG.log(System.Logger.Level.WARNING, "routing mesh: cannot listen on port " + w.port() + ": " + e);
                    continue;
                }
            }
            Set<String> now = new HashSet<>();
            for (Backend b : w.backends()) {
                now.add(b.taskId());
                o.pool().put(b);
            }
            for (String gone : o.tasks()) {
                if (!now.contains(gone)) {
                    o.pool().remove(gone);
                }
            }
            o.tasks().clear();
            o.tasks().addAll(now);
        }
    }

    /** Stops serving every port (the kernel table is deleted: published ports stop answering here). */
    @Override
    public void close() {
        open.values().forEach(o -> o.mesh().close());
        open.clear();
        if (kernel != null) {
            try {
                kernel.close();
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "routing mesh: kernel table not removed: " + e.getMessage());
            }
        }
    }
}
