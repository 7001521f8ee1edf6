package dev.berth.cli;

import dev.berth.cli.format.Durations;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * Options every client command accepts, before or after the subcommand name
 * ({@code berth --manager m1:4700 service ls} or {@code berth service ls --manager m1:4700}).
 * One instance per {@link CliContext}; picocli writes into it while parsing.
 */
public final class GlobalOptions {
  /** Where a client finds the cluster when neither the flag nor the environment says. */
  public static final String DEFAULT_MANAGER = "127.0.0.1:4700";
  public static final String MANAGER_ENV = "BERTH_MANAGER";
  public static final String MANAGER_TIMEOUT_ENV = "BERTH_MANAGER_TIMEOUT";
  /**
   * How long one manager may stay silent before the next is tried. A healthy manager answers in
   * milliseconds; the slowest legitimate answer is a {@code service create} that resolves its image
   * at a slow registry, and a write retried elsewhere keeps its request id, so it never applies twice.
   */
  public static final Duration DEFAULT_MANAGER_TIMEOUT = Duration.ofSeconds(5);

  @Option(
      names = "--manager",
      scope = ScopeType.INHERIT,
      paramLabel = "HOST:PORT[,HOST:PORT...]",
      description = "Manager(s) to contact, tried in order (default: $" + MANAGER_ENV + " or " + DEFAULT_MANAGER + ").")
  String manager;

  @Option(
      names = "--manager-timeout",
      scope = ScopeType.INHERIT,
      paramLabel = "DURATION",
      description = "How long a manager may take to answer before the next one is tried (default: $"
          + MANAGER_TIMEOUT_ENV + " or 5s).")
  String managerTimeout;

  /** The per-manager answer timeout from the flag or the environment; empty for the default. */
  public Optional<Duration> managerTimeout(Map<String, String> env) {
    Optional<Given> given = Given.of("--manager-timeout", managerTimeout, env, MANAGER_TIMEOUT_ENV);
    if (given.isEmpty()) {
      return Optional.empty();
    }
    Duration d;
    try {
      d = Durations.parse(given.get().value());
    } catch (IllegalArgumentException e) {
      throw UserException.field(given.get().source(), e.getMessage());
    }
    if (d.toMillis() < 1) {
      throw UserException.field(given.get().source(), "must be at least 1ms");
    }
    return Optional.of(d);
  }

  /** A setting's text from the flag, else the environment, with where it came from (for errors). */
  private record Given(String source, String value) {
    static Optional<Given> of(String flag, String flagValue, Map<String, String> env, String variable) {
      if (flagValue != null && !flagValue.isBlank()) {
        return Optional.of(new Given(flag, flagValue));
      }
      String fromEnv = env.get(variable);
      return fromEnv == null || fromEnv.isBlank() ? Optional.empty() : Optional.of(new Given(variable, fromEnv));
    }
  }

  /** The managers to try, in order: the flag, else the environment, else the default. */
  public List<String> managers(Map<String, String> env) {
    Optional<Given> given = Given.of("--manager", manager, env, MANAGER_ENV);
    if (given.isEmpty()) {
      return List.of(DEFAULT_MANAGER);
    }
    String source = given.get().source();
    String value = given.get().value();
    List<String> out = new ArrayList<>();
    for (String part : value.split(",")) {
      String addr = part.trim();
      if (!addr.isEmpty()) {
        out.add(checkAddress(source, addr));
      }
    }
    if (out.isEmpty()) {
      throw UserException.field(source, "no manager address in '" + value + "'");
    }
    return out;
  }

  private static String checkAddress(String source, String addr) {
    int colon = addr.lastIndexOf(':');
    boolean bracketed = addr.startsWith("[");
    if (colon <= 0 || colon == addr.length() - 1 || (bracketed && addr.charAt(colon - 1) != ']')
        || (!bracketed && addr.indexOf(':') != colon)) {
      throw UserException.field(source, "'" + addr + "' is not HOST:PORT");
    }
    try {
      int port = Integer.parseInt(addr.substring(colon + 1));
      if (port < 1 || port > 65535) {
        throw UserException.field(source, "port of '" + addr + "' must be 1..65535");
      }
    } catch (NumberFormatException e) {
      throw UserException.field(source, "'" + addr + "' is not HOST:PORT");
    }
    return addr;
  }
}
