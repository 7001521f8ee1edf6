package dev.berth.agent.runtime;

import java.time.Instant;

/** One line of container output as the monitor logged it ({@code stream} is "stdout" or "stderr"). */
public record LogLine(Instant time, String stream, String text) {}
