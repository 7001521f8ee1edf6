package dev.berth.agent.image;

import dev.berth.registry.ImageException;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * When the node agent collects images ({@link ImageService#collect}): on a timer, images neither used by a
 * container nor pulled within {@link Policy#grace()}; when the store's disk is fuller than
 * {@link Policy#highUsePercent()}, every image no container uses that was not pulled within
 * {@link Policy#minAge()} (a floor that covers a task between its pull and its container's creation). Like
 * kubelet's image GC with its high threshold, minus the "oldest first until the low threshold" refinement:
 * unused images are cheap to pull again, and one sweep keeps the logic obvious.
 *
 * <p>Thread model: {@link #runOnce} may be called from any thread (collections serialize inside
 * {@link ImageService}); {@link #start} schedules it on the given executor. Errors are logged, never thrown
 * from the timer, so a failing collection does not stop later ones.
 */
public final class ImageGc implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ImageGc.class.getName());

    /**
     * @param interval       time between timer runs
     * @param grace          an image pulled this recently is kept even if unused
     * @param minAge         under disk pressure, an image pulled this recently is still kept
     * @param highUsePercent disk use of the store's file system above which grace is ignored
     */
    public record Policy(Duration interval, Duration grace, Duration minAge, int highUsePercent) {
        /** Every 5 minutes; unused images go after 1 hour, or after 2 minutes once the disk is 85% full. */
        public static Policy defaults() {
            return new Policy(Duration.ofMinutes(5), Duration.ofHours(1), Duration.ofMinutes(2), 85);
        }
    }

    /** Percent of the store's file system in use; an interface so tests can simulate a full disk. */
    public interface DiskUse {
        int percent() throws IOException;

        static DiskUse of(FileStore store) {
            return () -> {
                long total = store.getTotalSpace();
                return total == 0 ? 0 : (int) (100 * (total - store.getUsableSpace()) / total);
            };
        }
    }

    /** How often the timer looks at disk use between collections. */
    static final Duration DISK_CHECK = Duration.ofSeconds(30);

    private final ImageService images;
    private final Supplier<? extends Collection<List<Path>>> stacksInUse;
    private final DiskUse disk;
    private final Clock clock;
    private final Policy policy;
    private ScheduledFuture<?> timer;
    private Instant lastRun;

    /**
     * @param stacksInUse overlay lower dirs (topmost first) of every container the node has (including adopted
     *                    ones) and of tasks prepared but not yet created; called once per run
     */
    public ImageGc(ImageService images, Supplier<? extends Collection<List<Path>>> stacksInUse, DiskUse disk, Clock clock, Policy policy) {
        this.images = images;
        this.stacksInUse = stacksInUse;
        this.disk = disk;
        this.clock = clock;
        this.policy = policy;
    }

    /** One collection, by the policy; returns what it removed. */
    public GcResult runOnce() throws ImageException, IOException {
        int used = disk.percent();
        Duration keep = used > policy.highUsePercent() ? policy.minAge() : policy.grace();
        Instant since = clock.instant().minus(keep);
        GcResult r = images.collect(stacksInUse.get(), since);
        if (r.blobsRemoved() + r.layersRemoved() > 0) {
            LOG.log(System.Logger.Level.INFO, "image gc (disk " + used + "% used, keeping images pulled within "
                    + keep + "): removed " + r.imagesRemoved() + " image(s), " + r.blobsRemoved() + " blob(s), "
                    + r.layersRemoved() + " layer(s), " + r.bytesFreed() + " bytes");
        }
        return r;
    }

    /**
     * Runs {@link #runOnce} every {@link Policy#interval()}, and sooner when a disk check (at most every
     * {@link #DISK_CHECK}) finds the store's disk over the threshold.
     */
    public synchronized void start(ScheduledExecutorService executor) {
        lastRun = clock.instant();
        long ms = Math.min(policy.interval().toMillis(), DISK_CHECK.toMillis());
        timer = executor.scheduleWithFixedDelay(this::tick, ms, ms, TimeUnit.MILLISECONDS);
    }

    private void tick() {
        try {
            if (!clock.instant().isBefore(lastRun.plus(policy.interval())) || disk.percent() > policy.highUsePercent()) {
                lastRun = clock.instant();
                runOnce();
            }
        } catch (ImageException | IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "image gc failed: " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() {
        if (timer != null) {
            timer.cancel(false);
        }
    }
}
