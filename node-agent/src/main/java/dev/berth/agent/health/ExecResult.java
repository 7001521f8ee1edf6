package dev.berth.agent.health;

/** Outcome of a command run inside a container: its exit code and combined stdout/stderr (may be cut). */
public record ExecResult(int exitCode, String output) {
    public ExecResult {
        output = output == null ? "" : output;
    }
}
