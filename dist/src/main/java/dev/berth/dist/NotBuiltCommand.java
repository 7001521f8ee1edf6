package dev.berth.dist;

import dev.berth.cli.UserException;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Unmatched;

/**
 * Stands in for a server command whose module does not provide it yet: accepts any arguments and
 * fails with a one-line message (exit 1), so {@code berth manager ...} says what is missing instead
 * of "unknown command".
 */
@Command(description = "(not built into this launcher yet)")
final class NotBuiltCommand implements Callable<Integer> {
  private final String name;

  @Unmatched
  List<String> ignored;

  NotBuiltCommand(String name) {
    this.name = name;
  }

  @Override
  public Integer call() {
    throw new UserException(name + ": not built into this launcher yet");
  }
}
