package dev.berth.agent.loop;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.PriorityQueue;

/**
 * A {@link Scheduler} for tests: time moves only when the test calls {@link #advance}; tasks run on the
 * test's thread when the test calls {@link #runPending} or {@link #advance}. Optionally also serves as the
 * worker executor (so blocking work runs only when the test lets it).
 */
public final class ManualScheduler implements Scheduler {
    private Instant now = Instant.parse("2026-01-01T00:00:00Z");
    private long seq;
    private final PriorityQueue<Timed> timers = new PriorityQueue<>();
    private final Deque<Runnable> ready = new ArrayDeque<>();

    private final class Timed implements Comparable<Timed> {
        final Instant due;
        final long order = seq++;
        final Runnable task;
        boolean cancelled;

        Timed(Instant due, Runnable task) {
            this.due = due;
            this.task = task;
        }

        @Override
        public int compareTo(Timed o) {
            int c = due.compareTo(o.due);
            return c != 0 ? c : Long.compare(order, o.order);
        }
    }

    private final Clock clock = new Clock() {
        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Instant instant() {
            return now;
        }
    };

    @Override
    public Clock clock() {
        return clock;
    }

    @Override
    public synchronized Cancellable schedule(Duration delay, Runnable task) {
        Timed t = new Timed(now.plus(delay.isNegative() ? Duration.ZERO : delay), task);
        timers.add(t);
        return () -> t.cancelled = true;
    }

    @Override
    public synchronized void execute(Runnable task) {
        ready.add(task);
    }

    /** Runs every ready task and every timer due now, until none is left. */
    public void runPending() {
        while (true) {
            Runnable r;
            synchronized (this) {
                r = ready.poll();
                if (r == null) {
                    Timed t = timers.peek();
                    if (t != null && !t.due.isAfter(now)) {
                        timers.poll();
                        r = t.cancelled ? () -> { } : t.task;
                    }
                }
            }
            if (r == null) {
                return;
            }
            r.run();
        }
    }

    /** Moves time forward by {@code d}, firing timers in due order at their due times. */
    public void advance(Duration d) {
        Instant end = now.plus(d);
        runPending();
        while (true) {
            Timed next;
            synchronized (this) {
                next = timers.peek();
                if (next == null || next.due.isAfter(end)) {
                    break;
                }
                if (next.due.isAfter(now)) {
                    now = next.due;
                }
            }
            runPending();
        }
        now = end;
        runPending();
    }

    public Instant now() {
        return now;
    }
}
