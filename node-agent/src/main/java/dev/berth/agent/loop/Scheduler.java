package dev.berth.agent.loop;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executor;

/**
 * The agent's notion of time and of "later": every timer (heartbeats, reconnect backoff, health probe
 * intervals and timeouts) goes through this, so tests drive time with a manual implementation instead of
 * sleeping.
 *
 * <p>Thread model: an implementation runs every submitted task on ONE thread, one at a time, in
 * submission/due order. Code that only mutates its state from tasks run here needs no locks. {@link
 * #execute} may be called from any thread.
 *
 * <p>Error contract: an exception thrown by a task is logged by the implementation and does not stop the
 * loop.
 */
public interface Scheduler extends Executor {

    /** Clock whose "now" matches this scheduler's notion of due times. */
    Clock clock();

    /** Runs {@code task} on the loop after {@code delay} (zero or negative: as soon as possible). */
    Cancellable schedule(Duration delay, Runnable task);

    /** Runs {@code task} on the loop as soon as possible. */
    @Override
    void execute(Runnable task);

    /** A scheduled task that may be cancelled; cancelling a task that already ran does nothing. */
    interface Cancellable {
        void cancel();
    }
}
