package dev.berth.agent.image;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.registry.OciLayoutBuilder;
import dev.berth.registry.RegistryClient;
import dev.berth.registry.RegistryCredentials;
import dev.berth.registry.TarBuilder;
import dev.berth.registry.TestImages;
import dev.berth.registry.TestRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Image garbage collection against images pulled from a real registry: what goes (unused past the grace, or
 * under disk pressure past the floor), what stays (layers containers use, recent pulls, imported names, see RegistryPullTest), and
 * that collections running alongside pulls never break one.
 */
class ImageGcTest {
    private static Path fixtures;
    private static TestRegistry registry;
    private static String host;
    private Path store;
    private ExecutorService pool;
    private MutableClock clock;
    private ImageService images;

    /** A clock tests move by hand. */
    static final class MutableClock extends Clock {
        private volatile Instant now = Instant.parse("2026-11-23T12:00:00Z");

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }

    @BeforeAll
    static void pushImages() throws Exception {
        TestRegistry.requireTools("docker-registry", "skopeo", "umoci", "busybox");
        fixtures = Files.createTempDirectory("berth-gc");
        registry = TestRegistry.start();
        host = registry.host();
        TestImages.busybox(fixtures.resolve("busybox"));
        registry.push(fixtures.resolve("busybox"), "1", "busybox:1", null, null);
        registry.push(fixtures.resolve("busybox"), "2", "busybox:2", null, null);
        OciLayoutBuilder multi = new OciLayoutBuilder(fixtures.resolve("multi"));
        multi.tag("1", multi.image("arm64", List.of(new TarBuilder().file("arch", "arm64").tar()), Map.of("Cmd", List.of("x"))),
                multi.image("amd64", List.of(new TarBuilder().file("arch", "amd64").tar()), Map.of("Cmd", List.of("x"))));
        registry.push(fixtures.resolve("multi"), "1", "multi:1", null, null, "--all");
    }

    @AfterAll
    static void stopRegistry() throws Exception {
        if (registry != null) {
            registry.close();
        }
        if (fixtures != null) {
            TestFiles.deleteTree(fixtures);
        }
    }

    @BeforeEach
    void newStore() throws Exception {
        store = Files.createTempDirectory("berth-gc-store");
        pool = Executors.newFixedThreadPool(3);
        clock = new MutableClock();
        images = new ImageService(store, new RegistryClient(Set.of(), Duration.ofSeconds(5), Duration.ofSeconds(20),
                clock), pool, clock);
    }

    @AfterEach
    void cleanStore() throws Exception {
        pool.shutdownNow();
        TestFiles.deleteTree(store);
    }

    private PulledImage pull(String name) throws Exception {
        return images.pull(host + "/" + name, RegistryCredentials.anonymous());
    }

