package dev.berth.agent.task;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * What {@link SimulatedTaskExecutor#execAttached} returns: a command that has already finished with the
 * output and exit code the executor's exec handler chose; its stdin is accepted and discarded.
 * Thread-safe (immutable apart from the destroyed flag).
 */
final class SimulatedProcess extends Process {
    private final byte[] stdout;
    private final int exitCode;
    private volatile boolean destroyed;

    SimulatedProcess(String stdout, int exitCode) {
        this.stdout = stdout.getBytes(StandardCharsets.UTF_8);
        this.exitCode = exitCode;
    }

    @Override
    public OutputStream getOutputStream() {
        return OutputStream.nullOutputStream();
    }

    @Override
    public InputStream getInputStream() {
        return new ByteArrayInputStream(stdout);
    }

    @Override
    public InputStream getErrorStream() {
        return InputStream.nullInputStream();
    }

    @Override
    public int waitFor() {
        return exitValue();
    }

    @Override
    public boolean waitFor(long timeout, TimeUnit unit) {
        return true;
    }

    @Override
    public int exitValue() {
        return destroyed ? 137 : exitCode;
    }

    @Override
    public void destroy() {
        destroyed = true;
    }

    @Override
    public CompletableFuture<Process> onExit() {
        return CompletableFuture.completedFuture(this);
    }
}
