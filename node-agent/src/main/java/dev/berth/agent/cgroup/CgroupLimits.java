package dev.berth.agent.cgroup;

import dev.berth.api.v1.ResourceRequirements;

/**
 * Resource controls for one container's cgroup, in the units of the API (nano-CPUs, bytes).
 * Zero means "no limit" / "default" for every field except {@code pidsLimit}, which is always
 * set: a container without a pids limit can fork-bomb its host.
 */
public record CgroupLimits(long cpuLimitNanoCpus, long cpuReservationNanoCpus, long memoryBytes, long pidsLimit) {
  public static final long DEFAULT_PIDS_LIMIT = 1024;
  /** CFS period used for CPU quotas (the kernel's and Docker's default). */
  public static final long CFS_PERIOD_US = 100_000;

  public CgroupLimits {
    if (cpuLimitNanoCpus < 0 || cpuReservationNanoCpus < 0 || memoryBytes < 0 || pidsLimit <= 0) {
      throw new IllegalArgumentException("invalid cgroup limits: cpu limit " + cpuLimitNanoCpus + ", cpu reservation "
          + cpuReservationNanoCpus + ", memory " + memoryBytes + ", pids " + pidsLimit
          + " (none may be negative; pids must be positive)");
    }
    if (cpuLimitNanoCpus > 0 && cpuLimitNanoCpus < 1_000_000) {
      throw new IllegalArgumentException("CPU limit " + cpuLimitNanoCpus + " nano-CPUs is below the minimum of 0.001 CPU");
    }
    if (memoryBytes > 0 && memoryBytes < 6 * 1024 * 1024) {
      throw new IllegalArgumentException("memory limit " + memoryBytes + " bytes is below the minimum of 6 MiB");
    }
  }

  /** From the task's resource requirements; {@code defaultPids} applies when the spec sets none. */
  public static CgroupLimits from(ResourceRequirements r, long defaultPids) {
    return new CgroupLimits(r.getLimits().getNanoCpus(), r.getReservations().getNanoCpus(),
        r.getLimits().getMemoryBytes(), r.getPidsLimit() > 0 ? r.getPidsLimit() : defaultPids);
  }

  public static CgroupLimits defaults() {
    return new CgroupLimits(0, 0, 0, DEFAULT_PIDS_LIMIT);
  }

  /** CFS quota in microseconds per {@link #CFS_PERIOD_US}, or -1 for unlimited. */
  long cfsQuotaUs() {
    return cpuLimitNanoCpus == 0 ? -1 : Math.max(1000, cpuLimitNanoCpus * CFS_PERIOD_US / 1_000_000_000L);
  }

  /** cgroup v1 cpu.shares: 1024 per reserved CPU, as Docker's --cpu-shares; kernel default when unset. */
  long cpuShares() {
    return cpuReservationNanoCpus == 0 ? 1024 : Math.max(2, cpuReservationNanoCpus * 1024 / 1_000_000_000L);
  }

  /** cgroup v2 cpu.weight from the shares, with runc's mapping of [2, 262144] onto [1, 10000]. */
  long cpuWeight() {
    long shares = Math.min(262_144, cpuShares());
    return 1 + ((shares - 2) * 9999) / 262_142;
  }
}
