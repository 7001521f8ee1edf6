package dev.berth.agent.health;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;

/** TCP probe: a connection accepted within the timeout is healthy. */
final class TcpProbe implements Probe {
    private final ProbeTarget target;
    private final int port;

    TcpProbe(ProbeTarget target, int port) {
        this.target = target;
        this.port = port;
    }

    @Override
    public Result run(Duration timeout) {
        InetSocketAddress to = new InetSocketAddress(target.address(), port);
        try (Socket s = new Socket()) {
            s.connect(to, (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis())));
            return new Result(true, "connected to " + to);
        } catch (IOException e) {
            return new Result(false, "connect to " + to + ": " + e.getMessage());
        }
    }
}
