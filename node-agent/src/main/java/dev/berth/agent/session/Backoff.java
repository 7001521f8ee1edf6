package dev.berth.agent.session;

import java.time.Duration;
import java.util.Random;

/**
 * Bounded exponential backoff with "equal jitter": attempt n waits a random time in [cap/2, cap] where
 * cap = min(max, min * 2^n), so agents that lost the same leader spread out instead of reconnecting in
 * lockstep, yet never wait longer than {@code max}.
 *
 * <p>Thread model: not thread-safe (used from the event loop). The {@link Random} is injected so tests
 * are reproducible.
 */
public final class Backoff {
    private final Duration min;
    private final Duration max;
    private final Random random;
    private int attempt;

    public Backoff(Duration min, Duration max, Random random) {
        if (min.isNegative() || min.isZero() || max.compareTo(min) < 0) {
            throw new IllegalArgumentException("backoff needs 0 < min <= max, got " + min + ", " + max);
        }
        this.min = min;
        this.max = max;
        this.random = random;
    }

    /** Delay before the next attempt; each call doubles the cap until {@code max}. */
    public Duration next() {
        long cap = min.toNanos();
        for (int i = 0; i < attempt && cap < max.toNanos(); i++) {
            cap *= 2;
        }
        cap = Math.min(cap, max.toNanos());
        attempt++;
        long half = cap / 2;
        return Duration.ofNanos(half + (long) (random.nextDouble() * (cap - half)));
    }

    /** Called after a success: the next failure starts again from {@code min}. */
    public void reset() {
        attempt = 0;
    }
}
