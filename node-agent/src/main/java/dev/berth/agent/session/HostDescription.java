package dev.berth.agent.session;

import dev.berth.api.v1.NodeDescription;
import dev.berth.api.v1.Platform;
import dev.berth.api.v1.Resources;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Describes this machine for registration: hostname, platform, capacity (CPUs from the cgroup cpuset the
 * agent runs in, memory from /proc/meminfo) and the cgroup layout. Paths are injectable so tests read a
 * fake tree.
 *
 * <p>Thread model: stateless. Error contract: unreadable files fall back (CPUs to the JVM's count, memory
 * to 0 with a warning) rather than fail the join.
 */
public final class HostDescription {
    private static final System.Logger LOG = System.getLogger(HostDescription.class.getName());

    private final Path sysFsCgroup;
    private final Path proc;

    public HostDescription(Path sysFsCgroup, Path proc) {
        this.sysFsCgroup = sysFsCgroup;
        this.proc = proc;
    }

    public static HostDescription system() {
        return new HostDescription(Path.of("/sys/fs/cgroup"), Path.of("/proc"));
    }

    public NodeDescription describe(String advertiseAddr, String engineVersion) {
        return NodeDescription.newBuilder()
                .setHostname(hostname())
                .setPlatform(Platform.newBuilder().setOs("linux").setArchitecture(arch(System.getProperty("os.arch"))))
                .setResources(Resources.newBuilder().setNanoCpus(cpus() * 1_000_000_000L).setMemoryBytes(memoryBytes()))
                .setAddr(advertiseAddr == null ? "" : advertiseAddr)
                .setEngineVersion(engineVersion)
                .setCgroupVersion(cgroupVersion())
                .build();
    }

    /** "v2" when the unified hierarchy is mounted at the root, "v1" for v1 or hybrid layouts, else "none". */
    public String cgroupVersion() {
        if (Files.exists(sysFsCgroup.resolve("cgroup.controllers"))) {
            return "v2";
        }
        if (Files.isDirectory(sysFsCgroup.resolve("cpu")) || Files.isDirectory(sysFsCgroup.resolve("memory"))
                || Files.isDirectory(sysFsCgroup.resolve("cpuset"))) {
            return "v1";
        }
        return "none";
    }

    /** CPUs in the cpuset the agent may use. */
    public int cpus() {
        Optional<String> list = read(sysFsCgroup.resolve("cpuset.cpus.effective"))
                .or(() -> read(sysFsCgroup.resolve("cpuset/cpuset.effective_cpus")))
                .or(() -> read(sysFsCgroup.resolve("cpuset/cpuset.cpus")));
        if (list.isPresent() && !list.get().isBlank()) {
            try {
                return countCpuList(list.get());
            } catch (IllegalArgumentException e) {
                LOG.log(System.Logger.Level.WARNING, "unreadable cpuset '" + list.get() + "': " + e.getMessage());
            }
        }
        return Runtime.getRuntime().availableProcessors();
    }

    /** MemTotal from /proc/meminfo, in bytes (0 when unreadable). */
    public long memoryBytes() {
        Optional<String> meminfo = read(proc.resolve("meminfo"));
        if (meminfo.isPresent()) {
            for (String line : meminfo.get().split("\n")) {
                if (line.startsWith("MemTotal:")) {
                    String[] f = line.substring("MemTotal:".length()).trim().split("\\s+");
                    return Long.parseLong(f[0]) * (f.length > 1 && f[1].equalsIgnoreCase("kB") ? 1024 : 1);
                }
            }
        }
        LOG.log(System.Logger.Level.WARNING, "no MemTotal in " + proc.resolve("meminfo") + "; reporting 0 memory");
        return 0;
    }

    /** Counts a kernel cpu list such as "0-3,8,10-11". */
    static int countCpuList(String list) {
        int n = 0;
        for (String part : list.strip().split(",")) {
            String[] range = part.split("-");
            if (range.length == 1) {
                Integer.parseInt(range[0].strip());
                n++;
            } else if (range.length == 2) {
                int lo = Integer.parseInt(range[0].strip());
                int hi = Integer.parseInt(range[1].strip());
                if (hi < lo) {
                    throw new IllegalArgumentException("range " + part + " is reversed");
                }
                n += hi - lo + 1;
            } else {
                throw new IllegalArgumentException("bad range " + part);
            }
        }
        return n;
    }

    private String hostname() {
        return read(proc.resolve("sys/kernel/hostname")).map(String::strip).filter(s -> !s.isEmpty()).orElse("localhost");
    }

    static String arch(String osArch) {
        return switch (osArch) {
            case "amd64", "x86_64" -> "amd64";
            case "aarch64", "arm64" -> "arm64";
            default -> osArch;
        };
    }

    private static Optional<String> read(Path p) {
        try {
            return Files.isReadable(p) ? Optional.of(Files.readString(p)) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
