package dev.berth.scheduler;

import static dev.berth.scheduler.Fixtures.nodeBuilder;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeRole;
import dev.berth.api.v1.Platform;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConstraintTest {

  private final Node node = nodeBuilder("n1", 1, 1, Map.of("zone", "a", "Disk", "ssd"))
      .setRole(NodeRole.MANAGER)
      .build();

  @Test
  void everyOperandMatchesWithEqualityAndInequality() {
    assertThat(Constraint.parse("node.id==n1").matches(node)).isTrue();
    assertThat(Constraint.parse("node.id!=n1").matches(node)).isFalse();
    assertThat(Constraint.parse("node.hostname==host-n1").matches(node)).isTrue();
    assertThat(Constraint.parse("node.role==manager").matches(node)).isTrue();
    assertThat(Constraint.parse("node.role!=worker").matches(node)).isTrue();
    assertThat(Constraint.parse("node.labels.zone==a").matches(node)).isTrue();
    assertThat(Constraint.parse("node.labels.zone==b").matches(node)).isFalse();
    assertThat(Constraint.parse("node.labels.zone!=b").matches(node)).isTrue();
    assertThat(Constraint.parse("node.platform.os==linux").matches(node)).isTrue();
    assertThat(Constraint.parse("node.platform.arch==amd64").matches(node)).isTrue();
    assertThat(Constraint.parse("node.platform.arch!=amd64").matches(node)).isFalse();
  }

  @Test
  void valuesAndOperandNamesAreCaseInsensitiveButLabelKeysAreNot() {
    assertThat(Constraint.parse("NODE.ROLE == Manager").matches(node)).isTrue();
    assertThat(Constraint.parse("node.labels.zone==A").matches(node)).isTrue();
    assertThat(Constraint.parse("node.labels.Disk==ssd").matches(node)).isTrue();
    assertThat(Constraint.parse("node.labels.disk==ssd").matches(node)).isFalse();
  }

  @Test
  void missingLabelFailsEqualityAndSatisfiesInequality() {
    assertThat(Constraint.parse("node.labels.rack==r1").matches(node)).isFalse();
    assertThat(Constraint.parse("node.labels.rack!=r1").matches(node)).isTrue();
  }

  @Test
  void emptyPlatformValueDoesNotMatchANamedOne() {
    Node bare = node.toBuilder().setDescription(node.getDescription().toBuilder()
        .setPlatform(Platform.getDefaultInstance())).build();
    assertThat(Constraint.parse("node.platform.os==linux").matches(bare)).isFalse();
  }

  @Test
  void canonicalText() {
    assertThat(Constraint.parse(" node.labels.zone == a ").toString()).isEqualTo("node.labels.zone==a");
    assertThat(Constraint.parse("Node.Role!=worker").toString()).isEqualTo("node.role!=worker");
    assertThat(Constraint.parseAll(List.of("node.id==x", "node.role!=manager"))).hasSize(2);
  }

  @Test
  void badExpressionsNameTheExpressionAndTheProblem() {
    assertThatThrownBy(() -> Constraint.parse("node.labels.zone=a"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("invalid constraint \"node.labels.zone=a\": expected KEY==VALUE or KEY!=VALUE");
    assertThatThrownBy(() -> Constraint.parse("node.labels.zone=="))
        .hasMessage("invalid constraint \"node.labels.zone==\": missing value after the operator");
    assertThatThrownBy(() -> Constraint.parse("==a"))
        .hasMessage("invalid constraint \"==a\": missing operand before the operator");
    assertThatThrownBy(() -> Constraint.parse("node.labels.==a"))
        .hasMessage("invalid constraint \"node.labels.==a\": empty label key after node.labels.");
    assertThatThrownBy(() -> Constraint.parse("node.zone==a"))
        .hasMessageStartingWith("invalid constraint \"node.zone==a\": unknown node attribute 'node.zone'");
    assertThatThrownBy(() -> Constraint.parse("node.id==a==b"))
        .hasMessage("invalid constraint \"node.id==a==b\": more than one operator");
    assertThatThrownBy(() -> Constraint.parseAll(List.of("node.id==x", "engine.labels.a==b")))
        .hasMessageContaining("\"engine.labels.a==b\"");
  }
}
