package dev.berth.manager.orchestrator;

import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeRole;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Evaluates placement constraints ({@code key==value} / {@code key!=value} over node.id,
 * node.hostname, node.role, node.labels.KEY, node.platform.os, node.platform.arch) against a
 * node. A stop-gap for the orchestrator until the scheduler module's filters are wired in.
 *
 * <p>Thread model: stateless. Error contract: a malformed expression is reported as unmet
 * (the API validates expressions before they are stored).
 */
public final class Constraints {
  private Constraints() {}

  /** The first expression the node does not satisfy, or empty when all hold. */
  public static Optional<String> firstUnmet(Node node, List<String> expressions) {
    for (String expression : expressions) {
      if (!matches(node, expression)) {
        return Optional.of(expression);
      }
    }
    return Optional.empty();
  }

  static boolean matches(Node node, String expression) {
    boolean equal;
    int at = expression.indexOf("==");
    if (at >= 0) {
      equal = true;
    } else {
      at = expression.indexOf("!=");
      if (at < 0) {
        return false;
      }
      equal = false;
    }
    String key = expression.substring(0, at).trim();
    String wanted = expression.substring(at + 2).trim();
    Optional<String> actual = value(node, key);
    if (actual.isEmpty()) {
      return !equal && !key.isEmpty() && key.startsWith("node.labels.");
    }
    boolean same =
        key.equals("node.role") || key.startsWith("node.platform.")
            ? actual.get().equalsIgnoreCase(wanted)
            : actual.get().equals(wanted);
    return same == equal;
  }

  private static Optional<String> value(Node node, String key) {
    switch (key) {
      case "node.id":
        return Optional.of(node.getMeta().getId());
      case "node.hostname":
        return Optional.of(node.getDescription().getHostname());
      case "node.role":
        return Optional.of(node.getRole() == NodeRole.MANAGER ? "manager" : "worker");
      case "node.platform.os":
        return Optional.of(node.getDescription().getPlatform().getOs().toLowerCase(Locale.ROOT));
      case "node.platform.arch":
        return Optional.of(node.getDescription().getPlatform().getArchitecture());
      default:
        if (key.startsWith("node.labels.")) {
          return Optional.ofNullable(
              node.getSpec().getLabelsMap().get(key.substring("node.labels.".length())));
        }
        return Optional.empty();
    }
  }
}
