package dev.berth.manager;

import picocli.CommandLine;

/**
 * Entry point of a stand-alone manager process ({@code berth manager ...}). Exits
 * explicitly: Ratis leaves non-daemon threads behind, so a returning main would hang.
 */
public final class ManagerMain {
  private ManagerMain() {}

  public static void main(String[] args) {
    int code;
    try {
      code = new CommandLine(new ManagerCommand()).execute(args);
    } catch (RuntimeException e) {
      e.printStackTrace();
      code = 1;
    }
    System.exit(code);
  }
}
