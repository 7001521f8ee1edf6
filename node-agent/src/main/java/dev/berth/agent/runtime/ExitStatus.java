package dev.berth.agent.runtime;

import java.time.Instant;
import java.util.Optional;

/**
 * How a container ended, as its monitor recorded it. {@code oomKilled} comes from the cgroup's
 * OOM-kill counter, not from the exit code. {@code startError} is set when the container's
 * process never ran (then the exit code is the launcher's 126/127).
 */
public record ExitStatus(int exitCode, int signal, boolean oomKilled, Instant finishedAt, Optional<String> startError) {}
