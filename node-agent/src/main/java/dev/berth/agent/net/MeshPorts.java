package dev.berth.agent.net;

import dev.berth.net.mesh.Backend;
import dev.berth.net.mesh.BackendPool;
import dev.berth.net.mesh.RoutingMesh;
import java.net.InetSocketAddress;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The node's open routing-mesh ports: one {@link RoutingMesh} (listening on all addresses) with its
 * {@link BackendPool} per published port, opened, refilled and closed as the desired ports change.
 *
 * <p>Thread model: not thread-safe; the network controller's thread owns it (the meshes run on their
 * own event loops). Error contract: a port that cannot be bound is logged and tried again on the next
 * {@link #apply}; other ports are unaffected.
 */
final class MeshPorts implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(MeshPorts.class.getName());

    private record Open(RoutingMesh mesh, BackendPool pool, boolean proxyProtocol, Set<String> tasks) {
    }

    private final Map<Integer, Open> open = new TreeMap<>();

    void apply(Map<Integer, NetworkView.MeshPort> want) {
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

    @Override
    public void close() {
        open.values().forEach(o -> o.mesh().close());
        open.clear();
    }
}
