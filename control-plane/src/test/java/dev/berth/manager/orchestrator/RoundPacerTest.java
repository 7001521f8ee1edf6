package dev.berth.manager.orchestrator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RoundPacerTest {
  private static final long MS = 1_000_000L;

  @Test
  void cheapRoundsWaitOnlyTheDebounce() {
    RoundPacer p = new RoundPacer(Duration.ofMillis(5), 3);
    assertThat(p.delayNanos(1_000 * MS)).isEqualTo(5 * MS); // before any round
    p.roundEnded(1_000 * MS, MS / 2);                       // 0.5 ms of scanning
    assertThat(p.delayNanos(1_000 * MS)).isEqualTo(5 * MS);
  }

  @Test
  void expensiveRoundsKeepTheLoopIdleForAMultipleOfTheirScanTime() {
    RoundPacer p = new RoundPacer(Duration.ofMillis(5), 3);
    p.roundEnded(1_000 * MS, 200 * MS);                     // 200 ms of scanning
    assertThat(p.delayNanos(1_000 * MS)).isEqualTo(600 * MS);
    assertThat(p.delayNanos(1_400 * MS)).isEqualTo(200 * MS); // a trigger later waits less
    assertThat(p.delayNanos(2_000 * MS)).isEqualTo(5 * MS);   // never below the debounce
  }

  @Test
  void rejectsANegativeFactor() {
    assertThatThrownBy(() -> new RoundPacer(Duration.ZERO, -1)).isInstanceOf(IllegalArgumentException.class);
  }
}
