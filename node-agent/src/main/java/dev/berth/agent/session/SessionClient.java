package dev.berth.agent.session;

import dev.berth.agent.loop.Scheduler;
import dev.berth.agent.task.StatusSink;
import dev.berth.agent.task.TaskManager;
import dev.berth.api.v1.AgentMessage;
import dev.berth.api.v1.AgentServiceGrpc;
import dev.berth.api.v1.Assignments;
import dev.berth.api.v1.Heartbeat;
import dev.berth.api.v1.ManagerMessage;
import dev.berth.api.v1.NodeDescription;
import dev.berth.api.v1.RegisterRequest;
import dev.berth.api.v1.RegisterResponse;
import dev.berth.api.v1.Resources;
import dev.berth.api.v1.SessionOpen;
import dev.berth.api.v1.TaskStatus;
import dev.berth.api.v1.TaskStatusReport;
import dev.berth.api.v1.TaskUsage;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * The agent's side of the agent API: registers the node, keeps one {@code Session} stream to the leading
 * manager, hands assignments to the {@link TaskManager} and reports task status transitions back.
 *
 * <p><b>Thread model.</b> One gRPC stream at a time; every gRPC callback is posted to one single-threaded
 * {@link Scheduler} (the event loop), which alone reads and writes this object's state and the task
 * manager's. A stream is identified by a generation number, so callbacks from a stream the client has
 * already abandoned are ignored.
 *
 * <p><b>Assignments.</b> Each session starts with a full set, then increments numbered seq+1, seq+2, ...
 * A seq at or below the last applied one is a repeat and is ignored (the task manager is idempotent by
 * task id anyway); a larger jump, or an increment before the first full set, is a gap: the client drops
 * the stream and opens a new one, which starts with a full set. Heartbeats carry the last applied seq.
 *
 * <p><b>Status reports: the acknowledgement scheme.</b> Every transition is queued and sent in batches:
 * all transitions made during one turn of the loop (plus {@code reportBatchDelay}) go in one {@code
 * TaskStatusReport}. The client also keeps the latest unacknowledged status per task. A status counts as
 * acknowledged once an assignment message (full or incremental) lists the task with that state or a later
 * one (and, for RUNNING, the same health), or no longer lists the task at all (removed ids, or absent from a
 * full set). After every reconnect, once the new session's full set has been applied (which acknowledges
 * whatever the manager committed meanwhile), the client re-sends the latest status of every task still
 * unacknowledged. Because states only move forward, the latest status suffices; at most one is kept per
 * task, so the memory is bounded by the number of tasks. A manager that never echoes committed status in
 * increments still works: its next full set acknowledges everything.
 *
 * <p><b>Leader changes.</b> A Redirect, a ManagerList or the managers in SessionAccepted update the known
 * managers (leader first). A broken stream or failed registration moves to the next known manager after a
 * bounded, jittered backoff ({@link Backoff}); an accepted session resets the backoff.
 *
 * <p><b>Error contract.</b> Transient failures are retried forever. A session refused with NOT_FOUND (the
 * manager does not know the node) makes the client register again, keeping its node id. A rejected join (bad token:
 * UNAUTHENTICATED, PERMISSION_DENIED or INVALID_ARGUMENT from Register) is fatal: {@link #terminated()}
 * completes exceptionally with the manager's message and the client stops.
 */
public final class SessionClient implements StatusSink, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(SessionClient.class.getName());

    private final SessionConfig config;
    private final ChannelFactory channels;
    private final NodeIdStore idStore;
    private final Supplier<NodeDescription> description;
    private final Scheduler loop;
    private final Backoff backoff;
    private final String requestId;
    private final CompletableFuture<Void> terminated = new CompletableFuture<>();

    private TaskManager tasks;
    private BiConsumer<ManagerMessage, Channel> attachRequests = (m, c) -> LOG.log(System.Logger.Level.WARNING,
            "ignoring a " + m.getMsgCase() + ": this agent serves no logs or exec");
    private final Set<String> managers = new LinkedHashSet<>();
    private String leaderHint;
    private String target;
    private ManagedChannel channel;
    private String nodeId;
    private boolean registered;
    private boolean closed;

    private long generation;
    private ClientCallStreamObserver<AgentMessage> stream;
    private boolean accepted;
    private boolean fullSeen;
    private long appliedSeq;
    private String sessionId = "";
    private Scheduler.Cancellable heartbeatTimer;
    private Scheduler.Cancellable acceptTimer;
    private Scheduler.Cancellable flushTimer;
    private int sessionsOpened;
    private BiConsumer<String, Assignments> observer = (node, a) -> { };

    private final StatusReports reports = new StatusReports();

    public SessionClient(SessionConfig config, ChannelFactory channels, NodeIdStore idStore,
                         Supplier<NodeDescription> description, Scheduler loop, Random random) {
        this.config = config;
        this.channels = channels;
        this.idStore = idStore;
        this.description = description;
        this.loop = loop;
        this.backoff = new Backoff(config.backoffMin(), config.backoffMax(), random);
        this.requestId = new UUID(random.nextLong(), random.nextLong()).toString();
        managers.addAll(config.join());
    }

    /**
     * Registers who else sees each assignments message the client applies (in order, full sets and
     * numbered changes alike), with the node id: the agent's network controller. Called before {@link
     * #start}, on the loop thread; the observer must not block.
     */
    public void observeAssignments(BiConsumer<String, Assignments> observer) {
        this.observer = observer;
    }

    /** Starts joining; assignments go to {@code taskManager} (whose status sink must be this client). */
    public void start(TaskManager taskManager) {
        loop.execute(() -> {
            this.tasks = taskManager;
            nodeId = idStore.load().orElse("");
            connect();
        });
    }

    /**
     * Who serves the leader's log and exec requests (called on the loop with the request and the channel to
     * the manager that sent it, must not block). Set before {@link #start}.
     */
    public void onAttachRequest(BiConsumer<ManagerMessage, Channel> handler) {
        this.attachRequests = handler;
    }

    /** Completes when the client stops: normally after {@link #close}, exceptionally on a fatal error. */
    public CompletableFuture<Void> terminated() {
        return terminated;
    }

    // ------------------------------------------------------------------ connection

    private void connect() {
        if (closed) {
            return;
        }
        String next = chooseTarget();
        if (!next.equals(target) || channel == null) {
            if (channel != null) {
                channel.shutdownNow();
            }
            target = next;
            channel = channels.open(target);
        }
        if (registered) {
            openSession();
        } else {
            register();
        }
    }

    /** The leader when known, else the manager after the current one in the known list. */
    private String chooseTarget() {
        if (leaderHint != null) {
            String l = leaderHint;
            leaderHint = null;
            return l;
        }
        List<String> all = new ArrayList<>(managers);
        int i = all.indexOf(target);
        return all.get((i + 1) % all.size());
    }

    private void retryLater(String why) {
        if (closed) {
            return;
        }
        Duration delay = backoff.next();
        LOG.log(System.Logger.Level.INFO, why + "; retrying in " + delay.toMillis() + " ms");
        loop.schedule(delay, this::connect);
    }

    private void register() {
        long gen = ++generation;
        RegisterRequest req = RegisterRequest.newBuilder().setToken(config.token()).setNodeId(nodeId)
                .setDescription(description.get()).putAllLabels(config.labels()).setRequestId(requestId).build();
        AgentServiceGrpc.newStub(channel).withDeadlineAfter(config.acceptTimeout().toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
                .register(req, new StreamObserver<>() {
                    @Override
                    public void onNext(RegisterResponse r) {
                        loop.execute(() -> registered(gen, r));
                    }

                    @Override
                    public void onError(Throwable t) {
                        loop.execute(() -> registerFailed(gen, Status.fromThrowable(t)));
                    }

                    @Override
                    public void onCompleted() {
                    }
                });
    }

    private void registered(long gen, RegisterResponse r) {
        if (gen != generation || closed) {
            return;
        }
        if (r.getNodeId().isEmpty()) {
            registerFailed(gen, Status.INTERNAL.withDescription("Register answered without a node id"));
            return;
        }
        if (!r.getNodeId().equals(nodeId)) {
            idStore.save(r.getNodeId());
            nodeId = r.getNodeId();
        }
        registered = true;
        learnManagers(r.getManagersList(), r.getManagersCount() > 0 ? r.getManagers(0) : null);
        LOG.log(System.Logger.Level.INFO, "registered as node " + nodeId + " with " + target);
        connect();
    }

    private void registerFailed(long gen, Status s) {
        if (gen != generation || closed) {
            return;
        }
        switch (s.getCode()) {
            case UNAUTHENTICATED, PERMISSION_DENIED, INVALID_ARGUMENT -> fail(new IllegalStateException(
                    "manager " + target + " refused to join this node: " + s.getCode() + ": " + s.getDescription()));
            default -> retryLater("registering with " + target + " failed: " + s.getCode() + " " + s.getDescription());
        }
    }

    private void openSession() {
        long gen = ++generation;
        accepted = false;
        fullSeen = false;
        appliedSeq = 0;
        sessionsOpened++;
        stream = (ClientCallStreamObserver<AgentMessage>) AgentServiceGrpc.newStub(channel).session(new StreamObserver<>() {
            @Override
            public void onNext(ManagerMessage m) {
                loop.execute(() -> received(gen, m));
            }

            @Override
            public void onError(Throwable t) {
                loop.execute(() -> streamEnded(gen, Status.fromThrowable(t)));
            }

            @Override
            public void onCompleted() {
                loop.execute(() -> streamEnded(gen, Status.UNAVAILABLE.withDescription("manager closed the session")));
            }
        });
        send(AgentMessage.newBuilder().setOpen(SessionOpen.newBuilder().setNodeId(nodeId)
                .setDescription(description.get())).build());
        acceptTimer = loop.schedule(config.acceptTimeout(), () -> {
            if (gen == generation && !accepted) {
                dropStream("no SessionAccepted from " + target + " within " + config.acceptTimeout().toMillis() + " ms");
            }
        });
    }

    private void streamEnded(long gen, Status s) {
        if (gen != generation) {
            return;
        }
        endStream();
        if (s.getCode() == Status.Code.NOT_FOUND) {
            registered = false; // the cluster lost or removed this node: register again under the same id
        }
        retryLater("session with " + target + " ended: " + s.getCode()
                + (s.getDescription() == null ? "" : " " + s.getDescription()));
    }

    /** Abandons the current stream (cancelling it) and reconnects after a backoff. */
    private void dropStream(String why) {
        endStream();
        retryLater(why);
    }

    private void endStream() {
        generation++;
        accepted = false;
        cancel(heartbeatTimer);
        cancel(acceptTimer);
        if (stream != null) {
            stream.cancel("agent dropped the session", null);
            stream = null;
        }
    }

    // ------------------------------------------------------------------ manager messages

    private void received(long gen, ManagerMessage m) {
        if (gen != generation || closed) {
            return;
        }
        switch (m.getMsgCase()) {
            case ACCEPTED -> {
                accepted = true;
                sessionId = m.getAccepted().getSessionId();
                cancel(acceptTimer);
                backoff.reset();
                learnManagers(m.getAccepted().getManagersList(), null);
                long ms = m.getAccepted().getHeartbeatPeriodMs();
                Duration period = ms > 0 ? Duration.ofMillis(ms) : config.heartbeatFallback();
                LOG.log(System.Logger.Level.INFO, "session " + sessionId + " with " + target + " accepted; heartbeat every " + period.toMillis() + " ms");
                scheduleHeartbeat(gen, period);
            }
            case REDIRECT -> {
                learnManagers(m.getRedirect().getManagersList(), m.getRedirect().getLeader());
                dropStream(target + " is not the leader; redirected to " + m.getRedirect().getLeader());
            }
            case MANAGERS -> learnManagers(m.getManagers().getManagersList(), m.getManagers().getLeader());
            case ASSIGNMENTS -> {
                if (!accepted) {
                    dropStream("assignments before SessionAccepted from " + target);
                } else {
                    assignments(m.getAssignments());
                }
            }
            case LOG_REQUEST, EXEC_REQUEST -> {
                if (accepted) {
                    attachRequests.accept(m, channel);
                }
            }
            default -> LOG.log(System.Logger.Level.WARNING, "ignoring an unknown message from " + target);
        }
    }

    private void assignments(Assignments a) {
        if (a.getFull()) {
            // acknowledge first, so only what the manager lacks is re-sent, then queue the re-sends ahead
            // of the transitions applying this set will make
            reports.acknowledge(a);
            if (!fullSeen) {
                fullSeen = true;
                reports.requeueUnacknowledged();
                scheduleFlush();
            }
            observer.accept(nodeId, a);
            tasks.applyFull(a.getTasksList());
            appliedSeq = a.getSeq();
        } else if (!fullSeen || a.getSeq() > appliedSeq + 1) {
            dropStream("assignment seq " + a.getSeq() + " after " + appliedSeq
                    + (fullSeen ? ": gap" : " before a full set") + "; reconnecting for a full set");
        } else if (a.getSeq() == appliedSeq + 1) {
            reports.acknowledge(a);
            observer.accept(nodeId, a);
            tasks.applyChanges(a.getTasksList(), a.getRemovedTaskIdsList());
            appliedSeq = a.getSeq();
        }
        // else: seq <= appliedSeq, a repeat: already applied
    }

    private void learnManagers(List<String> list, String leader) {
        if (!list.isEmpty()) {
            managers.clear();
            managers.addAll(list);
            managers.addAll(config.join());
        }
        if (leader != null && !leader.isEmpty()) {
            managers.add(leader);
            if (!leader.equals(target) || stream == null) {
                leaderHint = leader; // where to go next; no need while already streaming to it
            }
        }
    }

    // ------------------------------------------------------------------ agent messages

    private void scheduleHeartbeat(long gen, Duration period) {
        heartbeatTimer = loop.schedule(period, () -> {
            if (gen != generation || closed) {
                return;
            }
            Map<String, TaskUsage> usage = tasks.usage();
            long cpu = 0;
            long mem = 0;
            for (TaskUsage u : usage.values()) {
                cpu += u.getNanoCpus();
                mem += u.getMemoryBytes();
            }
            send(AgentMessage.newBuilder().setHeartbeat(Heartbeat.newBuilder().setAppliedSeq(appliedSeq)
                    .setNodeUsage(Resources.newBuilder().setNanoCpus(cpu).setMemoryBytes(mem))
                    .putAllTaskUsage(usage)).build());
            scheduleHeartbeat(gen, period);
        });
    }

    /** Called by the task manager (on the loop) for every transition. */
    @Override
    public void report(String taskId, TaskStatus status) {
        boolean live = stream != null && accepted && fullSeen;
        reports.record(taskId, status, live); // when not live: re-sent after the next session's full set
        if (live) {
            scheduleFlush();
        }
    }

    private void scheduleFlush() {
        if (flushTimer == null && reports.hasQueued()) {
            flushTimer = loop.schedule(config.reportBatchDelay(), this::flush);
        }
    }

    private void flush() {
        flushTimer = null;
        if (stream == null || !accepted || !fullSeen) {
            return; // re-sent from unacked after the next session's full set
        }
        for (TaskStatusReport report : reports.drain()) {
            send(AgentMessage.newBuilder().setStatus(report).build());
        }
    }

    private void send(AgentMessage m) {
        try {
            stream.onNext(m);
        } catch (IllegalStateException | StatusRuntimeException e) {
            dropStream("sending to " + target + " failed: " + e.getMessage());
        }
    }

    // ------------------------------------------------------------------ lifecycle and introspection

    private void fail(Exception e) {
        LOG.log(System.Logger.Level.ERROR, e.getMessage());
        shutdown();
        terminated.completeExceptionally(e);
    }

    private void shutdown() {
        closed = true;
        endStream();
        cancel(flushTimer);
        if (channel != null) {
            channel.shutdownNow();
            channel = null;
        }
    }

    /** Closes the stream and channel; tasks keep running (containers outlive the agent). */
    @Override
    public void close() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        loop.execute(() -> {
            shutdown();
            done.complete(null);
        });
        try {
            done.get(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "closing the session client: " + e);
        }
        terminated.complete(null);
    }

    /** A consistent copy of the client's state, for status output and tests. */
    public record Snapshot(String nodeId, String target, String sessionId, boolean accepted, long appliedSeq,
                           int sessionsOpened, Set<String> managers, Set<String> unacked) {
    }

    public CompletableFuture<Snapshot> snapshot() {
        CompletableFuture<Snapshot> f = new CompletableFuture<>();
        loop.execute(() -> f.complete(new Snapshot(nodeId, target, sessionId, accepted, appliedSeq, sessionsOpened,
                Set.copyOf(managers), reports.unacknowledgedIds())));
        return f;
    }

    /** Node id once registered. */
    public Optional<String> nodeId() {
        return Optional.ofNullable(snapshot().join().nodeId()).filter(s -> !s.isEmpty());
    }

    private static void cancel(Scheduler.Cancellable c) {
        if (c != null) {
            c.cancel();
        }
    }
}
