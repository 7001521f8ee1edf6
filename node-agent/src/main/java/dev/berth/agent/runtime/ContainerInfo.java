package dev.berth.agent.runtime;

import java.util.Optional;

/** A snapshot of one container. {@code initPid} is the host pid of its PID 1 (0 if never started). */
public record ContainerInfo(String id, State state, long initPid, long monitorPid, Optional<ExitStatus> exit) {
  /** Lifecycle as read from the state directory and /proc. */
  public enum State {
    /** Created, never started. */
    CREATED,
    RUNNING,
    /** Ended; {@link #exit()} is present. */
    EXITED,
    /** Its monitor vanished without recording an exit (killed, host trouble): nothing is known. */
    LOST,
  }
}
