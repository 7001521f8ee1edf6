package dev.berth.agent.runtime;

/**
 * Every failure of {@link ContainerRuntime}: {@link #reason()} says which kind, the message names
 * the container and the problem (including the launcher's or kernel's own words).
 */
public final class ContainerRuntimeException extends RuntimeException {
  /** What went wrong. */
  public enum Reason {
    /** The spec or image config cannot be run (no command, bad id, NUL in a value, ...). */
    INVALID_CONFIG,
    /** A container with this id already exists. */
    ALREADY_EXISTS,
    /** No container with this id is known. */
    NOT_FOUND,
    /** The operation needs a running container. */
    NOT_RUNNING,
    /** The operation needs a container that is not running (e.g. remove). */
    STILL_RUNNING,
    /** The container could not be started: its process never ran (bad working dir, exec failure). */
    START_FAILED,
    /** A host-side failure: launcher, cgroups, state directory. */
    HOST_ERROR,
  }

  private final Reason reason;

  public ContainerRuntimeException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public ContainerRuntimeException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
