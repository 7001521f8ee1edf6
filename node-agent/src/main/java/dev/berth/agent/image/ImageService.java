package dev.berth.agent.image;

import dev.berth.registry.Digest;
import dev.berth.registry.ImageException;
import dev.berth.registry.ImageReference;
import dev.berth.registry.RegistryClient;
import dev.berth.registry.RegistryCredentials;
import dev.berth.registry.Manifest;
import dev.berth.registry.Descriptor;
import dev.berth.agent.fs.FileTrees;
import dev.berth.api.v1.ContainerSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * The node agent's images: pulls from OCI registries, imports OCI layout tars, keeps blobs in a
 * content-addressed store and layers unpacked once, and garbage-collects what no image in use needs.
 *
 * <p>Store layout under the directory given (e.g. {@code STATE/images}): {@code blobs/sha256/HEX},
 * {@code layers/sha256/DIFFID}, {@code refs.json} (names of imported images), {@code pulled/} (when each image
 * was last pulled, see {@link PullMarks}), {@code tmp/} (work in progress, emptied at start-up).
 *
 * <p>Thread model: every method is thread-safe and blocking; call them from worker threads, not event loops.
 * Concurrent pulls of one reference share one pull, concurrent fetches of one blob share one download, and
 * concurrent unpacks of one layer share one unpack. Layers of one image download on {@code executor} in
 * parallel. {@link #collect} waits for running pulls and imports, and they wait for it, so a collection never
 * removes what a pull is fetching or has just made.
 *
 * <p>Error contract: failures are {@link ImageException}s whose message is fit for a task's status (it names
 * the registry, image or blob) and whose {@link ImageException.Kind} says what happened. A failed operation
 * leaves no partial blob or layer under a content address; it may leave verified blobs that a retry reuses.
 */
public final class ImageService {
    private final BlobStore blobs;
    private final LayerStore layers;
    private final LocalRefs refs;
    private final RegistryClient registry;
    private final Executor executor;
    private final PullMarks marks;
    private final Clock clock;
    private final ReadWriteLock gcLock = new ReentrantReadWriteLock();
    private final ConcurrentHashMap<String, CompletableFuture<PulledImage>> pulls = new ConcurrentHashMap<>();

    /**
     * @param storeDir  directory owned by this service (created if missing; its tmp/ is emptied)
     * @param registry  registry client (its insecure hosts and timeouts apply)
     * @param executor  runs parallel layer downloads; must not be a direct executor shared with callers' locks
     * @param clock     stamps pulls, for {@link #collect}'s grace period
     */
    public ImageService(Path storeDir, RegistryClient registry, Executor executor, Clock clock)
            throws IOException, ImageException {
        Files.createDirectories(storeDir);
        FileTrees.deleteTree(storeDir.resolve("tmp"));
        this.blobs = new BlobStore(storeDir);
        this.layers = new LayerStore(storeDir, blobs, new LayerUnpacker(FsUtil.locate(storeDir.resolve("bin"))));
        this.refs = new LocalRefs(storeDir);
        this.registry = registry;
        this.executor = executor;
        this.marks = new PullMarks(storeDir);
        this.clock = clock;
    }

    /** Convenience: a service with its own registry client (30 s timeouts, system clock). */
    public static ImageService create(Path storeDir, Set<String> insecureRegistries, Executor executor)
            throws IOException, ImageException {
        return new ImageService(storeDir, new RegistryClient(insecureRegistries, Duration.ofSeconds(10),
                Duration.ofSeconds(30), Clock.systemUTC()), executor, Clock.systemUTC());
    }

    /**
     * Resolves a reference to the digest to pin (the manager calls this at service create). A digest reference
     * resolves to itself; a name imported locally resolves without a registry; otherwise the registry is asked.
     */
    public Digest resolve(String reference, RegistryCredentials creds) throws ImageException {
        ImageReference ref = ImageReference.parse(reference);
        if (ref.digest() != null) {
            return ref.digest();
        }
        Digest local = refs.get(ref).orElse(null);
        return local != null ? local : registry.resolve(ref, creds);
    }

    /**
     * Makes an image ready to run: fetches what is missing (nothing, if a digest reference is complete
     * locally), verifies every blob and unpacks every layer.
     */
    public PulledImage pull(String reference, RegistryCredentials creds) throws ImageException {
        ImageReference ref = ImageReference.parse(reference);
        String key = ref + "|" + (creds.isAnonymous() ? "" : creds.username());
        return Futures.shared(pulls, key, () -> locked(() -> {
            PulledImage pulled = doPull(ref, creds);
            try {
                marks.touch(pulled.digest(), clock.instant());
            } catch (IOException e) {
                throw new ImageException(ImageException.Kind.LOCAL_IO, "recording the pull of " + ref + ": "
                        + e.getMessage(), e);
            }
            return pulled;
        }));
    }

