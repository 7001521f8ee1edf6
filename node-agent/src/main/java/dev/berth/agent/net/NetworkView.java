package dev.berth.agent.net;

import dev.berth.api.v1.Assignments;
import dev.berth.api.v1.Endpoint;
import dev.berth.api.v1.Network;
import dev.berth.api.v1.NetworkAttachment;
import dev.berth.api.v1.PortConfig;
import dev.berth.api.v1.Protocol;
import dev.berth.api.v1.PublishedService;
import dev.berth.net.dns.RecordTable;
import dev.berth.net.mesh.Backend;
import dev.berth.net.vxlan.Cidr;
import dev.berth.net.vxlan.OverlayNetwork;
import dev.berth.net.vxlan.RemoteEndpoint;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What one node's network should look like, accumulated from the session's {@link Assignments}: a full
 * set replaces everything, a numbered change adds or replaces records and drops the removed ones. From
 * it come the data plane's networks and remote endpoints, the DNS records and the routing mesh's ports.
 * Pure: no I/O, deterministic (sorted) output.
 *
 * <p>Records that name no service (e.g. another node's own ingress address) program the data plane
 * only; DNS and the mesh use service endpoints. Ports published with mode HOST are bound only while a
 * task of the service runs on this node, and forward to that local task over its gateway leg (the
 * node reaches every local container there, whatever networks the task is on).
 *
 * <p>Thread model: not thread-safe; the network controller's thread owns it. Error contract: records
 * with bad addresses throw {@link IllegalArgumentException} from the derived views, naming the record.
 */
public final class NetworkView {
    private final String nodeId;
    private final Map<String, Network> networks = new TreeMap<>();
    /** "task_id/network_id" to endpoint, the key removed_endpoints uses. */
    private final Map<String, Endpoint> endpoints = new TreeMap<>();
    private final Map<String, PublishedService> published = new TreeMap<>();
    private NetworkAttachment ingress = NetworkAttachment.getDefaultInstance();

    /** A published port as this node serves it. */
    public record MeshPort(int port, boolean proxyProtocol, List<Backend> backends) {
    }

    /** A task running on this node, as the mesh's HOST mode needs it. */
    public record LocalTask(String serviceId, String gatewayIp) {
    }

    public NetworkView(String nodeId) {
        this.nodeId = nodeId;
    }

    public void apply(Assignments a) {
        if (a.getFull()) {
            networks.clear();
            endpoints.clear();
            published.clear();
        }
        a.getNetworksList().forEach(n -> networks.put(n.getMeta().getId(), n));
        a.getRemovedEndpointsList().forEach(endpoints::remove);
        a.getEndpointsList().forEach(e -> endpoints.put(e.getTaskId() + "/" + e.getNetworkId(), e));
        a.getRemovedPublishedList().forEach(published::remove);
        a.getPublishedList().forEach(p -> published.put(p.getServiceId(), p));
        if (a.hasIngressAttachment()) {
            ingress = a.getIngressAttachment();
        }
    }

    /** The networks to declare; the ingress network carries this node's ingress address once known. */
    public List<OverlayNetwork> overlayNetworks() {
        List<OverlayNetwork> out = new ArrayList<>();
        for (Network n : networks.values()) {
            boolean withAddress = n.getSpec().getIngress() && ingress.getNetworkId().equals(n.getMeta().getId())
                    && !ingress.getAddress().isEmpty();
            out.add(withAddress ? new OverlayNetwork(n.getMeta().getId(), n.getVni(), n.getSubnet(), ingress.getAddress())
                    : OverlayNetwork.of(n));
        }
        return out;
    }

    /** Endpoints on other nodes, on networks this node knows, as FDB/neighbour entries. */
    public List<RemoteEndpoint> remotes() {
        List<RemoteEndpoint> out = new ArrayList<>();
        for (Endpoint e : endpoints.values()) {
            if (!e.getNodeId().equals(nodeId) && networks.containsKey(e.getNetworkId())) {
                out.add(new RemoteEndpoint(e.getNetworkId(), e.getAddress(), e.getMac(), e.getNodeAddr()));
            }
        }
        return out;
    }

    /** Every service endpoint (this node's and others'), as DNS records. */
    public List<RecordTable.Endpoint> records() {
        List<RecordTable.Endpoint> out = new ArrayList<>();
        for (Endpoint e : endpoints.values()) {
            if (!e.getServiceName().isEmpty()) {
                out.add(new RecordTable.Endpoint(e.getTaskId(), e.getNetworkId(), e.getServiceName(), e.getAliasesList(),
                        e.getAddress(), e.getHealthy()));
            }
        }
        return out;
    }

    /**
     * The TCP ports this node listens on, by port: INGRESS ports with the service's tasks on the ingress
     * network (all nodes), HOST ports with the service's tasks on this node, while it has any. When two
     * services claim one port the one with the smaller id keeps it.
     *
     * @param local this node's running, wired tasks by task id
     */
    public Map<Integer, MeshPort> meshPorts(Map<String, LocalTask> local) {
        Map<Integer, MeshPort> out = new TreeMap<>();
        Optional<String> ingressNet = ingressNetworkId();
        for (PublishedService s : published.values()) {
            for (PortConfig p : s.getPortsList()) {
                if (p.getProtocol() != Protocol.TCP || p.getPublishedPort() == 0 || out.containsKey(p.getPublishedPort())) {
                    continue;
                }
                List<Backend> backends = p.getPublishMode() == PortConfig.PublishMode.HOST
                        ? hostBackends(s.getServiceId(), p.getTargetPort(), local)
                        : ingressNet.map(net -> ingressBackends(s.getServiceId(), net, p.getTargetPort())).orElse(List.of());
                if (p.getPublishMode() == PortConfig.PublishMode.INGRESS || !backends.isEmpty()) {
                    out.put(p.getPublishedPort(), new MeshPort(p.getPublishedPort(), p.getProxyProtocol(), backends));
                }
            }
        }
        return out;
    }

    /** The id of the ingress network, once this node has been given it. */
    public Optional<String> ingressNetworkId() {
        return networks.values().stream().filter(n -> n.getSpec().getIngress()).map(n -> n.getMeta().getId()).findFirst();
    }

    private List<Backend> ingressBackends(String serviceId, String network, int targetPort) {
        List<Backend> out = new ArrayList<>();
        for (Endpoint e : endpoints.values()) {
            if (e.getServiceId().equals(serviceId) && e.getNetworkId().equals(network)) {
                out.add(new Backend(e.getTaskId(), e.getNodeId(), socket(Cidr.hostOf(e.getAddress()), targetPort), e.getHealthy()));
            }
        }
        return out;
    }

    private List<Backend> hostBackends(String serviceId, int targetPort, Map<String, LocalTask> local) {
        List<Backend> out = new ArrayList<>();
        new TreeMap<>(local).forEach((taskId, t) -> {
            if (t.serviceId().equals(serviceId)) {
                out.add(new Backend(taskId, nodeId, socket(t.gatewayIp(), targetPort), healthy(taskId)));
            }
        });
        return out;
    }

    /** A task's health as its endpoint records say; a task with no record yet counts as healthy. */
    private boolean healthy(String taskId) {
        return endpoints.values().stream().filter(e -> e.getTaskId().equals(taskId)).allMatch(Endpoint::getHealthy);
    }

    /** An IP literal, so no name lookup happens. */
    private static InetSocketAddress socket(String ip, int port) {
        return new InetSocketAddress(ip, port);
    }
}
