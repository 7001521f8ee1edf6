package dev.berth.agent.image;

import dev.berth.registry.TarBuilder;
import dev.berth.registry.Digest;
import dev.berth.registry.ImageException;
import dev.berth.registry.TestRegistry;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Layer unpacking against real files, devices, xattrs and a real overlayfs mount (needs root, as in CI). */
class LayerUnpackerTest {
    private Path work;
    private LayerUnpacker unpacker;
    private final List<Path> mounts = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        assumeTrue(((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0,
                "needs root: layers carry owners, device nodes and trusted.* xattrs");
        work = Files.createTempDirectory("berth-unpack");
        unpacker = new LayerUnpacker(FsUtil.locate(work.resolve("bin")));
    }

    @AfterEach
    void tearDown() throws Exception {
        for (Path m : mounts) {
            TestRegistry.run(List.of("umount", m.toString()));
        }
        if (work != null) {
            TestFiles.deleteTree(work);
        }
    }

    private Path unpack(byte[] blob) throws Exception {
        Path root = Files.createTempDirectory(work, "layer");
        unpacker.unpack(new ByteArrayInputStream(blob), root, "test layer");
        return root;
    }

    @Test
    void keepsEveryEntryTypeAndItsMetadata() throws Exception {
        String longName = "deep/" + "d".repeat(120) + "/" + "f".repeat(130) + ".txt";
        byte[] tar = new TarBuilder()
                .dir("./", 0755)
                .dir("etc", 0750)
                .file("etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0644, 0, 0, Map.of())
                .file("bin/su", "#!/bin/sh\n", 04755, 1000, 1001, Map.of("SCHILY.xattr.user.berth", "yes"))
                .file(longName, "long", 0600, 0, 0, Map.of())
                .symlink("bin/sh", "/bin/busybox")
                .hardlink("bin/su2", "bin/su")
                .device("dev/null", TarConstants.LF_CHR, 1, 3, 0666)
                .device("dev/loop0", TarConstants.LF_BLK, 7, 0, 0660)
                .device("run/fifo", TarConstants.LF_FIFO, 0, 0, 0600)
                .tar();
        Path root = Files.createTempDirectory(work, "layer");
        Digest diffId = unpacker.unpack(new ByteArrayInputStream(TarBuilder.gzip(tar)), root, "test layer");

        assertThat(diffId).isEqualTo(Digest.of(tar));
        assertThat(mode(root.resolve("etc"))).isEqualTo(040750);
        Path su = root.resolve("bin/su");
        assertThat(mode(su)).isEqualTo(0104755);
        assertThat(Files.getAttribute(su, "unix:uid")).isEqualTo(1000);
        assertThat(Files.getAttribute(su, "unix:gid")).isEqualTo(1001);
        assertThat(Files.getLastModifiedTime(su)).isEqualTo(FileTime.fromMillis(1_000_000_000_000L));
        UserDefinedFileAttributeView xattrs = Files.getFileAttributeView(su, UserDefinedFileAttributeView.class);
        ByteBuffer value = ByteBuffer.allocate(16);
        xattrs.read("berth", value);
        assertThat(new String(value.array(), 0, value.position())).isEqualTo("yes");
        assertThat(Files.readString(root.resolve(longName))).isEqualTo("long");
        assertThat(Files.readSymbolicLink(root.resolve("bin/sh"))).isEqualTo(Path.of("/bin/busybox"));
        assertThat(Files.getAttribute(root.resolve("bin/su2"), "unix:ino")).isEqualTo(Files.getAttribute(su, "unix:ino"));
        assertThat(mode(root.resolve("dev/null"))).isEqualTo(0020666);
        assertThat(Files.getAttribute(root.resolve("dev/null"), "unix:rdev")).isEqualTo((1L << 8) | 3L);
        assertThat(mode(root.resolve("dev/loop0"))).isEqualTo(0060660);
        assertThat(mode(root.resolve("run/fifo"))).isEqualTo(0010600);
    }

    @Test
    void readsPlainAndZstdLayersLikeGzip() throws Exception {
        byte[] tar = new TarBuilder().file("hello", "world").tar();
        byte[] zstd = new byte[tar.length + 1024];
        int n = new io.airlift.compress.zstd.ZstdCompressor().compress(tar, 0, tar.length, zstd, 0, zstd.length);
        for (byte[] blob : List.of(tar, java.util.Arrays.copyOf(zstd, n))) {
            Path root = Files.createTempDirectory(work, "layer");
            assertThat(unpacker.unpack(new ByteArrayInputStream(blob), root, "l")).isEqualTo(Digest.of(tar));
            assertThat(Files.readString(root.resolve("hello"))).isEqualTo("world");
        }
    }

    @Test
    void whiteoutsAndOpaqueDirsBehaveAsOverlayfsExpects() throws Exception {
        Path lower = unpack(new TarBuilder()
                .file("gone.txt", "deleted above")
                .file("kept.txt", "still here")
                .file("opaque/old-1", "hidden")
                .file("opaque/old-2", "hidden")
                .file("merged/lower-only", "visible")
                .tar());
        Path upper = unpack(new TarBuilder()
                .file(".wh.gone.txt", "")
                .dir("opaque", 0755)
                .file("opaque/.wh..wh..opq", "")
                .file("opaque/new", "only this")
                .file("merged/upper-only", "visible too")
                .tar());
        Path whiteout = upper.resolve("gone.txt");
        assertThat(mode(whiteout) & 0170000).isEqualTo(0020000);
        assertThat(Files.getAttribute(whiteout, "unix:rdev")).isEqualTo(0L);
        assertThat(upper.resolve(".wh.gone.txt")).doesNotExist();

        Path mnt = Files.createDirectory(work.resolve("mnt"));
        TestRegistry.run(List.of("mount", "-t", "overlay", "overlay", "-o",
                "lowerdir=" + upper + ":" + lower, mnt.toString()));
        mounts.add(mnt);
        assertThat(mnt.resolve("gone.txt")).doesNotExist();
        assertThat(mnt.resolve("kept.txt")).hasContent("still here");
        try (var s = Files.list(mnt.resolve("opaque"))) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("new");
        }
        try (var s = Files.list(mnt.resolve("merged"))) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("lower-only", "upper-only");
        }
    }