    /**
     * Pulls what a task's container needs: {@code spec.image} pinned to {@code spec.image_digest} when the
     * manager resolved one, with the {@code --with-registry-auth} credentials in {@code spec.registry_auth}.
     * Apply {@link ConfigMerger#merge} to the result's config and the spec to get the effective command.
     */
    public PulledImage pull(ContainerSpec spec) throws ImageException {
        ImageReference ref = ImageReference.parse(spec.getImage());
        if (!spec.getImageDigest().isEmpty()) {
            ref = ref.withDigest(Digest.parse(spec.getImageDigest()));
        }
        return pull(ref.toString(), RegistryCredentials.fromBase64(spec.getRegistryAuth()));
    }

    /**
     * Loads an OCI image-layout tar ({@code berth image import FILE}); see {@link ImageImporter} for naming.
     * Returns the imported images, ready to run.
     */
    public List<PulledImage> importLayout(Path tar, String defaultName) throws ImageException {
        List<ImageReference> imported = locked(() -> new ImageImporter(blobs, refs).load(tar, defaultName));
        List<PulledImage> out = new ArrayList<>();
        for (ImageReference r : imported) {
            out.add(pull(r.toString(), RegistryCredentials.anonymous()));
        }
        return out;
    }

    /**
     * Garbage-collects images. Kept: images pulled (or used to start a task) at or after {@code keepPulledSince};
     * images some container runs, i.e. whose layer stack is one of {@code stacksInUse} (the overlay lower dirs,
     * topmost first, of every container this node still has, running or not, and of tasks prepared but not yet
     * created); and locally imported names (they cannot be pulled again). Every other image's manifests, config,
     * layer blobs and unpacked layers go, as do blobs and layers no image references (left by a crash). A layer
     * directory in {@code stacksInUse} is never removed, whatever else holds. Waits for running pulls and imports;
     * they wait for it.
     */
    public GcResult collect(Collection<List<Path>> stacksInUse, Instant keepPulledSince) throws ImageException {
        gcLock.writeLock().lock();
        try {
            Path layerRoot = layers.root().toAbsolutePath().normalize();
            Set<List<Digest>> used = new HashSet<>();
            Set<Digest> liveLayers = new HashSet<>();
            for (List<Path> stack : stacksInUse) {
                List<Digest> ids = new ArrayList<>();
                for (Path p : stack) {
                    Path abs = p.toAbsolutePath().normalize();
                    if (layerRoot.equals(abs.getParent()) && abs.getFileName().toString().matches("[0-9a-f]{64}")) {
                        ids.add(new Digest(abs.getFileName().toString()));
                    }
                }
                used.add(ids);
                liveLayers.addAll(ids);
            }
            Set<Digest> liveBlobs = new HashSet<>();
            List<List<Digest>> liveStacks = new ArrayList<>();
            for (Digest root : refs.all().values()) {
                mark(root, liveBlobs, liveStacks);
            }
            int imagesRemoved = 0;
            for (Map.Entry<Digest, Instant> e : marks.all().entrySet()) {
                Set<Digest> imageBlobs = new HashSet<>();
                List<List<Digest>> imageStacks = new ArrayList<>();
                mark(e.getKey(), imageBlobs, imageStacks);
                if (!e.getValue().isBefore(keepPulledSince) || imageStacks.stream().anyMatch(used::contains)) {
                    liveBlobs.addAll(imageBlobs);
                    liveStacks.addAll(imageStacks);
                } else {
                    marks.forget(e.getKey());
                    imagesRemoved++;
                }
            }
            liveStacks.forEach(liveLayers::addAll);
            int blobsRemoved = 0;
            int layersRemoved = 0;
            long freed = 0;
            for (Digest d : blobs.list()) {
                if (!liveBlobs.contains(d)) {
                    freed += blobs.delete(d);
                    blobsRemoved++;
                }
            }
            for (Digest d : layers.list()) {
                if (!liveLayers.contains(d)) {
                    freed += layers.delete(d);
                    layersRemoved++;
                }
            }
            return new GcResult(imagesRemoved, blobsRemoved, layersRemoved, freed);
        } catch (IOException e) {
            throw new ImageException(ImageException.Kind.LOCAL_IO, "image garbage collection: " + e.getMessage(), e);
        } finally {
            gcLock.writeLock().unlock();
        }
    }

    /** The file system the store lives on (for disk-pressure checks). */
    public java.nio.file.FileStore fileStore() throws IOException {
        return Files.getFileStore(layers.root());
    }

    /** Layers unpacked since start (a layer shared by several images counts once). */
    public long layersUnpacked() {
        return layers.unpackCount();
    }

