package dev.berth.cli;

/**
 * Bad input from the user, detected before or after talking to the cluster. The CLI prints
 * {@code berth: <message>} and exits with {@link ExitCodes#USER_ERROR}; the message names the
 * offending flag or argument.
 */
public final class UserException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public UserException(String message) {
    super(message);
  }

  /** A message of the form {@code <field>: <problem>}, e.g. {@code --replicas: must be >= 0}. */
  public static UserException field(String field, String problem) {
    return new UserException(field + ": " + problem);
  }
}