    @Test
    void refusesEntriesThatEscapeTheRoot() throws Exception {
        Path outside = Files.createDirectory(work.resolve("outside"));
        List<byte[]> evil = List.of(
                new TarBuilder().file("../escaped", "x").tar(),
                new TarBuilder().file("ok/../../escaped", "x").tar(),
                new TarBuilder().file("/abs", "x").tar(),
                new TarBuilder().symlink("a", outside.toString()).file("a/escaped", "x").tar(),
                new TarBuilder().symlink("b", "../../../../../../" + outside).file("b/escaped", "x").tar(),
                new TarBuilder().dir("d", 0755).symlink("d/up", "/").file("d/up" + outside + "/escaped", "x").tar(),
                new TarBuilder().hardlink("h", "../../../../../../" + outside + "/target").tar(),
                new TarBuilder().symlink("s", outside.toString()).hardlink("h", "s/target").tar(),
                new TarBuilder().file("x/.wh...", "").tar());
        Files.writeString(outside.resolve("target"), "host file");
        for (byte[] tar : evil) {
            Path root = Files.createTempDirectory(work, "layer");
            assertThatThrownBy(() -> unpacker.unpack(new ByteArrayInputStream(tar), root, "evil layer"))
                    .isInstanceOf(ImageException.class)
                    .hasMessageContaining("evil layer: refused tar entry")
                    .satisfies(e -> assertThat(((ImageException) e).kind()).isEqualTo(ImageException.Kind.INVALID));
        }
        try (var s = Files.list(outside)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("target");
        }
        assertThat(work.getParent().resolve("escaped")).doesNotExist();
        assertThat(Path.of("/abs")).doesNotExist();
    }

    @Test
    void layerStoreUnpacksOnceAndDiscardsRefusedLayers() throws Exception {
        Path storeRoot = work.resolve("store");
        BlobStore blobs = new BlobStore(storeRoot);
        LayerStore layers = new LayerStore(storeRoot, blobs, unpacker);
        byte[] tar = new TarBuilder().file("a", "b").tar();
        byte[] gz = TarBuilder.gzip(tar);
        Digest blob = Digest.of(gz);
        blobs.put(gz, blob, "layer");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Path>> results = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                results.add(pool.submit(() -> {
                    go.await();
                    return layers.ensure(blob, Digest.of(tar), "layer");
                }));
            }
            go.countDown();
            for (Future<Path> f : results) {
                assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo(layers.path(Digest.of(tar)));
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(layers.unpackCount()).isEqualTo(1);

        byte[] evil = TarBuilder.gzip(new TarBuilder().file("fine", "x").symlink("a", "/etc").file("a/passwd", "x").tar());
        Digest evilBlob = Digest.of(evil);
        blobs.put(evil, evilBlob, "evil");
        Digest evilDiff = Digest.of(new TarBuilder().tar());
        assertThatThrownBy(() -> layers.ensure(evilBlob, evilDiff, "evil layer"))
                .hasMessageContaining("refused tar entry 'a/passwd'").hasMessageContaining("symlink 'a'");
        assertThat(layers.has(evilDiff)).isFalse();
        try (var s = Files.list(blobs.tmpDir())) {
            assertThat(s).isEmpty();
        }

        Digest wrongDiff = Digest.of(new byte[] {1});
        assertThatThrownBy(() -> layers.ensure(blob, wrongDiff, "lying layer"))
                .hasMessageContaining("image config names diff id " + wrongDiff);
        assertThat(layers.has(wrongDiff)).isFalse();
    }

    private static int mode(Path p) throws IOException {
        return (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    }
}
