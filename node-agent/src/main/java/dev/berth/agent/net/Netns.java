package dev.berth.agent.net;

import dev.berth.net.vxlan.Commands;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The named network namespaces of one node's containers ({@code /run/netns/berth-<node>-<task>}),
 * made and deleted with iproute2 like the data plane's devices. Named rather than a container's
 * {@code /proc/PID/ns/net}, so the namespace exists (and is wired) before the container's process, and
 * a restarted agent finds it by name. The node id in the name keeps two agents on one host apart.
 *
 * <p>Thread model: stateless. Error contract: a failing command throws {@link IOException} naming it.
 */
final class Netns {
    static final Path DIR = Path.of("/run/netns");
    private final String prefix;

    Netns(String nodeId) {
        this.prefix = "berth-" + nodeId + "-";
    }

    String name(String taskId) {
        return prefix + taskId;
    }

    Path path(String taskId) {
        return DIR.resolve(name(taskId));
    }

    /** A fresh namespace with loopback up; one left behind by an earlier attempt is replaced. */
    void create(String taskId) throws IOException {
        delete(taskId);
        Commands.run(List.of("ip", "netns", "add", name(taskId)), null);
        Commands.run(List.of("ip", "-n", name(taskId), "link", "set", "lo", "up"), null);
    }

    /** Deletes the namespace (its interfaces go with it once no process holds it); absent is fine. */
    void delete(String taskId) throws IOException {
        if (Files.exists(path(taskId))) {
            Commands.run(List.of("ip", "netns", "del", name(taskId)), null);
        }
    }

    /** Task ids of this node's namespaces that exist. */
    List<String> list() throws IOException {
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(DIR)) {
            return out;
        }
        try (Stream<Path> s = Files.list(DIR)) {
            s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(prefix))
                    .forEach(n -> out.add(n.substring(prefix.length())));
        }
        return out;
    }

    /** The IPv4 address ("a.b.c.d/n") on an interface inside a task's namespace, if any. */
    Optional<String> address(String taskId, String ifname) throws IOException {
        String out = Commands.run(List.of("ip", "-n", name(taskId), "-4", "-o", "addr", "show", "dev", ifname), null);
        return parseAddress(out);
    }

    /** From `ip -o -4 addr show` output: "7: eth1    inet 172.18.0.2/16 brd ... scope global eth1 ...". */
    static Optional<String> parseAddress(String ipOutput) {
        for (String line : ipOutput.split("\n")) {
            String[] t = line.trim().split("\\s+");
            for (int i = 0; i + 1 < t.length; i++) {
                if (t[i].equals("inet")) {
                    return Optional.of(t[i + 1]);
                }
            }
        }
        return Optional.empty();
    }
}
