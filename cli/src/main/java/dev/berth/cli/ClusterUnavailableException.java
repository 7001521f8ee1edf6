package dev.berth.cli;

import java.util.List;

/**
 * No manager in the list answered usefully. Printed as
 * {@code berth: cluster unavailable at <managers>: <reason>}, exit {@link ExitCodes#UNAVAILABLE}.
 */
public final class ClusterUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ClusterUnavailableException(List<String> managers, String reason, Throwable cause) {
    super("cluster unavailable at " + String.join(",", managers) + ": " + reason, cause);
  }
}