    @Test
    void unusedImagesGoAfterTheGraceWhileLayersContainersUseStay() throws Exception {
        PulledImage v1 = pull("busybox:1");
        PulledImage v2 = pull("busybox:2");
        PulledImage multi = pull("multi:1");
        List<List<Path>> v2InUse = List.of(v2.lowerDirs());

        // Within the grace: nothing goes, used or not.
        GcResult none = images.collect(List.of(), clock.instant().minus(Duration.ofHours(1)));
        assertThat(none.blobsRemoved() + none.layersRemoved()).isZero();

        clock.advance(Duration.ofHours(2));
        GcResult r = images.collect(v2InUse, clock.instant().minus(Duration.ofHours(1)));
        assertThat(r.imagesRemoved()).isEqualTo(2); // v1 and multi; v2's stack is in use (v1's base layer alone is not v1 in use)
        assertThat(r.layersRemoved()).isEqualTo(1); // multi's layer; busybox's base is shared with v2
        assertThat(r.blobsRemoved()).isEqualTo(6); // v1 manifest+config, multi index+manifest+config+layer
        assertThat(r.bytesFreed()).isPositive();
        v2.lowerDirs().forEach(d -> assertThat(d).isDirectory());
        assertThat(multi.lowerDirs().get(0)).doesNotExist();
        assertThat(store.resolve("blobs/sha256/" + v1.digest().hex())).doesNotExist();
        // v2 stays complete: it starts again with no registry at all.
        String dead = "127.0.0.1:" + TestRegistry.freePort();
        assertThat(images.pull(dead + "/busybox@" + v2.digest(), RegistryCredentials.anonymous()).lowerDirs())
                .isEqualTo(v2.lowerDirs());

        // That use counts as a pull: kept through the grace even once no container uses it ...
        assertThat(images.collect(List.of(), clock.instant().minus(Duration.ofHours(1))).layersRemoved()).isZero();
        // ... and gone after it.
        clock.advance(Duration.ofHours(2));
        GcResult all = images.collect(List.of(), clock.instant().minus(Duration.ofHours(1)));
        assertThat(all.layersRemoved()).isEqualTo(2);
        try (var s = Files.list(store.resolve("blobs/sha256"))) {
            assertThat(s).isEmpty();
        }
    }

    @Test
    void aLayerInUseIsNeverRemovedEvenWithoutAnImageRecord() throws Exception {
        PulledImage v2 = pull("busybox:2");
        Files.delete(store.resolve("pulled/" + v2.digest().hex())); // e.g. a store from before pull records
        Path top = v2.lowerDirs().get(0);
        GcResult r = images.collect(List.of(List.of(top)), clock.instant().plus(Duration.ofDays(1)));
        assertThat(top).isDirectory();
        assertThat(v2.lowerDirs().get(1)).doesNotExist(); // nothing holds the base layer
        assertThat(r.layersRemoved()).isEqualTo(1);
    }

    @Test
    void thePolicyUsesTheGraceNormallyAndTheFloorUnderDiskPressure() throws Exception {
        AtomicInteger diskPercent = new AtomicInteger(40);
        ImageGc gc = new ImageGc(images, List::of, diskPercent::get, clock,
                new ImageGc.Policy(Duration.ofMinutes(5), Duration.ofHours(1), Duration.ofMinutes(2), 85));
        PulledImage v1 = pull("busybox:1");
        clock.advance(Duration.ofMinutes(10));
        assertThat(gc.runOnce().layersRemoved()).isZero(); // 10 min < 1 h grace
        assertThat(v1.lowerDirs().get(0)).isDirectory();
        diskPercent.set(95);
        assertThat(gc.runOnce().layersRemoved()).isEqualTo(1); // 10 min > 2 min floor
        assertThat(v1.lowerDirs().get(0)).doesNotExist();
        PulledImage again = pull("busybox:1");
        assertThat(gc.runOnce().layersRemoved()).isZero(); // just pulled: inside the floor even under pressure
        assertThat(again.lowerDirs().get(0)).isDirectory();
    }

    @Test
    void collectionsAlongsidePullsNeverBreakOne() throws Exception {
        ExecutorService racers = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 6; round++) {
                List<Future<?>> fs = new ArrayList<>();
                fs.add(racers.submit(() -> pull(List.of("busybox:1", "busybox:2", "multi:1").get((int) (Math.random() * 3)))));
                // Everything unused is fair game for this collector: only the pull's lock protects it.
                fs.add(racers.submit(() -> images.collect(List.of(), clock.instant().plus(Duration.ofDays(1)))));
                for (Future<?> f : fs) {
                    f.get();
                }
            }
        } finally {
            racers.shutdownNow();
        }
        PulledImage last = pull("busybox:2");
        assertThat(Files.mismatch(last.lowerDirs().get(1).resolve("bin/busybox"), Path.of("/bin/busybox"))).isEqualTo(-1L);
        assertThat(last.lowerDirs().get(0).resolve("etc/v2")).hasContent("v2");
    }
}
