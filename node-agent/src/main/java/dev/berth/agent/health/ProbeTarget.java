package dev.berth.agent.health;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;

/**
 * What a health probe needs from the running container: a way to run a command inside it (CMD /
 * CMD-SHELL checks) and the address its ports are reachable at (HTTP and TCP probes).
 *
 * <p>Thread model: called from a worker thread, never from the event loop (calls may block up to the
 * probe's timeout). Error contract: an exception from {@link #exec} counts as a failed probe whose output
 * is the exception's message.
 */
public interface ProbeTarget {
    ExecResult exec(List<String> argv, Duration timeout) throws Exception;

    InetAddress address();
}
