package dev.berth.registry;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Builds a real image layout with umoci from busybox-static: tag "1" is one layer (busybox plus a few files,
 * config with Entrypoint, Cmd, Env, WorkingDir, StopSignal, ExposedPorts); tag "2" adds a layer on top that
 * deletes /etc/motd and adds /etc/v2 (umoci writes the deletion as a whiteout).
 */
public final class TestImages {
    private TestImages() {
    }

    public static void busybox(Path layout) throws Exception {
        TestRegistry.requireTools("umoci", "busybox");
        Path busybox = Path.of("/bin/busybox");
        String l = layout.toString();
        Path bundle = layout.resolveSibling(layout.getFileName() + "-bundle");
        TestRegistry.run(List.of("umoci", "init", "--layout", l));
        TestRegistry.run(List.of("umoci", "new", "--image", l + ":base"));
        TestRegistry.run(List.of("umoci", "unpack", "--image", l + ":base", bundle.toString()));
        Path rootfs = bundle.resolve("rootfs");
        Files.createDirectories(rootfs.resolve("bin"));
        Files.createDirectories(rootfs.resolve("etc"));
        Files.copy(busybox, rootfs.resolve("bin/busybox"));
        Files.createSymbolicLink(rootfs.resolve("bin/sh"), Path.of("busybox"));
        Files.writeString(rootfs.resolve("etc/motd"), "hello from v1\n");
        TestRegistry.run(List.of("umoci", "repack", "--image", l + ":base", bundle.toString()));
        TestRegistry.deleteTree(bundle);
        TestRegistry.run(List.of("umoci", "config", "--image", l + ":base", "--tag", "1",
                "--config.entrypoint", "/bin/sh", "--config.cmd", "-c", "--config.cmd", "echo hi",
                "--config.env", "FOO=bar", "--config.env", "PATH=/bin", "--config.workingdir", "/tmp",
                "--config.stopsignal", "SIGQUIT", "--config.exposedports", "8080/tcp",
                "--architecture", "amd64", "--os", "linux"));
        TestRegistry.run(List.of("umoci", "unpack", "--image", l + ":1", bundle.toString()));
        Files.delete(bundle.resolve("rootfs/etc/motd"));
        Files.writeString(bundle.resolve("rootfs/etc/v2"), "v2\n");
        TestRegistry.run(List.of("umoci", "repack", "--image", l + ":2", bundle.toString()));
        TestRegistry.deleteTree(bundle);
    }
}
