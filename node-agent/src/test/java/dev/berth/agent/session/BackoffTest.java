package dev.berth.agent.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BackoffTest {
    @Test
    void growsExponentiallyWithJitterAndStaysBounded() {
        Backoff b = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(2), new Random(1));
        long cap = 100;
        for (int i = 0; i < 12; i++) {
            Duration d = b.next();
            assertThat(d.toMillis()).as("attempt %d", i).isBetween(cap / 2, cap);
            cap = Math.min(cap * 2, 2000);
        }
        b.reset();
        assertThat(b.next().toMillis()).isBetween(50L, 100L);
    }

    @Test
    void jitterSpreadsAgentsThatFailedTogether() {
        Set<Long> firstDelays = new HashSet<>();
        Random seeds = new Random(42); // each agent's Random is seeded independently (new Random() in production)
        for (int i = 0; i < 20; i++) {
            Backoff b = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(10), new Random(seeds.nextLong()));
            firstDelays.add(b.next().toMillis());
        }
        assertThat(firstDelays.size()).isGreaterThan(10);
    }

    @Test
    void refusesNonsense() {
        assertThatThrownBy(() -> new Backoff(Duration.ZERO, Duration.ofSeconds(1), new Random()))
                .hasMessageContaining("0 < min <= max");
        assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1), new Random()))
                .hasMessageContaining("0 < min <= max");
    }
}
