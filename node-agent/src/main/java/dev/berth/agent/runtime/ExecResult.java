package dev.berth.agent.runtime;

/** Outcome of {@link ContainerRuntime#exec}: exit code (128+N for signal N) and captured output. */
public record ExecResult(int exitCode, String stdout, String stderr) {}
