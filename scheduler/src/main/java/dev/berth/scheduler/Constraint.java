package dev.berth.scheduler;

import dev.berth.api.v1.Node;
import java.util.ArrayList;
import java.util.List;

/**
 * One placement constraint such as {@code node.labels.zone==a} or {@code node.role!=manager}.
 *
 * <p>Operands are the {@link NodeAttribute}s ({@code node.id}, {@code node.hostname}, {@code node.role},
 * {@code node.labels.<key>}, {@code node.platform.os}, {@code node.platform.arch}); operators {@code ==} and
 * {@code !=}. Values compare case-insensitively, as in Swarm, so {@code node.role==Manager} works. A {@code !=}
 * on a label the node lacks is satisfied; an {@code ==} is not.
 *
 * <p>Immutable and thread-safe. {@link #parse} throws {@link IllegalArgumentException} whose message quotes the
 * bad expression and says what is wrong; the control plane calls it to validate specs when they are written.
 */
public final class Constraint {

  private final NodeAttribute attribute;
  private final boolean equal;
  private final String value;

  private Constraint(NodeAttribute attribute, boolean equal, String value) {
    this.attribute = attribute;
    this.equal = equal;
    this.value = value;
  }

  /**
   * Parses one expression.
   *
   * @throws IllegalArgumentException naming the expression and the problem (unknown operand, missing operator,
   *     empty value, empty label key, more than one operator)
   */
  public static Constraint parse(String expression) {
    if (expression == null) {
      throw new IllegalArgumentException("constraint must not be null");
    }
    int eq = expression.indexOf("==");
    int ne = expression.indexOf("!=");
    if (eq < 0 && ne < 0) {
      throw bad(expression, "expected KEY==VALUE or KEY!=VALUE");
    }
    boolean equal = ne < 0 || (eq >= 0 && eq < ne);
    int at = equal ? eq : ne;
    String key = expression.substring(0, at).trim();
    String value = expression.substring(at + 2).trim();
    if (key.isEmpty()) {
      throw bad(expression, "missing operand before the operator");
    }
    if (value.isEmpty()) {
      throw bad(expression, "missing value after the operator");
    }
    if (value.contains("==") || value.contains("!=")) {
      throw bad(expression, "more than one operator");
    }
    try {
      return new Constraint(NodeAttribute.parse(key), equal, value);
    } catch (IllegalArgumentException e) {
      throw bad(expression, e.getMessage());
    }
  }

  /** Parses every expression of a list, failing on the first bad one. */
  public static List<Constraint> parseAll(List<String> expressions) {
    List<Constraint> out = new ArrayList<>(expressions.size());
    for (String e : expressions) {
      out.add(parse(e));
    }
    return out;
  }

  private static IllegalArgumentException bad(String expression, String why) {
    return new IllegalArgumentException("invalid constraint \"" + expression + "\": " + why);
  }

  /** Whether {@code node} satisfies this constraint. */
  public boolean matches(Node node) {
    String actual = attribute.valueOf(node);
    if (actual == null) {
      return !equal;
    }
    return value.equalsIgnoreCase(actual) == equal;
  }

  public NodeAttribute attribute() {
    return attribute;
  }

  /** True for {@code ==}, false for {@code !=}. */
  public boolean isEquality() {
    return equal;
  }

  public String value() {
    return value;
  }

  /** Canonical text, e.g. {@code node.labels.zone==a}. */
  @Override
  public String toString() {
    return attribute + (equal ? "==" : "!=") + value;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Constraint && o.toString().equals(toString());
  }

  @Override
  public int hashCode() {
    return toString().hashCode();
  }
}
