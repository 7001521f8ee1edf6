package dev.berth.agent.health;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.v1.HealthCheck;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class HealthChecksTest {
    private static final HealthCheck IMAGE = HealthCheck.newBuilder().addTest("CMD").addTest("/healthcheck")
            .setIntervalMs(5000).setRetries(7).build();

    @Test
    void noCheckAnywhereMeansNone() {
        assertThat(HealthChecks.effective(HealthCheck.getDefaultInstance(), Optional.empty())).isEmpty();
    }

    @Test
    void imageCheckGetsDockerDefaultsForUnsetFields() {
        HealthCheck hc = HealthChecks.effective(HealthCheck.getDefaultInstance(), Optional.of(IMAGE)).orElseThrow();
        assertThat(hc.getTestList()).containsExactly("CMD", "/healthcheck");
        assertThat(hc.getIntervalMs()).isEqualTo(5000);
        assertThat(hc.getTimeoutMs()).isEqualTo(30_000);
        assertThat(hc.getRetries()).isEqualTo(7);
        assertThat(hc.getStartPeriodMs()).isZero();
    }

    @Test
    void specFieldsOverrideTheImagesOneByOne() {
        HealthCheck spec = HealthCheck.newBuilder().setTimeoutMs(2000).setStartPeriodMs(9000).build();
        HealthCheck hc = HealthChecks.effective(spec, Optional.of(IMAGE)).orElseThrow();
        assertThat(hc.getTestList()).containsExactly("CMD", "/healthcheck");
        assertThat(hc.getIntervalMs()).isEqualTo(5000);
        assertThat(hc.getTimeoutMs()).isEqualTo(2000);
        assertThat(hc.getStartPeriodMs()).isEqualTo(9000);

        HealthCheck http = HealthChecks.effective(HealthCheck.newBuilder().setHttpPort(8080).build(), Optional.of(IMAGE))
                .orElseThrow();
        assertThat(http.getTestList()).isEmpty();
        assertThat(http.getHttpPort()).isEqualTo(8080);
        assertThat(http.getRetries()).isEqualTo(7);
    }

    @Test
    void noneDisablesTheImagesCheck() {
        assertThat(HealthChecks.effective(HealthCheck.newBuilder().addTest("NONE").build(), Optional.of(IMAGE))).isEmpty();
    }

    @Test
    void malformedChecksAreRefusedNamingTheField() {
        assertThatThrownBy(() -> HealthChecks.effective(HealthCheck.newBuilder().addTest("CMD").build(), Optional.empty()))
                .hasMessageContaining("CMD needs a command");
        assertThatThrownBy(() -> HealthChecks.effective(
                HealthCheck.newBuilder().addTest("CMD").addTest("x").setTcpPort(80).build(), Optional.empty()))
                .hasMessageContaining("exactly one of test, http_port or tcp_port");
        assertThatThrownBy(() -> HealthChecks.effective(
                HealthCheck.newBuilder().setHttpPort(80).setHttpPath("health").build(), Optional.empty()))
                .hasMessageContaining("http_path must start with '/'");
        assertThatThrownBy(() -> HealthChecks.effective(
                HealthCheck.newBuilder().setTcpPort(70000).build(), Optional.empty()))
                .hasMessageContaining("port out of range");
        assertThatThrownBy(() -> HealthChecks.effective(
                HealthCheck.newBuilder().setTcpPort(80).setIntervalMs(-1).build(), Optional.empty()))
                .hasMessageContaining("interval_ms must not be negative");
    }
}
