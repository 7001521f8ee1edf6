package dev.berth.agent.health;

import java.time.Duration;
import java.util.List;

/** CMD / CMD-SHELL probe: exit code 0 is healthy, anything else (as in Docker) a failure. */
final class ExecProbe implements Probe {
    private final ProbeTarget target;
    private final List<String> argv;

    ExecProbe(ProbeTarget target, List<String> argv) {
        this.target = target;
        this.argv = argv;
    }

    @Override
    public Result run(Duration timeout) {
        try {
            ExecResult r = target.exec(argv, timeout);
            return new Result(r.exitCode() == 0, r.output().isBlank() && r.exitCode() != 0
                    ? "exit code " + r.exitCode() : r.output());
        } catch (Exception e) {
            return new Result(false, "cannot run health check " + argv + ": " + e.getMessage());
        }
    }
}
