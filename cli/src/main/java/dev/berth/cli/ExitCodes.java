package dev.berth.cli;

/** Process exit codes of every {@code berth} client command. */
public final class ExitCodes {
  /** The command did what was asked. */
  public static final int OK = 0;
  /** Bad input, or the cluster refused the request (invalid, not found, conflict). */
  public static final int USER_ERROR = 1;
  /** No manager could be reached, or none could serve the request (no leader, no quorum). */
  public static final int UNAVAILABLE = 2;

  private ExitCodes() {}
}
