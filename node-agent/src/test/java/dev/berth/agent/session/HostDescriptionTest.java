package dev.berth.agent.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.v1.NodeDescription;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostDescriptionTest {
    @TempDir
    Path root;

    private HostDescription fake(String layout) throws Exception {
        Path cg = root.resolve("cgroup");
        Path proc = root.resolve("proc");
        Files.createDirectories(proc.resolve("sys/kernel"));
        Files.writeString(proc.resolve("sys/kernel/hostname"), "worker-7\n");
        Files.writeString(proc.resolve("meminfo"), "MemTotal:       16384000 kB\nMemFree:         1000 kB\n");
        if (layout.equals("v2")) {
            Files.createDirectories(cg);
            Files.writeString(cg.resolve("cgroup.controllers"), "cpuset cpu io memory pids\n");
            Files.writeString(cg.resolve("cpuset.cpus.effective"), "0-3,6\n");
        } else {
            Files.createDirectories(cg.resolve("cpuset"));
            Files.createDirectories(cg.resolve("memory"));
            Files.writeString(cg.resolve("cpuset/cpuset.cpus"), "1\n");
        }
        return new HostDescription(cg, proc);
    }

    @Test
    void readsCapacityAndLayoutOfAV2Host() throws Exception {
        NodeDescription d = fake("v2").describe("10.0.0.7", "berth-agent test");
        assertThat(d.getCgroupVersion()).isEqualTo("v2");
        assertThat(d.getResources().getNanoCpus()).isEqualTo(5_000_000_000L);
        assertThat(d.getResources().getMemoryBytes()).isEqualTo(16384000L * 1024);
        assertThat(d.getHostname()).isEqualTo("worker-7");
        assertThat(d.getAddr()).isEqualTo("10.0.0.7");
        assertThat(d.getPlatform().getOs()).isEqualTo("linux");
    }

    @Test
    void readsAV1Host() throws Exception {
        HostDescription h = fake("v1");
        assertThat(h.cgroupVersion()).isEqualTo("v1");
        assertThat(h.cpus()).isEqualTo(1);
    }

    @Test
    void thisHostDescribesItself() {
        NodeDescription d = HostDescription.system().describe("", "x");
        assertThat(d.getResources().getNanoCpus()).isPositive();
        assertThat(d.getResources().getMemoryBytes()).isPositive();
        assertThat(d.getCgroupVersion()).isIn("v1", "v2");
    }

    @Test
    void cpuListsAndArchitectures() {
        assertThat(HostDescription.countCpuList("0-3,8,10-11")).isEqualTo(7);
        assertThatThrownBy(() -> HostDescription.countCpuList("3-1")).hasMessageContaining("reversed");
        assertThat(HostDescription.arch("x86_64")).isEqualTo("amd64");
        assertThat(HostDescription.arch("aarch64")).isEqualTo("arm64");
    }
}
