package dev.berth.agent.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.agent.loop.ManualExecutor;
import dev.berth.agent.loop.ManualScheduler;
import dev.berth.api.v1.HealthCheck;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Docker's interval / timeout / retries / start-period semantics, on a manual clock. */
class HealthMonitorTest {
    private final ManualScheduler loop = new ManualScheduler();
    private final List<String> changes = new ArrayList<>();
    private final Deque<Boolean> outcomes = new ArrayDeque<>();
    private final List<Duration> probeTimes = new ArrayList<>();

    private final Probe scripted = timeout -> {
        probeTimes.add(Duration.between(java.time.Instant.parse("2026-01-01T00:00:00Z"), loop.now()));
        boolean ok = outcomes.isEmpty() || outcomes.poll();
        return new Probe.Result(ok, ok ? "ok" : "probe failed #" + probeTimes.size());
    };

    private HealthMonitor monitor(HealthCheck check, Probe probe, java.util.concurrent.Executor worker) {
        HealthMonitor m = new HealthMonitor(check, probe, loop, worker, loop.now(),
                (status, out) -> changes.add(status + (out.isEmpty() ? "" : " (" + out + ")")));
        m.start();
        return m;
    }

    private static HealthCheck check(long intervalS, long timeoutS, int retries, long startPeriodS) {
        return HealthCheck.newBuilder().addTest("CMD").addTest("true").setIntervalMs(intervalS * 1000)
                .setTimeoutMs(timeoutS * 1000).setRetries(retries).setStartPeriodMs(startPeriodS * 1000).build();
    }

    @Test
    void firstProbeAfterOneIntervalThenUnhealthyAfterRetriesConsecutiveFailures() {
        outcomes.addAll(List.of(false, false, false));
        HealthMonitor m = monitor(check(10, 5, 3, 0), scripted, Runnable::run);
        loop.advance(Duration.ofSeconds(9));
        assertThat(probeTimes).isEmpty();
        loop.advance(Duration.ofSeconds(11)); // t = 20 s
        assertThat(probeTimes).containsExactly(Duration.ofSeconds(10), Duration.ofSeconds(20));
        assertThat(m.failingStreak()).isEqualTo(2);
        assertThat(m.status()).isEqualTo("starting");
        loop.advance(Duration.ofSeconds(10));
        assertThat(changes).containsExactly("starting", "unhealthy (probe failed #3)");
        loop.advance(Duration.ofMinutes(5));
        assertThat(probeTimes).hasSize(3); // stops probing once unhealthy
    }

    @Test
    void aPassResetsTheStreak() {
        outcomes.addAll(List.of(false, false, true, false, false, true));
        HealthMonitor m = monitor(check(10, 5, 3, 0), scripted, Runnable::run);
        loop.advance(Duration.ofSeconds(60));
        assertThat(probeTimes).hasSize(6);
        assertThat(m.status()).isEqualTo("healthy");
        assertThat(changes).containsExactly("starting", "healthy (ok)");
    }

    @Test
    void failuresInsideTheStartPeriodDoNotCountUntilTheFirstPass() {
        outcomes.addAll(List.of(false, false, false, false, false));
        HealthMonitor m = monitor(check(10, 5, 2, 25), scripted, Runnable::run);
        loop.advance(Duration.ofSeconds(20));
        assertThat(m.failingStreak()).isZero(); // probes at 10 s and 20 s began inside the 25 s start period
        loop.advance(Duration.ofSeconds(10));
        assertThat(m.failingStreak()).isEqualTo(1);
        assertThat(m.status()).isEqualTo("starting");
        loop.advance(Duration.ofSeconds(10));
        assertThat(m.status()).isEqualTo("unhealthy");
        assertThat(probeTimes).hasSize(4);
    }

    @Test
    void aPassInsideTheStartPeriodEndsItSoLaterFailuresCount() {
        outcomes.addAll(List.of(true, false, false));
        HealthMonitor m = monitor(check(10, 5, 2, 100), scripted, Runnable::run);
        loop.advance(Duration.ofSeconds(30));
        assertThat(m.status()).isEqualTo("unhealthy");
        assertThat(changes).containsExactly("starting", "healthy (ok)", "unhealthy (probe failed #3)");
    }

    @Test
    void aProbeThatOverrunsItsTimeoutFailsAndItsLateResultIsIgnored() {
        ManualExecutor stuck = new ManualExecutor();
        HealthMonitor m = monitor(check(10, 3, 1, 0), scripted, stuck);
        loop.advance(Duration.ofSeconds(12));
        assertThat(stuck.pending()).isEqualTo(1); // the probe is still running
        assertThat(m.status()).isEqualTo("starting");
        loop.advance(Duration.ofSeconds(1)); // 3 s after it began
        assertThat(m.status()).isEqualTo("unhealthy");
        assertThat(changes.get(1)).isEqualTo("unhealthy (health check exceeded timeout (3000 ms))");
        stuck.runAll(); // the late pass arrives
        loop.runPending();
        assertThat(m.status()).isEqualTo("unhealthy");
        assertThat(changes).hasSize(2);
    }

    @Test
    void stopCancelsProbing() {
        HealthMonitor m = monitor(check(10, 5, 3, 0), scripted, Runnable::run);
        loop.advance(Duration.ofSeconds(10));
        m.stop();
        loop.advance(Duration.ofSeconds(100));
        assertThat(probeTimes).hasSize(1);
    }

    @Test
    void execProbeRunsTheCommandAndReportsItsOutput() {
        List<List<String>> ran = new ArrayList<>();
        ProbeTarget target = new ProbeTarget() {
            @Override
            public ExecResult exec(List<String> argv, Duration timeout) {
                ran.add(argv);
                return new ExecResult(argv.contains("bad") ? 1 : 0, argv.contains("bad") ? "bad things\n" : "");
            }

            @Override
            public InetAddress address() {
                return InetAddress.getLoopbackAddress();
            }
        };
        HealthCheck cmd = HealthCheck.newBuilder().addTest("CMD").addTest("probe").addTest("bad").build();
        Probe.Result r = HealthChecks.probeFor(cmd, target).run(Duration.ofSeconds(1));
        assertThat(r).isEqualTo(new Probe.Result(false, "bad things"));
        assertThat(ran).containsExactly(List.of("probe", "bad"));
        HealthCheck shell = HealthCheck.newBuilder().addTest("CMD-SHELL").addTest("curl -f localhost || exit 1").build();
        assertThat(HealthChecks.probeFor(shell, target).run(Duration.ofSeconds(1)).healthy()).isTrue();
        assertThat(ran.get(1)).containsExactly("/bin/sh", "-c", "curl -f localhost || exit 1");
    }
}
