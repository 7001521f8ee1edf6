package dev.berth.agent.net;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.v1.Assignments;
import dev.berth.api.v1.Endpoint;
import dev.berth.api.v1.Meta;
import dev.berth.api.v1.Network;
import dev.berth.api.v1.NetworkAttachment;
import dev.berth.api.v1.NetworkSpec;
import dev.berth.api.v1.PortConfig;
import dev.berth.api.v1.Protocol;
import dev.berth.api.v1.PublishedService;
import dev.berth.net.dns.RecordTable;
import dev.berth.net.mesh.Backend;
import dev.berth.net.vxlan.OverlayNetwork;
import dev.berth.net.vxlan.RemoteEndpoint;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NetworkViewTest {
    private static final Network ING = network("ing", 4096, "10.0.0.0/24", true);
    private static final Network APP = network("app", 4097, "10.1.0.0/24", false);

    private final NetworkView view = new NetworkView("me");

    @Test
    void fullSetDeclaresNetworksWithTheIngressAddressOnTheIngressBridgeOnly() {
        view.apply(full().setIngressAttachment(NetworkAttachment.newBuilder().setNetworkId("ing")
                .setAddress("10.0.0.2/24")).build());
        assertThat(view.overlayNetworks()).containsExactly(new OverlayNetwork("app", 4097, "10.1.0.0/24"),
                new OverlayNetwork("ing", 4096, "10.0.0.0/24", "10.0.0.2/24"));
    }

    @Test
    void remotesAreOtherNodesEndpointsIncludingTheirIngressAddresses() {
        view.apply(full().addEndpoints(ep("t1", "app", "10.1.0.5", "me", true))
                .addEndpoints(ep("t2", "app", "10.1.0.6", "other", true))
                .addEndpoints(Endpoint.newBuilder().setTaskId("node-other").setNetworkId("ing").setAddress("10.0.0.3/24")
                        .setMac("02:42:0a:00:00:03").setNodeId("other").setNodeAddr("192.0.2.2"))
                .addEndpoints(ep("t3", "gone-net", "10.9.0.6", "other", true)).build());
        assertThat(view.remotes()).containsExactlyInAnyOrder(new RemoteEndpoint("app", "10.1.0.6", "02:42:0a:01:00:06", "192.0.2.2"),
                new RemoteEndpoint("ing", "10.0.0.3", "02:42:0a:00:00:03", "192.0.2.2"));
        // DNS: service endpoints of every node, none for node addresses
        assertThat(view.records()).extracting(RecordTable.Endpoint::taskId).containsExactly("t1", "t2", "t3");
    }

    @Test
    void changesAddReplaceAndRemoveRecordsAndAFullSetReplacesEverything() {
        view.apply(full().addEndpoints(ep("t1", "app", "10.1.0.5", "other", true))
                .addEndpoints(ep("t2", "app", "10.1.0.6", "other", true)).build());
        view.apply(Assignments.newBuilder().setSeq(2).addRemovedEndpoints("t1/app")
                .addEndpoints(ep("t2", "app", "10.1.0.6", "other", false)).build());
        assertThat(view.records()).containsExactly(new RecordTable.Endpoint("t2", "app", "svc", List.of(), "10.1.0.6", false));
        assertThat(view.remotes()).extracting(RemoteEndpoint::ip).containsExactly("10.1.0.6");

        view.apply(Assignments.newBuilder().setSeq(3).setFull(true).addNetworks(APP).build());
        assertThat(view.records()).isEmpty();
        assertThat(view.remotes()).isEmpty();
        assertThat(view.overlayNetworks()).extracting(OverlayNetwork::id).containsExactly("app");
    }

    @Test
    void ingressPortsListenEverywhereWithTheServicesIngressEndpointsAndFollowHealth() {
        view.apply(full().addPublished(published(PortConfig.PublishMode.INGRESS, 8080, 80))
                .addEndpoints(ep("t1", "ing", "10.0.0.5", "a", true)).addEndpoints(ep("t2", "ing", "10.0.0.6", "b", false))
                .addEndpoints(ep("t1", "app", "10.1.0.5", "a", true)).build());
        NetworkView.MeshPort p = view.meshPorts(Map.of()).get(8080);
        assertThat(p.backends()).containsExactly(new Backend("t1", "a", new InetSocketAddress("10.0.0.5", 80), true),
                new Backend("t2", "b", new InetSocketAddress("10.0.0.6", 80), false));

        view.apply(Assignments.newBuilder().setSeq(2).addRemovedPublished("svc-id").build());
        assertThat(view.meshPorts(Map.of())).isEmpty();
    }

    @Test
    void hostPortsBindOnlyWhileALocalTaskRunsAndForwardToItsGatewayLeg() {
        view.apply(full().addPublished(published(PortConfig.PublishMode.HOST, 9000, 90))
                .addEndpoints(ep("t1", "app", "10.1.0.5", "me", false)).build());
        assertThat(view.meshPorts(Map.of())).isEmpty();
        Map<Integer, NetworkView.MeshPort> ports = view.meshPorts(Map.of(
                "t1", new NetworkView.LocalTask("svc-id", "172.18.0.2"),
                "x", new NetworkView.LocalTask("other-svc", "172.18.0.3")));
        assertThat(ports.get(9000).backends()).containsExactly(
                new Backend("t1", "me", new InetSocketAddress("172.18.0.2", 90), false));
    }

    @Test
    void udpAndUnassignedPortsAreNotServedAndTheFirstServiceKeepsAClaimedPort() {
        view.apply(full().addPublished(PublishedService.newBuilder().setServiceId("a-svc")
                        .addPorts(PortConfig.newBuilder().setPublishedPort(7000).setTargetPort(1))
                        .addPorts(PortConfig.newBuilder().setPublishedPort(7001).setTargetPort(1).setProtocol(Protocol.UDP))
                        .addPorts(PortConfig.newBuilder().setTargetPort(1)))
                .addPublished(PublishedService.newBuilder().setServiceId("b-svc").addPorts(PortConfig.newBuilder()
                        .setPublishedPort(7000).setTargetPort(2).setProxyProtocol(true))).build());
        Map<Integer, NetworkView.MeshPort> ports = view.meshPorts(Map.of());
        assertThat(ports).containsOnlyKeys(7000);
        assertThat(ports.get(7000).proxyProtocol()).isFalse();
    }

    private static Assignments.Builder full() {
        return Assignments.newBuilder().setSeq(1).setFull(true).addNetworks(APP).addNetworks(ING);
    }

    private static Network network(String id, int vni, String subnet, boolean ingress) {
        return Network.newBuilder().setMeta(Meta.newBuilder().setId(id)).setVni(vni).setSubnet(subnet)
                .setSpec(NetworkSpec.newBuilder().setName(id).setIngress(ingress)).build();
    }

    private static PublishedService published(PortConfig.PublishMode mode, int published, int target) {
        return PublishedService.newBuilder().setServiceId("svc-id").setServiceName("svc").addPorts(PortConfig.newBuilder()
                .setPublishMode(mode).setPublishedPort(published).setTargetPort(target)).build();
    }

    private static Endpoint ep(String task, String net, String ip, String node, boolean healthy) {
        String[] o = ip.split("\\.");
        String mac = String.format("02:42:%02x:%02x:%02x:%02x", Integer.parseInt(o[0]), Integer.parseInt(o[1]),
                Integer.parseInt(o[2]), Integer.parseInt(o[3]));
        return Endpoint.newBuilder().setTaskId(task).setServiceId("svc-id").setServiceName("svc").setNetworkId(net)
                .setAddress(ip + "/24").setMac(mac).setNodeId(node).setNodeAddr("192.0.2.2").setHealthy(healthy).build();
    }
}
