package dev.berth.agent.runtime;

/** Resource use of a running container for heartbeats: CPU as nano-CPUs averaged since the last reading. */
public record ContainerUsage(long nanoCpus, long memoryBytes) {}
