package dev.berth.agent.cgroup;

/** A cgroup operation the kernel refused; the message names the cgroup path and the cause. */
public final class CgroupException extends RuntimeException {
  public CgroupException(String message, Throwable cause) {
    super(message, cause);
  }

  public CgroupException(String message) {
    super(message);
  }
}