    /**
     * Adds the blobs reachable from manifest or index {@code d} to {@code liveBlobs}, and each image's layer
     * stack (diff ids, topmost first, as a container's lower dirs are) to {@code stacks}.
     */
    private void mark(Digest d, Set<Digest> liveBlobs, List<List<Digest>> stacks) throws ImageException {
        if (!blobs.has(d) || !liveBlobs.add(d)) {
            return;
        }
        Manifest m = Manifest.parse(blobs.read(d), null, d.toString());
        if (m instanceof Manifest.Index index) {
            for (Descriptor child : index.manifests()) {
                mark(child.digest(), liveBlobs, stacks);
            }
        } else if (m instanceof Manifest.Image image) {
            image.layers().forEach(l -> liveBlobs.add(l.digest()));
            if (blobs.has(image.config().digest())) {
                liveBlobs.add(image.config().digest());
                List<Digest> stack = new ArrayList<>(
                        ImageConfig.parse(blobs.read(image.config().digest()), d.toString()).diffIds());
                Collections.reverse(stack);
                stacks.add(stack);
            }
        }
    }

    private <T> T locked(Futures.Work<T> action) throws ImageException {
        gcLock.readLock().lock();
        try {
            return action.run();
        } finally {
            gcLock.readLock().unlock();
        }
    }

    private PulledImage doPull(ImageReference ref, RegistryCredentials creds) throws ImageException {
        Digest top = ref.digest() != null ? ref.digest() : refs.get(ref).orElse(null);
        byte[] topBytes;
        String contentType = null;
        if (top != null && blobs.has(top)) {
            topBytes = blobs.read(top);
        } else {
            RegistryClient.FetchedManifest fm = registry.manifest(ref, ref.manifestReference(), creds);
            top = fm.digest();
            topBytes = fm.body();
            contentType = fm.contentType();
            blobs.put(topBytes, top, "manifest of " + ref);
        }
        ImageReference pinned = ref.withDigest(top);
        Manifest m = Manifest.parse(topBytes, contentType, ref.toString());
        Digest manifestDigest = top;
        if (m instanceof Manifest.Index index) {
            Descriptor chosen = index.select("image " + ref);
            manifestDigest = chosen.digest();
            byte[] bytes;
            if (blobs.has(manifestDigest)) {
                bytes = blobs.read(manifestDigest);
            } else {
                RegistryClient.FetchedManifest fm = registry.manifest(ref, manifestDigest.toString(), creds);
                bytes = fm.body();
                contentType = fm.contentType();
                blobs.put(bytes, manifestDigest, "manifest of " + pinned);
            }
            m = Manifest.parse(bytes, contentType, pinned.toString());
            if (m instanceof Manifest.Index) {
                throw new ImageException(ImageException.Kind.UNSUPPORTED, "image " + ref + ": nested image index");
            }
        }
        Manifest.Image image = (Manifest.Image) m;
        Descriptor cfgDesc = image.config();
        blobs.ensure(cfgDesc.digest(), cfgDesc.size(), "config of " + ref,
                out -> registry.blob(ref, cfgDesc.digest(), creds, out));
        ImageConfig config = ImageConfig.parse(blobs.read(cfgDesc.digest()), ref.toString());
        if ((!config.os().isEmpty() && !config.os().equals("linux"))
                || (!config.architecture().isEmpty() && !config.architecture().equals("amd64"))) {
            throw new ImageException(ImageException.Kind.UNSUPPORTED, "image " + ref + " is for " + config.os() + "/"
                    + config.architecture() + ", this node runs " + Manifest.PLATFORM);
        }
        if (config.diffIds().size() != image.layers().size()) {
            throw new ImageException(ImageException.Kind.INVALID, "image " + ref + ": manifest has "
                    + image.layers().size() + " layers but its config lists " + config.diffIds().size() + " diff ids");
        }
        List<Path> dirs = fetchLayers(ref, image.layers(), config.diffIds(), creds);
        Collections.reverse(dirs);
        return new PulledImage(pinned, top, manifestDigest, config, List.copyOf(dirs));
    }

    /** Downloads and unpacks layers in parallel; waits for all before reporting the first failure. */
    private List<Path> fetchLayers(ImageReference ref, List<Descriptor> layerDescs, List<Digest> diffIds,
                                   RegistryCredentials creds) throws ImageException {
        List<CompletableFuture<Path>> futures = new ArrayList<>();
        for (int i = 0; i < layerDescs.size(); i++) {
            Descriptor layer = layerDescs.get(i);
            Digest diffId = diffIds.get(i);
            String what = "layer " + layer.digest() + " of " + ref;
            futures.add(CompletableFuture.supplyAsync(() -> {
                try {
                    if (layers.has(diffId)) {
                        return layers.path(diffId);
                    }
                    blobs.ensure(layer.digest(), layer.size(), what, out -> registry.blob(ref, layer.digest(), creds, out));
                    return layers.ensure(layer.digest(), diffId, what);
                } catch (ImageException e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            }, executor));
        }
        List<Path> dirs = new ArrayList<>();
        ImageException first = null;
        for (CompletableFuture<Path> f : futures) {
            try {
                dirs.add(Futures.await(f));
            } catch (ImageException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        if (first != null) {
            throw first;
        }
        return dirs;
    }

    /** Locally known names of imported images (canonical reference → digest). */
    public Map<String, Digest> localNames() {
        return refs.all();
    }
}
