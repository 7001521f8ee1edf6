package dev.berth.agent.net;

import dev.berth.net.vxlan.Commands;
import java.io.IOException;
import java.util.List;

/**
 * The device VXLAN runs over: the one holding the node's advertised address, and its MTU (overlay
 * links get 50 bytes less). Found with iproute2 in the agent's own namespace.
 *
 * <p>Thread model: immutable. Error contract: {@link #find} throws {@link IllegalArgumentException}
 * when no device holds the address.
 */
public record Underlay(String device, String address, int mtu) {

    public static Underlay find(String address) throws IOException {
        String dev = deviceOf(Commands.run(List.of("ip", "-o", "-4", "addr", "show"), null), address);
        int mtu = mtuOf(Commands.run(List.of("ip", "-o", "link", "show", "dev", dev), null));
        return new Underlay(dev, address, mtu);
    }

    /** From `ip -o -4 addr show`: the device whose inet address is {@code address}. */
    static String deviceOf(String ipAddrOutput, String address) {
        for (String line : ipAddrOutput.split("\n")) {
            String[] t = line.trim().split("\\s+");
            for (int i = 2; i + 1 < t.length; i++) {
                if (t[i].equals("inet") && t[i + 1].startsWith(address + "/")) {
                    return t[1].replaceAll(":$", "");
                }
            }
        }
        throw new IllegalArgumentException("no network device on this host holds the address " + address
                + " (--advertise-addr must be one of this host's own addresses)");
    }

    /** From `ip -o link show dev X`: "2: u0@if9: <...> mtu 1500 qdisc ...". */
    static int mtuOf(String ipLinkOutput) {
        String[] t = ipLinkOutput.trim().split("\\s+");
        for (int i = 0; i + 1 < t.length; i++) {
            if (t[i].equals("mtu")) {
                return Integer.parseInt(t[i + 1]);
            }
        }
        throw new IllegalArgumentException("no MTU in: " + ipLinkOutput.strip());
    }
}
