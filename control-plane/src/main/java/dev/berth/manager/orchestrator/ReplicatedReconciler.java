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
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Keeps a replicated service at its replica count: a slot (1..n) is occupied while it holds a
 * live task (desired RUNNING); missing slots get a new task (lowest free slot numbers first,
 * attempt = one past the slot's history), and when more slots are occupied than wanted the
 * highest slots are shut down (desired SHUTDOWN); a second live task of the same spec version in
 * a slot is shut down too. Spec changes are the
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
    List<Task> tasks = view.tasksOfService(service.getMeta().getId());
    // Per slot: live or not, and the highest attempt ever seen there, in arrays indexed by slot
    // position rather than maps keyed by boxed slot numbers: this runs every round over every
    // task of the service, and at 50,000 tasks the Long keys and map nodes were half of the
    // leader's garbage under a status load (docs/benchmarks.md, "Control plane").
    SlotPositions slots = SlotPositions.of(tasks);
    int[] lastAttempt = new int[slots.size()];
    java.util.Arrays.fill(lastAttempt, -1);
    boolean[] live = new boolean[slots.size()];
    long liveSlots = 0;
    boolean crowded = false; // some slot holds more than one live task
    for (Task task : tasks) {
      int p = slots.position(task.getSlot());
      lastAttempt[p] = Math.max(lastAttempt[p], task.getAttempt());
      if (TaskStates.isLive(task)) {
        crowded |= live[p];
        if (!live[p]) {
          live[p] = true;
          liveSlots++;
        }
      }
    }
    if (liveSlots > wanted) { // scale down: the highest occupied slots go
      Map<Integer, List<Task>> going = new TreeMap<>(Comparator.reverseOrder());
      for (int p = slots.size() - 1; p >= 0 && liveSlots > wanted; p--) {
        if (live[p]) {
          live[p] = false;
          liveSlots--;
          going.put(p, new ArrayList<>());
        }
      }
      for (Task task : tasks) {
        List<Task> slot = going.get(slots.position(task.getSlot()));
        if (slot != null && TaskStates.isLive(task)) {
          slot.add(task);
        }
      }
      going.values().forEach(slot -> slot.forEach(
          task -> plan.addDesired(Plans.desired(task.getMeta().getId(), TaskState.SHUTDOWN))));
    }
    if (crowded) {
      shutDownDuplicates(tasks, slots, live, plan);
    }
    long missing = wanted - liveSlots;
    for (long slot = 1; missing > 0 && !Plans.full(plan, maxChangesPerRound); slot++) {
      int p = slots.position(slot);
      if (p >= 0 && live[p]) {
        continue;
      }
      int attempt = p < 0 ? 0 : lastAttempt[p] + 1;
      plan.addCreateTasks(factory.newTask(view, service, slot, "", attempt, nowMs));
      missing--;
    }
  }

  /**
   * A slot runs one task of a spec version: of two or more live, unended tasks of one version in
   * a slot (a plan written from a stale view, such as a deposed leader's last round, or by a
   * client racing the scaler), the one furthest through its run stays, the oldest of those on a
   * tie, and the others are shut down, as swarmkit's orchestrator keeps one task per slot.
   * Tasks of another version beside it are a start-first update in flight, which the {@link
   * RollingUpdateReconciler} ends. Slots the scale-down above emptied ({@code live} false) are
   * skipped: their tasks are already going.
   */
  private void shutDownDuplicates(List<Task> tasks, SlotPositions slots, boolean[] live, Plan.Builder plan) {
    Map<String, List<Task>> byVersion = new TreeMap<>(); // "position/version", ordered for a deterministic plan
    for (Task task : tasks) {
      int p = slots.position(task.getSlot());
      if (live[p] && TaskStates.isLive(task) && !TaskStates.isTerminal(task)) {
        byVersion.computeIfAbsent(p + "/" + task.getSpecVersion(), k -> new ArrayList<>()).add(task);
      }
    }
    Comparator<Task> keepFirst = Comparator.<Task>comparingInt(t -> -t.getStatus().getStateValue())
        .thenComparingLong(t -> t.getMeta().getCreatedAtMs())
        .thenComparing(t -> t.getMeta().getId());
    for (List<Task> same : byVersion.values()) {
      if (same.size() < 2) {
        continue;
      }
      same.sort(keepFirst);
      for (Task extra : same.subList(1, same.size())) {
        if (Plans.full(plan, maxChangesPerRound)) {
          return;
        }
        plan.addDesired(Plans.desired(extra.getMeta().getId(), TaskState.SHUTDOWN));
      }
    }
  }

  /**
   * Array positions of the slot numbers of a service's tasks, in slot order: slot minus the
   * lowest one when the slots are dense (they are 1..replicas plus what a scale-down left), else
   * the rank among the sorted distinct slots.
   */
  private record SlotPositions(long base, long[] sorted, int size) {
    static SlotPositions of(List<Task> tasks) {
      long min = Long.MAX_VALUE;
      long max = Long.MIN_VALUE;
      for (Task task : tasks) {
        min = Math.min(min, task.getSlot());
        max = Math.max(max, task.getSlot());
      }
      if (tasks.isEmpty()) {
        return new SlotPositions(0, null, 0);
      }
      if (max - min < 2L * tasks.size() + 64) {
        return new SlotPositions(min, null, (int) (max - min + 1));
      }
      long[] sorted = tasks.stream().mapToLong(Task::getSlot).sorted().distinct().toArray();
      return new SlotPositions(0, sorted, sorted.length);
    }

    /** Position of {@code slot}, or -1 if no task has it. */
    int position(long slot) {
      if (sorted != null) {
        return Math.max(-1, java.util.Arrays.binarySearch(sorted, slot));
      }
      long p = slot - base;
      return p >= 0 && p < size ? (int) p : -1;
    }
  }
}
