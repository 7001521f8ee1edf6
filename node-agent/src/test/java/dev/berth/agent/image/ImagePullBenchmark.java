package dev.berth.agent.image;

import dev.berth.registry.TarBuilder;
import dev.berth.registry.RegistryCredentials;
import dev.berth.registry.TestRegistry;
import dev.berth.registry.TestImages;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Benchmark harness (a main, kept out of {@code mvn verify}): cold pull of the umoci busybox image from a local
 * docker-registry into an empty store, warm pull of the pinned digest (everything local), and unpack
 * throughput of a synthetic gzip layer. Run as root with docker-registry, skopeo, umoci, busybox-static:
 * <pre>
 * mvn -o -q -pl node-agent -am test-compile org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
 *     -Dmdep.outputFile=/tmp/berth-cp.txt -Dmdep.includeScope=test
 * java -cp node-agent/target/test-classes:node-agent/target/classes:proto/target/classes:$(cat /tmp/berth-cp.txt) \
 *     dev.berth.agent.image.ImagePullBenchmark [runs]
 * </pre>
 */
public final class ImagePullBenchmark {
    private ImagePullBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        Path work = Files.createTempDirectory("berth-bench");
        ExecutorService pool = Executors.newFixedThreadPool(3);
        try (TestRegistry registry = TestRegistry.start()) {
            TestImages.busybox(work.resolve("layout"));
            registry.push(work.resolve("layout"), "2", "busybox:2", null, null);
            String ref = registry.host() + "/busybox:2";
            List<Double> cold = new ArrayList<>();
            List<Double> warm = new ArrayList<>();
            for (int i = 0; i < runs; i++) {
                Path store = work.resolve("store-" + i);
                ImageService images = ImageService.create(store, Set.of(), pool);
                long t0 = System.nanoTime();
                PulledImage img = images.pull(ref, RegistryCredentials.anonymous());
                cold.add((System.nanoTime() - t0) / 1e6);
                long t1 = System.nanoTime();
                images.pull(registry.host() + "/busybox@" + img.digest(), RegistryCredentials.anonymous());
                warm.add((System.nanoTime() - t1) / 1e6);
                TestFiles.deleteTree(store);
            }
            report("cold pull busybox:2 (2 layers, ~1.1 MB) from loopback registry", cold);
            report("warm pull by pinned digest (all local)", warm);

            TarBuilder tb = new TarBuilder();
            java.util.Random rnd = new java.util.Random(1);
            long raw = 0;
            for (int i = 0; i < 2000; i++) {
                byte[] data = new byte[16 * 1024 + rnd.nextInt(16 * 1024)];
                rnd.nextBytes(data);
                raw += data.length;
                tb.file("d" + (i % 50) + "/f" + i, new String(data, java.nio.charset.StandardCharsets.ISO_8859_1),
                        0644, 0, 0, java.util.Map.of());
            }
            byte[] gz = TarBuilder.gzip(tb.tar());
            Path gzFile = work.resolve("layer.tar.gz");
            Files.write(gzFile, gz);
            LayerUnpacker unpacker = new LayerUnpacker(FsUtil.locate(work.resolve("bin")));
            var threads = java.lang.management.ManagementFactory.getThreadMXBean();
            List<Double> unpack = new ArrayList<>();
            List<Double> unpackCpu = new ArrayList<>();
            List<Double> gnuTar = new ArrayList<>();
            for (int i = 0; i < Math.max(3, runs / 4); i++) {
                Path root = Files.createTempDirectory(work, "unpack");
                long c0 = threads.getCurrentThreadCpuTime();
                long t0 = System.nanoTime();
                unpacker.unpack(new ByteArrayInputStream(gz), root, "bench layer");
                unpack.add((System.nanoTime() - t0) / 1e6);
                unpackCpu.add((threads.getCurrentThreadCpuTime() - c0) / 1e6);
                TestFiles.deleteTree(root);
                Path tarRoot = Files.createTempDirectory(work, "gnutar");
                long t1 = System.nanoTime();
                TestRegistry.run(List.of("tar", "--same-owner", "-xzf", gzFile.toString(), "-C", tarRoot.toString()));
                gnuTar.add((System.nanoTime() - t1) / 1e6);
                TestFiles.deleteTree(tarRoot);
            }
            String layer = "gzip layer, 2000 files, " + raw / (1 << 20) + " MiB";
            report("unpack " + layer + ", Berth (wall)", unpack);
            report("unpack " + layer + ", Berth (CPU of unpacking thread)", unpackCpu);
            report("unpack " + layer + ", GNU tar -xzf (wall), same run", gnuTar);
        } finally {
            pool.shutdownNow();
            TestFiles.deleteTree(work);
        }
        System.exit(0);
    }

    private static void report(String what, List<Double> ms) {
        List<Double> s = new ArrayList<>(ms);
        Collections.sort(s);
        System.out.printf("%-70s n=%d median %.1f ms  p90 %.1f ms  min %.1f ms%n", what, s.size(),
                s.get(s.size() / 2), s.get((int) Math.min(s.size() - 1, Math.round(s.size() * 0.9))), s.get(0));
    }
}
