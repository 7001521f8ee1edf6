package dev.berth.agent.health;

import dev.berth.agent.loop.Scheduler;
import dev.berth.api.v1.HealthCheck;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Executor;

/**
 * Runs one container's health check with Docker's semantics (daemon/health.go):
 * <ul>
 *   <li>status starts as "starting"; the first probe runs one interval after the container started, and
 *       each next one an interval after the previous finished;</li>
 *   <li>a probe that does not finish within the timeout fails ("health check exceeded timeout");</li>
 *   <li>a pass makes the status "healthy" and resets the failing streak;</li>
 *   <li>a failure adds to the streak, except while the status is still "starting" and the probe began
 *       within the start period; once the streak reaches retries, the status is "unhealthy".</li>
 * </ul>
 * Unlike Docker, the monitor stops at "unhealthy": Berth fails the task and the manager replaces it.
 *
 * <p>Thread model: every method and every listener call runs on the scheduler's loop; probes run on the
 * worker executor and their results are posted back to the loop, so a late result after a timeout or a
 * {@link #stop} is ignored. Error contract: probes never throw; failures are results.
 */
public final class HealthMonitor {
    public static final String STARTING = "starting";
    public static final String HEALTHY = "healthy";
    public static final String UNHEALTHY = "unhealthy";

    /** Told (on the loop) whenever the status changes. {@code lastOutput} is the last probe's output. */
    @FunctionalInterface
    public interface Listener {
        void healthChanged(String status, String lastOutput);
    }

    private final HealthCheck check;
    private final Probe probe;
    private final Scheduler loop;
    private final Executor worker;
    private final Instant containerStarted;
    private final Listener listener;

    private String status = STARTING;
    private int failingStreak;
    private long probeSeq;
    private long inFlight = -1;
    private boolean stopped;
    private Scheduler.Cancellable timer;

    public HealthMonitor(HealthCheck check, Probe probe, Scheduler loop, Executor worker,
                         Instant containerStarted, Listener listener) {
        this.check = check;
        this.probe = probe;
        this.loop = loop;
        this.worker = worker;
        this.containerStarted = containerStarted;
        this.listener = listener;
    }

    /** Reports "starting" and schedules the first probe. */
    public void start() {
        listener.healthChanged(STARTING, "");
        scheduleNext();
    }

    public void stop() {
        stopped = true;
        cancelTimer();
    }

    public String status() {
        return status;
    }

    public int failingStreak() {
        return failingStreak;
    }

    private void scheduleNext() {
        timer = loop.schedule(Duration.ofMillis(check.getIntervalMs()), this::runProbe);
    }

    private void runProbe() {
        if (stopped) {
            return;
        }
        long seq = ++probeSeq;
        inFlight = seq;
        Instant probeStart = loop.clock().instant();
        Duration timeout = Duration.ofMillis(check.getTimeoutMs());
        timer = loop.schedule(timeout, () -> finished(seq, probeStart,
                new Probe.Result(false, "health check exceeded timeout (" + timeout.toMillis() + " ms)")));
        worker.execute(() -> {
            Probe.Result r = probe.run(timeout);
            loop.execute(() -> finished(seq, probeStart, r));
        });
    }

    private void finished(long seq, Instant probeStart, Probe.Result result) {
        if (stopped || seq != inFlight) {
            return; // a late result after a timeout, or after stop
        }
        inFlight = -1;
        cancelTimer();
        if (result.healthy()) {
            failingStreak = 0;
            setStatus(HEALTHY, result.output());
        } else {
            boolean inStartPeriod = status.equals(STARTING)
                    && Duration.between(containerStarted, probeStart).toMillis() < check.getStartPeriodMs();
            if (!inStartPeriod) {
                failingStreak++;
                if (failingStreak >= check.getRetries()) {
                    stopped = true;
                    setStatus(UNHEALTHY, result.output());
                    return;
                }
            }
        }
        scheduleNext();
    }

    private void setStatus(String next, String output) {
        if (!next.equals(status)) {
            status = next;
            listener.healthChanged(next, output);
        }
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel();
            timer = null;
        }
    }
}
