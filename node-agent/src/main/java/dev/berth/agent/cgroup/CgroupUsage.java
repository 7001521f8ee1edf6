package dev.berth.agent.cgroup;

/**
 * One reading of a container's cgroup: cumulative CPU time and current memory (without the
 * reclaimable page cache, as {@code docker stats} shows it).
 */
public record CgroupUsage(long cpuNanos, long memoryBytes) {}
