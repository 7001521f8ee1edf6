package dev.berth.agent.session;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Settings of a {@link SessionClient}.
 *
 * @param join managers to try first ("host:port"), before any list learned from the cluster
 * @param heartbeatFallback heartbeat period used when the manager gives none
 * @param acceptTimeout how long to wait for SessionAccepted (or a Register answer) before trying another manager
 * @param reportBatchDelay how long status transitions are collected before they are sent in one report
 */
public record SessionConfig(List<String> join, String token, Map<String, String> labels, Duration backoffMin,
                            Duration backoffMax, Duration heartbeatFallback, Duration acceptTimeout,
                            Duration reportBatchDelay) {
    public SessionConfig {
        if (join.isEmpty()) {
            throw new IllegalArgumentException("--join: give at least one manager address");
        }
        join = List.copyOf(join);
        labels = Map.copyOf(labels);
    }

    public static SessionConfig defaults(List<String> join, String token, Map<String, String> labels) {
        return new SessionConfig(join, token, labels, Duration.ofMillis(100), Duration.ofSeconds(10),
                Duration.ofSeconds(5), Duration.ofSeconds(15), Duration.ofMillis(10));
    }
}
