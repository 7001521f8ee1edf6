package dev.berth.scheduler;

import dev.berth.api.v1.Node;
import java.util.Locale;

/**
 * A node attribute named the way constraints and placement preferences name it: {@code node.id},
 * {@code node.hostname}, {@code node.role}, {@code node.labels.<key>}, {@code node.platform.os},
 * {@code node.platform.arch}. Operand names are case-insensitive; label keys are not.
 *
 * <p>Immutable and thread-safe. {@link #parse} throws {@link IllegalArgumentException} naming the bad key.
 */
public final class NodeAttribute {

  private static final String LABELS = "node.labels.";

  private enum Kind {
    ID("node.id"),
    HOSTNAME("node.hostname"),
    ROLE("node.role"),
    LABEL(LABELS),
    PLATFORM_OS("node.platform.os"),
    PLATFORM_ARCH("node.platform.arch");

    final String text;

    Kind(String text) {
      this.text = text;
    }
  }

  private final Kind kind;
  private final String labelKey;

  private NodeAttribute(Kind kind, String labelKey) {
    this.kind = kind;
    this.labelKey = labelKey;
  }

  /**
   * Parses an attribute name.
   *
   * @throws IllegalArgumentException saying what is wrong with {@code key}
   */
  public static NodeAttribute parse(String key) {
    String trimmed = key.trim();
    String lower = trimmed.toLowerCase(Locale.ROOT);
    if (lower.startsWith(LABELS)) {
      String labelKey = trimmed.substring(LABELS.length());
      if (labelKey.isEmpty()) {
        throw new IllegalArgumentException("empty label key after node.labels.");
      }
      if (labelKey.chars().anyMatch(Character::isWhitespace)) {
        throw new IllegalArgumentException("label key '" + labelKey + "' contains whitespace");
      }
      return new NodeAttribute(Kind.LABEL, labelKey);
    }
    for (Kind k : Kind.values()) {
      if (k != Kind.LABEL && k.text.equals(lower)) {
        return new NodeAttribute(k, null);
      }
    }
    throw new IllegalArgumentException("unknown node attribute '" + trimmed + "' (expected node.id, node.hostname, "
        + "node.role, node.labels.<key>, node.platform.os or node.platform.arch)");
  }

  /** The attribute's value on {@code node}, or null when it is a label the node does not have. */
  public String valueOf(Node node) {
    switch (kind) {
      case ID:
        return node.getMeta().getId();
      case HOSTNAME:
        return node.getDescription().getHostname();
      case ROLE:
        return node.getRole().name().toLowerCase(Locale.ROOT);
      case LABEL:
        return node.getSpec().getLabelsMap().get(labelKey);
      case PLATFORM_OS:
        return node.getDescription().getPlatform().getOs();
      case PLATFORM_ARCH:
        return node.getDescription().getPlatform().getArchitecture();
      default:
        throw new AssertionError(kind);
    }
  }

  /** Canonical name, e.g. {@code node.labels.zone}. */
  @Override
  public String toString() {
    return kind == Kind.LABEL ? LABELS + labelKey : kind.text;
  }
}
