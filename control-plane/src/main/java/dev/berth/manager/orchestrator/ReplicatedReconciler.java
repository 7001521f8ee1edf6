package dev.berth.manager.orchestrator;

import dev.berth.api.v1.Service;
import dev.berth.api.v1.ServiceSpec;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.Plan;
import dev.berth.manager.store.StoreView;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Keeps a replicated service at its replica count: a slot (1..n) is occupied while it holds a
 * live task (desired RUNNING); missing slots get a new task (lowest free slot numbers first,
 * attempt = one past the slot's history), and when more slots are occupied than wanted the
 * highest slots are shut down (desired SHUTDOWN). Spec changes are the
 * {@link RollingUpdateReconciler}'s concern, ended tasks the {@link RestartReconciler}'s.
 *
 * <p>Thread model and error contract: see {@link Reconciler}.
 */
public final class ReplicatedReconciler implements Reconciler {
  private final TaskFactory factory;
  private final int maxChangesPerRound;

  public ReplicatedReconciler(TaskFactory factory, int maxChangesPerRound) {
    this.factory = factory;
    this.maxChangesPerRound = maxChangesPerRound;
  }

  @Override
  public String name() {
    return "replicated";
  }

  @Override
  public List<Command> reconcile(StoreView view, long nowMs) {
    Plan.Builder plan = Plans.start(view.index());
    List<Service> services = new ArrayList<>(view.services());
    services.sort(Comparator.comparing(s -> s.getMeta().getId()));
    for (Service service : services) {
      if (service.getSpec().getModeCase() != ServiceSpec.ModeCase.REPLICATED) {
        continue;
      }
      reconcileService(view, service, nowMs, plan);
      if (Plans.full(plan, maxChangesPerRound)) {
        break;
      }
    }
    return Plans.toCommands(plan);
  }

  private void reconcileService(StoreView view, Service service, long nowMs, Plan.Builder plan) {
    long wanted = service.getSpec().getReplicated().getReplicas();
    // slot -> live tasks, and slot -> highest attempt ever seen there. Hash maps: this runs every
    // round over every task of the service, and only a scale-down needs the slots in order.
    Map<Long, List<Task>> live = new HashMap<>();
    Map<Long, Integer> lastAttempt = new HashMap<>();
    for (Task task : view.tasksOfService(service.getMeta().getId())) {
      lastAttempt.merge(task.getSlot(), task.getAttempt(), Math::max);
      if (TaskStates.isLive(task)) {
        live.computeIfAbsent(task.getSlot(), s -> new ArrayList<>()).add(task);
      }
    }
    if (live.size() > wanted) {
      TreeMap<Long, List<Task>> bySlot = new TreeMap<>(live);
      while (bySlot.size() > wanted) {
        Map.Entry<Long, List<Task>> highest = bySlot.pollLastEntry();
        live.remove(highest.getKey());
        for (Task task : highest.getValue()) {
          plan.addDesired(Plans.desired(task.getMeta().getId(), TaskState.SHUTDOWN));
        }
      }
    }
    long missing = wanted - live.size();
    for (long slot = 1; missing > 0 && !Plans.full(plan, maxChangesPerRound); slot++) {
      if (live.containsKey(slot)) {
        continue;
      }
      Integer previous = lastAttempt.get(slot);
      int attempt = previous == null ? 0 : previous + 1;
      plan.addCreateTasks(factory.newTask(view, service, slot, "", attempt, nowMs));
      missing--;
    }
  }
}
