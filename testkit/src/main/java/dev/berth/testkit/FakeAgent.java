package dev.berth.testkit;

import dev.berth.api.v1.AgentMessage;
import dev.berth.api.v1.AgentServiceGrpc;
import dev.berth.api.v1.Assignments;
import dev.berth.api.v1.Endpoint;
import dev.berth.api.v1.NetworkAttachment;
import dev.berth.api.v1.PublishedService;
import dev.berth.api.v1.Heartbeat;
import dev.berth.api.v1.ManagerMessage;
import dev.berth.api.v1.NodeDescription;
import dev.berth.api.v1.Platform;
import dev.berth.api.v1.RegisterRequest;
import dev.berth.api.v1.RegisterResponse;
import dev.berth.api.v1.Resources;
import dev.berth.api.v1.SessionOpen;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskState;
import dev.berth.api.v1.TaskStatus;
import dev.berth.api.v1.TaskStatusReport;
import dev.berth.api.v1.TaskStatusUpdate;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A node agent without containers: it speaks the real AgentService protocol over a real gRPC
 * channel (Register with a join token, Session with heartbeats, following redirects and
 * reconnecting to another manager when its stream breaks) and runs an in-memory runtime
 * ({@link FakeRuntime}) that moves each assigned task ACCEPTED → PREPARING → STARTING → RUNNING (a configurable delay per
 * step, optional simulated failures) and to SHUTDOWN when the manager no longer wants it.
 *
 * <p>Like a real agent it acts idempotently by task id: a full task set replaces what it runs,
 * incremental Assignments add or change tasks, and after every (re)connect it re-reports
 * states the manager has not recorded yet. Status updates are coalesced per task and sent as
 * one report every {@code reportFlush}.
 *
 * <p>Thread model: thread-safe; all state is guarded by the agent's monitor. Timers run on the
 * shared scheduler passed in (many agents can share one). Error contract: connection problems
 * are retried forever (until {@link #close()}); nothing is thrown to the caller.
 */
public final class FakeAgent implements AutoCloseable {
  /** How the simulated agent presents itself and behaves. */
  public record Options(String token, String hostname, Resources capacity, Map<String, String> labels,
      Duration stepDelay, Predicate<Task> failsToStart, Duration reportFlush, Duration reconnectDelay) {
    public static Options of(String token, String hostname) {
      return new Options(token, hostname,
          Resources.newBuilder().setNanoCpus(8_000_000_000L).setMemoryBytes(16L << 30).build(),
          Map.of(), Duration.ZERO, t -> false, Duration.ofMillis(5), Duration.ofMillis(200));
    }

    public Options withStepDelay(Duration delay) {
      return new Options(token, hostname, capacity, labels, delay, failsToStart, reportFlush, reconnectDelay);
    }

    public Options withFailures(Predicate<Task> fails) {
      return new Options(token, hostname, capacity, labels, stepDelay, fails, reportFlush, reconnectDelay);
    }

    public Options withLabels(Map<String, String> newLabels) {
      return new Options(token, hostname, capacity, newLabels, stepDelay, failsToStart, reportFlush, reconnectDelay);
    }
  }

  private final Function<String, Channel> channels;
  private final Options options;
  private final ScheduledExecutorService scheduler;
  private final Clock clock;
  private final List<String> managers;
  private final FakeRuntime runtime;
  private final Map<String, TaskStatus> unreported = new LinkedHashMap<>();
  private String nodeId = "";
  private int generation;
  private int attempt;
  private String target = "";
  private ClientCallStreamObserver<AgentMessage> stream;
  private boolean accepted;
  private long appliedSeq;
  private ScheduledFuture<?> heartbeats;
  private ScheduledFuture<?> flush;
  private boolean heartbeatsPaused;
  private boolean closed;
  private int sessionsOpened;
  private int fullSets;
  /** Endpoint records, published services and ingress address as the manager told them. */
  private final Map<String, Endpoint> endpoints = new TreeMap<>();
  private final Map<String, PublishedService> published = new TreeMap<>();
  private NetworkAttachment ingressAttachment;
  /** The leader named by each Redirect received, in order. */
  private final List<String> redirectLeaders = new ArrayList<>();

  public FakeAgent(List<String> managers, Function<String, Channel> channels, Options options,
      ScheduledExecutorService scheduler, Clock clock) {
    this.managers = new ArrayList<>(managers);
    this.channels = channels;
    this.options = options;
    this.scheduler = scheduler;
    this.clock = clock;
    this.runtime = new FakeRuntime(this, options, scheduler, clock, this::queue);
  }

  /** Registers (in the background) and keeps a session open until closed. */
  public void start() {
    scheduler.execute(this::register);
  }

  private void register() {
    List<String> candidates;
    synchronized (this) {
      if (closed) {
        return;
      }
      candidates = List.copyOf(managers);
    }
    RegisterRequest request = RegisterRequest.newBuilder().setToken(options.token())
        .setNodeId(nodeId()).setDescription(description()).putAllLabels(options.labels())
        .setRequestId(UUID.randomUUID().toString()).build();
    for (String manager : candidates) {
      try {
        RegisterResponse response = AgentServiceGrpc.newBlockingStub(channels.apply(manager))
            .withDeadlineAfter(10, TimeUnit.SECONDS).register(request);
        synchronized (this) {
          nodeId = response.getNodeId();
          if (!response.getManagersList().isEmpty()) {
            managers.clear();
            managers.addAll(response.getManagersList());
          }
          connect(managers.get(0));
        }
        return;
      } catch (RuntimeException e) {
        if (Status.fromThrowable(e).getCode() == Status.Code.UNAUTHENTICATED) {
          synchronized (this) {
            closed = true; // a bad token will not get better by retrying
          }
          return;
        }
      }
    }
    scheduler.schedule(this::register, options.reconnectDelay().toMillis(), TimeUnit.MILLISECONDS);
  }

  private NodeDescription description() {
    return NodeDescription.newBuilder().setHostname(options.hostname())
        .setPlatform(Platform.newBuilder().setOs("linux").setArchitecture("amd64"))
        .setResources(options.capacity()).setEngineVersion("berth-fake-agent")
        .setCgroupVersion("none").build();
  }

  // ------------------------------------------------------------------ session

  private synchronized void connect(String address) {
    if (closed) {
      return;
    }
    int mine = ++generation;
    target = address;
    accepted = false;
    appliedSeq = 0;
    AgentServiceGrpc.newStub(channels.apply(address)).session(
        new ClientResponseObserver<AgentMessage, ManagerMessage>() {
          @Override
          public void beforeStart(ClientCallStreamObserver<AgentMessage> requests) {
            synchronized (FakeAgent.this) {
              stream = requests;
            }
          }

          @Override
          public void onNext(ManagerMessage message) {
            received(mine, message);
          }

          @Override
          public void onError(Throwable t) {
            broken(mine);
          }

          @Override
          public void onCompleted() {
            broken(mine);
          }
        });
    stream.onNext(AgentMessage.newBuilder().setOpen(
        SessionOpen.newBuilder().setNodeId(nodeId).setDescription(description())).build());
  }

  private synchronized void received(int gen, ManagerMessage message) {
    if (gen != generation || closed) {
      return;
    }
    switch (message.getMsgCase()) {
      case ACCEPTED -> {
        accepted = true;
        attempt = 0;
        sessionsOpened++;
        replaceManagers(message.getAccepted().getManagersList());
        long period = Math.max(10, message.getAccepted().getHeartbeatPeriodMs());
        FakeRuntime.cancel(heartbeats);
        heartbeats = scheduler.scheduleAtFixedRate(this::heartbeat, period, period, TimeUnit.MILLISECONDS);
      }
      case REDIRECT -> {
        replaceManagers(message.getRedirect().getManagersList());
        String leader = message.getRedirect().getLeader();
        redirectLeaders.add(leader);
        if (leader.equals(target)) {
          broken(gen); // a manager pointing at itself is mid-election: back off and retry
          return;
        }
        endStream();
        connect(leader);
      }
      case ASSIGNMENTS -> apply(message.getAssignments());
      case MANAGERS -> replaceManagers(message.getManagers().getManagersList());
      default -> { }
    }
  }

  private void replaceManagers(List<String> list) {
    if (!list.isEmpty()) {
      managers.clear();
      managers.addAll(list);
    }
  }

  private synchronized void broken(int gen) {
    if (gen != generation || closed) {
      return;
    }
    generation++;
    accepted = false;
    stream = null;
    FakeRuntime.cancel(heartbeats);
    String next = managers.get(Math.floorMod(++attempt, managers.size()));
    scheduler.schedule(() -> connect(next), options.reconnectDelay().toMillis(), TimeUnit.MILLISECONDS);
  }

  private void endStream() {
    generation++;
    FakeRuntime.cancel(heartbeats);
    if (stream != null) {
      try {
        stream.cancel("agent moves to another manager", null);
      } catch (RuntimeException ignored) {
        // already closed
      }
      stream = null;
    }
  }

  private synchronized void heartbeat() {
    if (stream == null || !accepted || heartbeatsPaused) {
      return;
    }
    stream.onNext(AgentMessage.newBuilder().setHeartbeat(Heartbeat.newBuilder()
        .setAppliedSeq(appliedSeq).setNodeUsage(runtime.usage())).build());
  }

  // ------------------------------------------------------------------ assignments and reports

  private void apply(Assignments assignments) {
    appliedSeq = assignments.getSeq();
    if (assignments.getFull()) {
      fullSets++;
      endpoints.clear();
      published.clear();
    }
    assignments.getEndpointsList().forEach(e -> endpoints.put(e.getTaskId() + "/" + e.getNetworkId(), e));
    assignments.getRemovedEndpointsList().forEach(endpoints::remove);
    assignments.getPublishedList().forEach(p -> published.put(p.getServiceId(), p));
    assignments.getRemovedPublishedList().forEach(published::remove);
    if (assignments.hasIngressAttachment()) {
      ingressAttachment = assignments.getIngressAttachment();
    }
    runtime.apply(assignments);
  }

  /** Queues a task's new status; the reports flush after {@code reportFlush}. */
  private void queue(String taskId, TaskStatus status) {
    unreported.put(taskId, status);
    if (flush == null) {
      flush = scheduler.schedule(this::flushReports, options.reportFlush().toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  private synchronized void flushReports() {
    flush = null;
    if (unreported.isEmpty()) {
      return;
    }
    if (stream == null || !accepted) {
      return; // kept; the next full set triggers re-reports anyway
    }
    TaskStatusReport.Builder report = TaskStatusReport.newBuilder();
    unreported.forEach((id, status) -> report.addUpdates(
        TaskStatusUpdate.newBuilder().setTaskId(id).setStatus(status)));
    unreported.clear();
    stream.onNext(AgentMessage.newBuilder().setStatus(report).build());
  }

  // ------------------------------------------------------------------ control and inspection

  /** Stops sending heartbeats while keeping the stream open (a hung agent). */
  public synchronized void pauseHeartbeats(boolean paused) {
    heartbeatsPaused = paused;
  }

  /** Sends a raw status report for any task id (tests of the manager's checks). */
  public synchronized boolean sendRawReport(String taskId, TaskState state) {
    return sendRawReport(taskId, TaskStatus.newBuilder().setState(state).setTimestampMs(clock.millis()).build());
  }

  /** Sends one status report as given, bypassing the fake runtime (e.g. a health change). */
  public synchronized boolean sendRawReport(String taskId, TaskStatus status) {
    if (stream == null || !accepted) {
      return false;
    }
    stream.onNext(AgentMessage.newBuilder().setStatus(TaskStatusReport.newBuilder().addUpdates(
        TaskStatusUpdate.newBuilder().setTaskId(taskId).setStatus(status))).build());
    return true;
  }

  public synchronized String nodeId() {
    return nodeId;
  }

  /** The runtime's view: task id -> state it has reached. */
  public synchronized Map<String, TaskState> taskStates() {
    return runtime.states();
  }

  public synchronized boolean connected() {
    return accepted;
  }

  /** Address of the manager the current (or last) session went to. */
  public synchronized String connectedTo() {
    return target;
  }

  public synchronized int sessionsOpened() {
    return sessionsOpened;
  }

  /** Endpoint records held now, by "task_id/network_id". */
  public synchronized Map<String, Endpoint> endpoints() {
    return Map.copyOf(endpoints);
  }

  /** Services published through the routing mesh, by id. */
  public synchronized Map<String, PublishedService> published() {
    return Map.copyOf(published);
  }

  public synchronized Optional<NetworkAttachment> ingressAttachment() {
    return Optional.ofNullable(ingressAttachment);
  }

  public synchronized int fullSetsReceived() {
    return fullSets;
  }

  /** The leader each Redirect named, in the order received. */
  public synchronized List<String> redirectLeaders() {
    return List.copyOf(redirectLeaders);
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    endStream();
    FakeRuntime.cancel(flush);
    runtime.close();
  }
}
