package dev.berth.agent.loop;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Executor;

/** A worker executor for tests: queued work runs only when the test calls {@link #runAll} or {@link #runNext}. */
public final class ManualExecutor implements Executor {
    private final Deque<Runnable> queue = new ArrayDeque<>();

    @Override
    public synchronized void execute(Runnable r) {
        queue.add(r);
    }

    public boolean runNext() {
        Runnable r;
        synchronized (this) {
            r = queue.poll();
        }
        if (r != null) {
            r.run();
        }
        return r != null;
    }

    public void runAll() {
        while (runNext()) {
            // keep going: work may queue more work
        }
    }

    public synchronized int pending() {
        return queue.size();
    }
}
