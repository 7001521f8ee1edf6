package dev.berth.agent.attach;

import com.google.protobuf.ByteString;
import dev.berth.agent.task.TaskExecutor;
import dev.berth.api.v1.AgentServiceGrpc;
import dev.berth.api.v1.ExecAgentOutput;
import dev.berth.api.v1.ExecInput;
import dev.berth.api.v1.ExecOutput;
import dev.berth.api.v1.ExecRequest;
import io.grpc.Channel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Serves one {@link ExecRequest}: starts the command in the task's container, opens {@code ExecStream} back
 * to the manager, relays stdin from it and stdout/stderr to it, and ends with the exit code. When the
 * manager ends the call first (the user went away) the command is killed: the launcher relays SIGTERM to
 * it, and SIGKILL after {@link #KILL_AFTER_MS} takes the launcher and with it (parent-death signal) the
 * command.
 *
 * <p>Thread model: {@link #run} blocks a worker thread until the command ends; stderr is pumped on a second
 * worker; stdin is written from gRPC's callback thread. Sends are serialized on the call. Errors: a command
 * that cannot start is reported in {@link ExecAgentOutput#getError()} with the executor's message (it names
 * the task).
 */
final class ExecRelay implements Runnable {
    static final long KILL_AFTER_MS = 2000;
    private static final int CHUNK = 32 << 10;

    private final ExecRequest request;
    private final TaskExecutor executor;
    private final Channel channel;
    private final Executor workers;
    private volatile boolean ended;
    private volatile Process process;
    private ClientCallStreamObserver<ExecAgentOutput> call;

    ExecRelay(ExecRequest request, TaskExecutor executor, Channel channel, Executor workers) {
        this.request = request;
        this.executor = executor;
        this.channel = channel;
        this.workers = workers;
    }

    @Override
    public void run() {
        Process p;
        try {
            p = executor.execAttached(request.getTaskId(), request.getArgvList());
        } catch (Exception e) {
            open();
            send(ExecAgentOutput.newBuilder().setRequestId(request.getRequestId())
                    .setError("exec in task " + request.getTaskId() + ": " + e.getMessage()).build());
            complete();
            return;
        }
        process = p;
        open();
        send(ExecAgentOutput.newBuilder().setRequestId(request.getRequestId()).build());
        CompletableFuture<Void> stderr = CompletableFuture.runAsync(
                () -> pump(p.getErrorStream(), b -> ExecOutput.newBuilder().setStderr(b)), workers);
        pump(p.getInputStream(), b -> ExecOutput.newBuilder().setStdout(b));
        stderr.join();
        int code;
        try {
            code = p.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            return;
        }
        send(ExecAgentOutput.newBuilder().setOutput(ExecOutput.newBuilder().setExited(true).setExitCode(code)).build());
        complete();
    }

    private void open() {
        call = (ClientCallStreamObserver<ExecAgentOutput>) AgentServiceGrpc.newStub(channel).execStream(new StreamObserver<>() {
            @Override
            public void onNext(ExecInput in) {
                Process p = process;
                if (p == null) {
                    return;
                }
                OutputStream stdin = p.getOutputStream();
                try {
                    switch (in.getMsgCase()) {
                        case STDIN -> {
                            in.getStdin().writeTo(stdin);
                            stdin.flush();
                        }
                        case CLOSE_STDIN -> stdin.close();
                        default -> { }
                    }
                } catch (IOException e) {
                    // the command closed its stdin or ended: later input has nowhere to go
                }
            }

            @Override
            public void onError(Throwable t) {
                abandoned();
            }

            @Override
            public void onCompleted() {
                abandoned();
            }
        });
    }

    /** The manager ended the call: nobody reads the output any more, so the command ends too. */
    private void abandoned() {
        ended = true;
        Process p = process;
        if (p != null && p.isAlive()) {
            p.destroy();
            p.onExit().completeOnTimeout(null, KILL_AFTER_MS, TimeUnit.MILLISECONDS)
                    .thenRun(() -> {
                        if (p.isAlive()) {
                            p.destroyForcibly();
                        }
                    });
        }
    }

    private void pump(InputStream in, Function<ByteString, ExecOutput.Builder> wrap) {
        byte[] buf = new byte[CHUNK];
        try (in) {
            for (int n; (n = in.read(buf)) >= 0; ) {
                if (n > 0) {
                    send(ExecAgentOutput.newBuilder().setOutput(wrap.apply(ByteString.copyFrom(buf, 0, n))).build());
                }
            }
        } catch (IOException e) {
            // the pipe closed under us (process killed): its end is reported by the exit code
        }
    }

    private synchronized void send(ExecAgentOutput m) {
        if (ended) {
            return;
        }
        try {
            call.onNext(m);
        } catch (RuntimeException e) {
            ended = true;
        }
    }

    private synchronized void complete() {
        if (!ended) {
            ended = true;
            call.onCompleted();
        }
    }
}
