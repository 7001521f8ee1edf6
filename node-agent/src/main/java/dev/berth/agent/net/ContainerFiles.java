package dev.berth.agent.net;

import dev.berth.api.v1.Task;
import dev.berth.net.vxlan.Cidr;
import java.util.Map;

/**
 * The files a networked container gets from its node: /etc/resolv.conf naming the node's DNS server
 * (on the gateway bridge) and /etc/hosts with its hostname on its first overlay address. Pure.
 */
final class ContainerFiles {
    private ContainerFiles() {}

    static Map<String, String> of(String nameserver, String hostname, Task task) {
        StringBuilder hosts = new StringBuilder("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
        if (task.getNetworksCount() > 0) {
            hosts.append(Cidr.hostOf(task.getNetworks(0).getAddress())).append('\t').append(hostname).append('\n');
        }
        // ndots:0: a bare service name is asked as is, not first with the host's search domains
        return Map.of("/etc/resolv.conf", "nameserver " + nameserver + "\noptions ndots:0\n",
                "/etc/hosts", hosts.toString());
    }
}
