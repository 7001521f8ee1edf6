package dev.berth.agent.health;

import dev.berth.api.v1.HealthCheck;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Resolves the health check a task runs: the spec's, field by field over the image's, with Docker's
 * defaults (interval 30 s, timeout 30 s, retries 3, start period 0).
 *
 * <p>Thread model: stateless. Error contract: a malformed check throws {@link IllegalArgumentException}
 * naming the bad field; the task is then rejected.
 */
public final class HealthChecks {
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(30);
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    public static final int DEFAULT_RETRIES = 3;

    private HealthChecks() {
    }

    /**
     * The check to run, or empty when there is none ({@code ["NONE"]} in the spec, or no check in either).
     * As Docker merges a service's health check over the image's: a probe in the spec replaces the image's
     * probe, and each timing field of the spec, when set, replaces the image's.
     */
    public static Optional<HealthCheck> effective(HealthCheck spec, Optional<HealthCheck> image) {
        HealthCheck img = image.orElse(HealthCheck.getDefaultInstance());
        if (isNone(spec.getTestList())) {
            return Optional.empty();
        }
        HealthCheck.Builder out = HealthCheck.newBuilder();
        if (hasProbe(spec)) {
            copyProbe(spec, out);
        } else if (hasProbe(img) && !isNone(img.getTestList())) {
            copyProbe(img, out);
        } else {
            return Optional.empty();
        }
        out.setIntervalMs(firstPositive(spec.getIntervalMs(), img.getIntervalMs(), DEFAULT_INTERVAL.toMillis(), "interval_ms"));
        out.setTimeoutMs(firstPositive(spec.getTimeoutMs(), img.getTimeoutMs(), DEFAULT_TIMEOUT.toMillis(), "timeout_ms"));
        out.setRetries(spec.getRetries() > 0 ? spec.getRetries() : img.getRetries() > 0 ? img.getRetries() : DEFAULT_RETRIES);
        long start = spec.getStartPeriodMs() > 0 ? spec.getStartPeriodMs() : img.getStartPeriodMs();
        if (start < 0 || spec.getStartPeriodMs() < 0) {
            throw new IllegalArgumentException("healthcheck.start_period_ms must not be negative");
        }
        out.setStartPeriodMs(start);
        HealthCheck check = out.build();
        validate(check);
        return Optional.of(check);
    }

    /** The probe a resolved check runs. */
    public static Probe probeFor(HealthCheck check, ProbeTarget target) {
        if (check.getHttpPort() != 0) {
            String path = check.getHttpPath().isEmpty() ? "/" : check.getHttpPath();
            return new HttpProbe(target, check.getHttpPort(), path);
        }
        if (check.getTcpPort() != 0) {
            return new TcpProbe(target, check.getTcpPort());
        }
        List<String> test = check.getTestList();
        List<String> argv = test.get(0).equals("CMD-SHELL")
                ? List.of("/bin/sh", "-c", String.join(" ", test.subList(1, test.size())))
                : List.copyOf(test.subList(1, test.size()));
        return new ExecProbe(target, argv);
    }

    private static void validate(HealthCheck c) {
        int kinds = (c.getTestCount() > 0 ? 1 : 0) + (c.getHttpPort() != 0 ? 1 : 0) + (c.getTcpPort() != 0 ? 1 : 0);
        if (kinds != 1) {
            throw new IllegalArgumentException("healthcheck: give exactly one of test, http_port or tcp_port");
        }
        if (c.getHttpPort() > 65535 || c.getTcpPort() > 65535) {
            throw new IllegalArgumentException("healthcheck: port out of range 1-65535");
        }
        if (!c.getHttpPath().isEmpty() && !c.getHttpPath().startsWith("/")) {
            throw new IllegalArgumentException("healthcheck.http_path must start with '/': " + c.getHttpPath());
        }
        if (c.getTestCount() > 0) {
            String kind = c.getTest(0);
            if (!kind.equals("CMD") && !kind.equals("CMD-SHELL")) {
                throw new IllegalArgumentException("healthcheck.test: unknown type '" + kind
                        + "' (expected CMD, CMD-SHELL or NONE)");
            }
            if (c.getTestCount() < 2) {
                throw new IllegalArgumentException("healthcheck.test: " + kind + " needs a command");
            }
        }
    }

    private static boolean hasProbe(HealthCheck c) {
        return c.getTestCount() > 0 || c.getHttpPort() != 0 || c.getTcpPort() != 0;
    }

    private static void copyProbe(HealthCheck from, HealthCheck.Builder to) {
        to.addAllTest(from.getTestList()).setHttpPath(from.getHttpPath()).setHttpPort(from.getHttpPort())
                .setTcpPort(from.getTcpPort());
    }

    private static boolean isNone(List<String> test) {
        return test.size() == 1 && test.get(0).equals("NONE");
    }

    private static long firstPositive(long spec, long image, long dflt, String field) {
        if (spec < 0) {
            throw new IllegalArgumentException("healthcheck." + field + " must not be negative");
        }
        return spec > 0 ? spec : image > 0 ? image : dflt;
    }
}
