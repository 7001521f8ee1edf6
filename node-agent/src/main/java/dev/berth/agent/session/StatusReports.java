package dev.berth.agent.session;

import dev.berth.api.v1.Assignments;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskStatus;
import dev.berth.api.v1.TaskStatusReport;
import dev.berth.api.v1.TaskStatusUpdate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The session client's status reports and their acknowledgement (the scheme is described on
 * {@link SessionClient}): a queue of transitions to send, and the latest unacknowledged status per
 * task, which an assignments message acknowledges by listing the task at that state or later, or by no
 * longer listing it.
 *
 * <p>Thread model: confined to the session client's event loop. Memory: at most one kept status per
 * task, plus the transitions queued since the last send.
 */
final class StatusReports {
  static final int MAX_UPDATES_PER_REPORT = 1000;

  private final List<TaskStatusUpdate> outbox = new ArrayList<>();
  private final Map<String, TaskStatus> unacked = new LinkedHashMap<>();

  /** Keeps {@code status} as the task's latest; queues it for sending when a session can take it now. */
  void record(String taskId, TaskStatus status, boolean sendNow) {
    unacked.put(taskId, status);
    if (sendNow) {
      outbox.add(update(taskId, status));
    }
  }

  /** Drops the kept statuses that {@code a} shows the manager has, or no longer cares about. */
  void acknowledge(Assignments a) {
    for (Task t : a.getTasksList()) {
      TaskStatus mine = unacked.get(t.getMeta().getId());
      if (mine != null && covers(t.getStatus(), mine)) {
        unacked.remove(t.getMeta().getId());
      }
    }
    a.getRemovedTaskIdsList().forEach(unacked::remove);
    if (a.getFull()) {
      Set<String> listed = new LinkedHashSet<>();
      a.getTasksList().forEach(t -> listed.add(t.getMeta().getId()));
      unacked.keySet().retainAll(listed);
    }
  }

  /** Replaces the queue with the latest status of every task still unacknowledged (after a reconnect). */
  void requeueUnacknowledged() {
    outbox.clear();
    unacked.forEach((id, s) -> outbox.add(update(id, s)));
  }

  boolean hasQueued() {
    return !outbox.isEmpty();
  }

  /** The queued transitions as reports of at most {@link #MAX_UPDATES_PER_REPORT} each; empties the queue. */
  List<TaskStatusReport> drain() {
    List<TaskStatusReport> reports = new ArrayList<>();
    for (int from = 0; from < outbox.size(); from += MAX_UPDATES_PER_REPORT) {
      reports.add(TaskStatusReport.newBuilder()
          .addAllUpdates(outbox.subList(from, Math.min(outbox.size(), from + MAX_UPDATES_PER_REPORT))).build());
    }
    outbox.clear();
    return reports;
  }

  Set<String> unacknowledgedIds() {
    return Set.copyOf(unacked.keySet());
  }

  /** Whether the manager's copy of a task's status includes {@code mine}. */
  static boolean covers(TaskStatus managers, TaskStatus mine) {
    int cmp = Integer.compare(managers.getState().getNumber(), mine.getState().getNumber());
    return cmp > 0 || cmp == 0 && managers.getContainer().getHealth().equals(mine.getContainer().getHealth());
  }

  private static TaskStatusUpdate update(String id, TaskStatus s) {
    return TaskStatusUpdate.newBuilder().setTaskId(id).setStatus(s).build();
  }
}
