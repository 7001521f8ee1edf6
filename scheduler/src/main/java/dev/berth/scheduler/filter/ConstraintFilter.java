package dev.berth.scheduler.filter;

import dev.berth.scheduler.Constraint;
import dev.berth.scheduler.NodeInfo;

/** One placement constraint; a spec with several gets one filter each so explanations name the unmet one. */
public final class ConstraintFilter implements Filter {

  private final Constraint constraint;

  public ConstraintFilter(Constraint constraint) {
    this.constraint = constraint;
  }

  @Override
  public boolean check(NodeInfo node) {
    return constraint.matches(node.node());
  }

  @Override
  public boolean isStatic() {
    return true;
  }

  @Override
  public String reason() {
    return "constraint " + constraint + " unmet";
  }
}
