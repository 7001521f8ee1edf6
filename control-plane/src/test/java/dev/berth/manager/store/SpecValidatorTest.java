package dev.berth.manager.store;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.v1.ContainerSpec;
import dev.berth.api.v1.Placement;
import dev.berth.api.v1.PlacementPreference;
import dev.berth.api.v1.ReplicatedService;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.TaskSpec;
import org.junit.jupiter.api.Test;

class SpecValidatorTest {
  static ServiceSpec withPlacement(Placement.Builder placement) {
    return ServiceSpec.newBuilder().setName("web")
        .setReplicated(ReplicatedService.newBuilder().setReplicas(1))
        .setTask(TaskSpec.newBuilder().setContainer(ContainerSpec.newBuilder().setImage("web:1"))
            .setPlacement(placement))
        .build();
  }

  @Test
  void acceptsValidConstraintsAndPreferences() {
    assertThatCode(() -> SpecValidator.validateService(withPlacement(Placement.newBuilder()
        .addConstraints("node.labels.zone==a").addConstraints("node.role != manager")
        .addPreferences(PlacementPreference.newBuilder().setSpreadDescriptor("node.labels.rack")))))
        .doesNotThrowAnyException();
  }

  @Test
  void rejectsAConstraintNamingTheFieldAndTheProblem() {
    assertThatThrownBy(() -> SpecValidator.validateService(withPlacement(Placement.newBuilder()
        .addConstraints("node.labels.zone==a").addConstraints("node.colour==red"))))
        .isInstanceOfSatisfying(ApplyException.class, e -> org.assertj.core.api.Assertions
            .assertThat(e.code()).isEqualTo("INVALID_ARGUMENT"))
        .hasMessageStartingWith("spec.task.placement.constraints[1]: invalid constraint \"node.colour==red\": ");
    assertThatThrownBy(() -> SpecValidator.validateService(withPlacement(Placement.newBuilder()
        .addConstraints("node.labels.zone"))))
        .hasMessageStartingWith("spec.task.placement.constraints[0]: invalid constraint \"node.labels.zone\": ")
        .hasMessageContaining("KEY==VALUE");
    assertThatThrownBy(() -> SpecValidator.validateService(withPlacement(Placement.newBuilder()
        .addConstraints("node.labels.zone=="))))
        .hasMessageContaining("missing value");
  }

  @Test
  void rejectsAPreferenceNamingTheField() {
    assertThatThrownBy(() -> SpecValidator.validateService(withPlacement(Placement.newBuilder()
        .addPreferences(PlacementPreference.newBuilder().setSpreadDescriptor("node.labels.zone"))
        .addPreferences(PlacementPreference.newBuilder().setSpreadDescriptor("zone")))))
        .isInstanceOf(ApplyException.class)
        .hasMessageStartingWith("spec.task.placement.preferences[1].spread_descriptor: invalid placement preference \"zone\": ");
  }
}
