package dev.berth.manager.dispatcher;

import dev.berth.api.v1.AgentMessage;
import dev.berth.api.v1.AgentServiceGrpc;
import dev.berth.api.v1.ExecAgentOutput;
import dev.berth.api.v1.ExecInput;
import dev.berth.api.v1.LogPublish;
import dev.berth.api.v1.LogPublishAck;
import dev.berth.api.v1.ManagerList;
import dev.berth.api.v1.ManagerMessage;
import dev.berth.api.v1.Node;
import dev.berth.api.v1.NodeDescription;
import dev.berth.api.v1.NodeUsage;
import dev.berth.api.v1.Redirect;
import dev.berth.api.v1.RegisterRequest;
import dev.berth.api.v1.RegisterResponse;
import dev.berth.api.v1.SessionAccepted;
import dev.berth.api.v1.SessionOpen;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatusReport;
import dev.berth.api.v1.TaskStatusUpdate;
import dev.berth.api.v1.TaskUsage;
import dev.berth.api.v1.WatchEvent;
import dev.berth.internal.v1.ApplyResult;
import dev.berth.internal.v1.Command;
import dev.berth.internal.v1.LogEntry;
import dev.berth.internal.v1.SetNodeStatus;
import dev.berth.internal.v1.TaskStatusChange;
import dev.berth.manager.DaemonThreads;
import dev.berth.manager.api.AgentStreams;
import dev.berth.manager.api.UsageSource;
import dev.berth.manager.orchestrator.IdGenerator;
import dev.berth.manager.orchestrator.TaskStates;
import dev.berth.manager.store.Proposer;
import dev.berth.manager.store.Store;
import dev.berth.manager.store.TaskReports;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The agent API ({@code AgentService}): node registration with a join token, and the
 * long-lived Session through which the leader hands out tasks and receives heartbeats and
 * status reports. Followers answer a Session with a Redirect to the leader.
 *
 * <p>Liveness stays in the leader's memory ({@link HeartbeatTracker}); only up/down changes
 * are logged, by a periodic check ({@link HeartbeatMonitor}) after a grace period of missed
 * heartbeats, counted from the leader's start for nodes it has not heard from yet. Status
 * reports are checked against the reporting node and batched ({@link StatusBatcher}).
 *
 * <p>Thread model: gRPC threads call the service methods; one fan-out thread turns applied
 * store changes into per-session Assignments; one housekeeping thread runs heartbeat checks and
 * batch flushes. {@link #onLeaderStart()} / {@link #onLeaderStop()} come from the manager's
 * leader-change callbacks. Error contract: agents get gRPC statuses naming the problem
 * (UNAUTHENTICATED bad token, NOT_FOUND unknown node, UNAVAILABLE not leader / no quorum).
 */
public final class AgentDispatcher extends AgentServiceGrpc.AgentServiceImplBase implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(AgentDispatcher.class.getName());
  /** How long an agent has to open its PublishLogs / ExecStream call after being asked. */
  private static final Duration ATTACH_TIMEOUT = Duration.ofSeconds(10);

  private final Store store;
  private final Proposer proposer;
  private final Membership membership;
  private final Clock clock;
  private final IdGenerator ids;
  private final DispatcherConfig config;
  /** Registrations per log entry: a node is ~1 KB, so an entry stays far below the 2 MiB cap. */
  static final int REGISTRATIONS_PER_ENTRY = 500;
  private final HeartbeatTracker tracker = new HeartbeatTracker();
  private final HeartbeatMonitor monitor;
  private final StatusBatcher batcher;
  private final RegistrationBatcher registrations;
  private final NodeRegistrar registrar;
  private final Map<String, AgentSession> sessions = new ConcurrentHashMap<>();
  private final ExecutorService fanout;
  private final ScheduledExecutorService housekeeping;
  private final ScheduledExecutorService batching;
  private final AutoCloseable listener;
  private final AtomicLong refusedReports = new AtomicLong();
  private final AttachBroker attach;
  /** Owned by the fan-out thread: built at the first session, dropped when leadership ends. */
  private AssignmentFeed feed;
  private volatile boolean leading;
  private ScheduledFuture<?> monitorTask;

  public AgentDispatcher(Store store, Proposer proposer, Membership membership, Clock clock,
      IdGenerator ids, DispatcherConfig config) {
    this.store = store;
    this.proposer = proposer;
    this.membership = membership;
    this.clock = clock;
    this.ids = ids;
    this.config = config;
    this.monitor = new HeartbeatMonitor(tracker, config.graceMs());
    this.fanout = Executors.newSingleThreadExecutor(DaemonThreads.named("berth-dispatch-fanout"));
    this.housekeeping =
        Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("berth-dispatch-housekeeping"));
    this.batching = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("berth-dispatch-batcher"));
    this.batcher = new StatusBatcher(proposer, clock, batching, config.batchMaxChanges(),
        config.batchMaxDelayMs(), config.batchMaxInFlight());
    this.registrations = new RegistrationBatcher(proposer, clock, REGISTRATIONS_PER_ENTRY);
    this.registrar = new NodeRegistrar(store, registrations, membership, clock, ids);
    this.listener = store.addListener(this::onApplied);
    this.attach = new AttachBroker(node -> Optional.ofNullable(sessions.get(node)),
        () -> leading && proposer.isLeader(), ids, housekeeping, ATTACH_TIMEOUT);
  }

  /** Logs and exec through the agents' sessions, for the public API. */
  public AgentStreams streams() {
    return attach;
  }

  @Override
  public StreamObserver<LogPublish> publishLogs(StreamObserver<LogPublishAck> ack) {
    return attach.publishLogs(ack);
  }

  @Override
  public StreamObserver<ExecAgentOutput> execStream(StreamObserver<ExecInput> toAgent) {
    return attach.execStream(toAgent);
  }

  /** Heartbeats and usage readings, for API reads (Node.usage, Task.usage). */
  public HeartbeatTracker heartbeats() {
    return tracker;
  }

  /**
   * The heartbeat usage readings for API reads, while this manager leads; empty otherwise
   * (a former leader's readings go stale the moment its sessions close).
   */
  public UsageSource usage() {
    return new UsageSource() {
      @Override
      public Optional<NodeUsage> nodeUsage(String nodeId) {
        return leading ? tracker.nodeUsage(nodeId) : Optional.empty();
      }

      @Override
      public Optional<TaskUsage> taskUsage(String nodeId, String taskId) {
        return leading ? tracker.taskUsage(nodeId, taskId) : Optional.empty();
      }
    };
  }

  public RegistrationBatcher registrations() {
    return registrations;
  }

  public StatusBatcher statusBatcher() {
    return batcher;
  }

  /** Number of nodes with an open session on this manager. */
  public int connectedAgents() {
    return sessions.size();
  }

  /** Status updates refused because the reporting node does not own the task. */
  public long refusedReports() {
    return refusedReports.get();
  }

  public synchronized void onLeaderStart() {
    if (leading) {
      return;
    }
    tracker.reset(clock.millis());
    leading = true;
    long period = Math.max(10, config.heartbeatPeriodMs() / 2);
    monitorTask = housekeeping.scheduleWithFixedDelay(this::checkHeartbeats, period, period,
        TimeUnit.MILLISECONDS);
  }

  public synchronized void onLeaderStop() {
    leading = false;
    if (monitorTask != null) {
      monitorTask.cancel(false);
      monitorTask = null;
    }
    onFanout(() -> feed = null);
    for (AgentSession session : List.copyOf(sessions.values())) {
      sessions.remove(session.nodeId, session);
      session.close(redirect().orElse(null),
          Status.UNAVAILABLE.withDescription("this manager is no longer the leader"));
    }
  }

  @Override
  public void close() {
    onLeaderStop();
    try {
      listener.close();
    } catch (Exception e) {
      LOG.log(Level.WARNING, "closing store listener", e);
    }
    fanout.shutdownNow();
    housekeeping.shutdownNow();
    batching.shutdownNow();
  }

  // ------------------------------------------------------------------ Register

  @Override
  public void register(RegisterRequest request, StreamObserver<RegisterResponse> response) {
    registrar.register(request, response);
  }

  // ------------------------------------------------------------------ Session

  @Override
  public StreamObserver<AgentMessage> session(StreamObserver<ManagerMessage> out) {
    return new StreamObserver<>() {
      private AgentSession session;
      private boolean refused;

      @Override
      public void onNext(AgentMessage message) {
        switch (message.getMsgCase()) {
          case OPEN -> {
            if (session == null && !refused) {
              session = open(message.getOpen(), out);
              refused = session == null;
            }
          }
          case HEARTBEAT -> {
            if (session != null) {
              tracker.heartbeat(session.nodeId, clock.millis(), message.getHeartbeat());
            }
          }
          case STATUS -> {
            if (session != null) {
              report(session.nodeId, message.getStatus());
            }
          }
          default -> { }
        }
      }

      @Override
      public void onError(Throwable t) {
        end();
      }

      @Override
      public void onCompleted() {
        if (session != null) {
          session.close(null, null);
        } else if (!refused) {
          out.onCompleted();
        }
        end();
      }

      private void end() {
        if (session != null) {
          sessions.remove(session.nodeId, session);
          session.markClosed();
        }
      }
    };
  }

  private AgentSession open(SessionOpen open, StreamObserver<ManagerMessage> out) {
    if (!leading || !proposer.isLeader()) {
      Optional<ManagerMessage> redirect = redirect();
      if (redirect.isPresent()) {
        out.onNext(redirect.get());
        out.onCompleted();
      } else {
        out.onError(Status.UNAVAILABLE.withDescription("no leader known; retry").asRuntimeException());
      }
      return null;
    }
    String nodeId = open.getNodeId();
    if (store.read(v -> v.node(nodeId)).isEmpty()) {
      out.onError(Status.NOT_FOUND.withDescription("node_id: node " + nodeId + " is not registered")
          .asRuntimeException());
      return null;
    }
    AgentSession session = new AgentSession(nodeId, ids.next(), open.getDescription(), out);
    AgentSession previous = sessions.put(nodeId, session);
    if (previous != null) {
      previous.close(null, Status.ABORTED.withDescription("replaced by a newer session of the same node"));
    }
    tracker.heartbeat(nodeId, clock.millis(), dev.berth.api.v1.Heartbeat.getDefaultInstance());
    session.send(ManagerMessage.newBuilder().setAccepted(SessionAccepted.newBuilder()
        .setSessionId(session.sessionId).setHeartbeatPeriodMs(config.heartbeatPeriodMs())
        .addAllManagers(membership.leaderFirst())).build());
    onFanout(() -> {
      if (feed == null) {
        feed = store.read(AssignmentFeed::build);
      }
      session.sendFull(feed);
    });
    housekeeping.execute(this::checkHeartbeats); // mark the node READY without waiting a period
    return session;
  }

  private Optional<ManagerMessage> redirect() {
    return membership.leaderAddress().filter(leader -> !leader.equals(membership.selfAddress()))
        .map(leader -> ManagerMessage.newBuilder()
        .setRedirect(Redirect.newBuilder().setLeader(leader).addAllManagers(membership.leaderFirst()))
        .build());
  }

  /** Keeps only transitions the node may report for its own tasks, then batches them. */
  private void report(String nodeId, TaskStatusReport report) {
    List<TaskStatusChange> accepted = store.read(v -> {
      List<TaskStatusChange> ok = new ArrayList<>(report.getUpdatesCount());
      for (TaskStatusUpdate update : report.getUpdatesList()) {
        Optional<Task> task = v.task(update.getTaskId());
        if (task.isEmpty()) {
          continue; // deleted meanwhile: nothing to record
        }
        if (!task.get().getNodeId().equals(nodeId)) {
          refusedReports.incrementAndGet();
          continue;
        }
        TaskState from = task.get().getStatus().getState();
        TaskState to = update.getStatus().getState();
        boolean agentOwned = to.getNumber() >= TaskState.ACCEPTED_VALUE
            && to != TaskState.ORPHANED && to != TaskState.REMOVE;
        boolean forward = to.getNumber() > from.getNumber()
            || TaskReports.healthChanged(task.get().getStatus(), update.getStatus());
        if (agentOwned && !TaskStates.isTerminal(from) && forward) {
          ok.add(TaskStatusChange.newBuilder().setTaskId(update.getTaskId())
              .setStatus(update.getStatus()).build());
        }
      }
      return ok;
    });
    batcher.submit(nodeId, accepted);
  }

  // ------------------------------------------------------------------ store changes

  private void onApplied(long index, List<WatchEvent> events) {
    if (!leading || events.isEmpty()) {
      return;
    }
    onFanout(() -> {
      if (feed == null || index <= feed.index()) {
        return; // no session synced yet (the feed is built at the first), or already reflected
      }
      AssignmentFeed.Changes changes = feed.apply(index, events);
      if (!changes.isEmpty()) {
        for (AgentSession session : sessions.values()) {
          session.deliver(changes, feed);
        }
      }
    });
  }

  private void onFanout(Runnable job) {
    try {
      fanout.execute(job);
    } catch (java.util.concurrent.RejectedExecutionException closed) {
      // the dispatcher is closing: no session is left to feed
    }
  }

  // ------------------------------------------------------------------ housekeeping

  private void checkHeartbeats() {
    if (!leading || !proposer.isLeader()) {
      return;
    }
    Map<String, NodeDescription> connected = new HashMap<>();
    sessions.values().forEach(s -> connected.put(s.nodeId, s.description));
    long now = clock.millis();
    List<SetNodeStatus.Change> changes = store.read(v -> monitor.changes(v, connected, now));
    if (changes.isEmpty()) {
      return;
    }
    LogEntry entry = LogEntry.newBuilder().setTimestampMs(now).addCommands(Command.newBuilder()
        .setSetNodeStatus(SetNodeStatus.newBuilder().addAllChanges(changes))).build();
    try {
      ApplyResult result = proposer.propose(entry).get(config.proposeTimeoutMs(), TimeUnit.MILLISECONDS);
      if (!"OK".equals(result.getCode())) {
        LOG.log(Level.WARNING, "node status change rejected: {0}", result.getMessage());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      LOG.log(Level.WARNING, "node status change not committed; retrying on the next check", e);
    }
  }

  /** The manager list message agents get when membership changes (sent by the manager). */
  public void broadcastManagers() {
    ManagerMessage message = ManagerMessage.newBuilder().setManagers(ManagerList.newBuilder()
        .addAllManagers(membership.leaderFirst()).setLeader(membership.leaderAddress().orElse("")))
        .build();
    sessions.values().forEach(s -> s.send(message));
  }
}
