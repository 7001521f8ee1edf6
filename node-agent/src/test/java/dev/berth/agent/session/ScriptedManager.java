package dev.berth.agent.session;

import dev.berth.api.v1.AgentMessage;
import dev.berth.api.v1.AgentServiceGrpc;
import dev.berth.api.v1.Assignments;
import dev.berth.api.v1.Heartbeat;
import dev.berth.api.v1.ManagerList;
import dev.berth.api.v1.ManagerMessage;
import dev.berth.api.v1.Redirect;
import dev.berth.api.v1.RegisterRequest;
import dev.berth.api.v1.RegisterResponse;
import dev.berth.api.v1.SessionAccepted;
import dev.berth.api.v1.Task;
import dev.berth.api.v1.TaskStatusUpdate;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * A real gRPC AgentService, in-process, whose answers the test scripts: it records what the agent sends
 * and lets the test push assignments, redirects and manager lists into each session.
 */
public final class ScriptedManager extends AgentServiceGrpc.AgentServiceImplBase implements AutoCloseable {
    final String name;
    public final List<RegisterRequest> registrations = new CopyOnWriteArrayList<>();
    public final List<Session> sessions = new CopyOnWriteArrayList<>();
    volatile Function<RegisterRequest, RegisterResponse> onRegister;
    volatile Consumer<Session> onOpen = s -> s.accept(50);
    private final Server server;

    ScriptedManager(String name, List<String> managers) throws IOException {
        this(name, managers, InProcessServerBuilder.forName(name));
    }

    /** A manager on a real TCP port on loopback; {@link #port()} tells which. */
    public static ScriptedManager onLoopback(List<String> managers) throws IOException {
        return new ScriptedManager("tcp", managers, io.grpc.netty.NettyServerBuilder
                .forAddress(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0)));
    }

    private ScriptedManager(String name, List<String> managers, io.grpc.ServerBuilder<?> builder) throws IOException {
        this.name = name;
        this.onRegister = r -> RegisterResponse.newBuilder()
                .setNodeId(r.getNodeId().isEmpty() ? "node-" + (registrations.size()) : r.getNodeId())
                .addAllManagers(managers).build();
        this.server = builder.addService(this).build().start();
    }

    @Override
    public void register(RegisterRequest request, StreamObserver<RegisterResponse> out) {
        registrations.add(request);
        try {
            out.onNext(onRegister.apply(request));
            out.onCompleted();
        } catch (io.grpc.StatusRuntimeException e) {
            out.onError(e);
        }
    }

    @Override
    public StreamObserver<AgentMessage> session(StreamObserver<ManagerMessage> out) {
        Session s = new Session(out);
        return new StreamObserver<>() {
            @Override
            public void onNext(AgentMessage m) {
                s.in.add(m);
                if (m.hasOpen()) {
                    onOpen.accept(s); // before the test can see the session, so it is accepted first
                    sessions.add(s);
                }
            }

            @Override
            public void onError(Throwable t) {
                s.ended = true;
            }

            @Override
            public void onCompleted() {
                s.ended = true;
            }
        };
    }

    /** Sessions opened from now on are accepted with this heartbeat period (default 50 ms). */
    public void heartbeatPeriod(long ms) {
        onOpen = s -> s.accept(ms);
    }

    public int port() {
        return server.getPort();
    }

    public Session session(int i) {
        return sessions.get(i);
    }

    Session last() {
        return sessions.get(sessions.size() - 1);
    }

    @Override
    public void close() {
        server.shutdownNow();
    }

    /** One Session stream as the manager sees it. */
    public static final class Session {
        final List<AgentMessage> in = new CopyOnWriteArrayList<>();
        private final StreamObserver<ManagerMessage> out;
        volatile boolean ended;

        Session(StreamObserver<ManagerMessage> out) {
            this.out = out;
        }

        synchronized void send(ManagerMessage m) {
            out.onNext(m);
        }

        void accept(long heartbeatMs, String... managers) {
            send(ManagerMessage.newBuilder().setAccepted(SessionAccepted.newBuilder().setSessionId("s" + System.nanoTime())
                    .setHeartbeatPeriodMs(heartbeatMs).addAllManagers(List.of(managers))).build());
        }

        public void full(long seq, Task... tasks) {
            send(ManagerMessage.newBuilder().setAssignments(Assignments.newBuilder().setSeq(seq).setFull(true)
                    .addAllTasks(List.of(tasks))).build());
        }

        public void changes(long seq, List<Task> tasks, List<String> removed) {
            send(ManagerMessage.newBuilder().setAssignments(Assignments.newBuilder().setSeq(seq)
                    .addAllTasks(tasks).addAllRemovedTaskIds(removed)).build());
        }

        void redirect(String leader, String... managers) {
            send(ManagerMessage.newBuilder().setRedirect(Redirect.newBuilder().setLeader(leader)
                    .addAllManagers(List.of(managers))).build());
        }

        void managers(String leader, String... managers) {
            send(ManagerMessage.newBuilder().setManagers(ManagerList.newBuilder().setLeader(leader)
                    .addAllManagers(List.of(managers))).build());
        }

        synchronized void refuse(Status status) {
            out.onError(status.asRuntimeException());
            ended = true;
        }

        synchronized void kill() {
            out.onError(Status.UNAVAILABLE.withDescription("leader lost").asRuntimeException());
            ended = true;
        }

        public String nodeId() {
            return in.get(0).getOpen().getNodeId();
        }

        public List<Heartbeat> heartbeats() {
            return in.stream().filter(AgentMessage::hasHeartbeat).map(AgentMessage::getHeartbeat).toList();
        }

        public List<TaskStatusUpdate> updates() {
            List<TaskStatusUpdate> all = new ArrayList<>();
            in.stream().filter(AgentMessage::hasStatus).forEach(m -> all.addAll(m.getStatus().getUpdatesList()));
            return all;
        }

        /** "id:STATE" for every update received, in order. */
        public List<String> transitions(String taskId) {
            return updates().stream().filter(u -> u.getTaskId().equals(taskId))
                    .map(u -> u.getStatus().getState().name()).toList();
        }
    }
}
