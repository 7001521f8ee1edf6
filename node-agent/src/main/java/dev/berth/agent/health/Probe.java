package dev.berth.agent.health;

import java.time.Duration;

/**
 * One kind of health probe. {@link #run} blocks (on a worker thread) for at most about {@code timeout} and
 * never throws: a probe that cannot run is a failed probe whose output says why.
 */
public interface Probe {
    Result run(Duration timeout);

    /** {@code healthy}: the probe passed. {@code output}: what to show the user (cut to 4 KiB as Docker does). */
    record Result(boolean healthy, String output) {
        static final int MAX_OUTPUT = 4096;

        public Result {
            output = output == null ? "" : output.strip();
            if (output.length() > MAX_OUTPUT) {
                output = output.substring(0, MAX_OUTPUT);
            }
        }
    }
}
