package dev.berth.cli.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Sizes, CPUs, durations and "ago" renderings. */
class UnitsTest {
  @Test
  void sizes() {
    assertThat(Sizes.parse("1048576")).isEqualTo(1_048_576L);
    assertThat(Sizes.parse("512k")).isEqualTo(512L * 1024);
    assertThat(Sizes.parse("256M")).isEqualTo(256L << 20);
    assertThat(Sizes.parse("256m")).isEqualTo(256L << 20);
    assertThat(Sizes.parse("256MB")).isEqualTo(256L << 20);
    assertThat(Sizes.parse("1G")).isEqualTo(1L << 30);
    assertThat(Sizes.parse("1.5GiB")).isEqualTo(3L << 29);
    assertThat(Sizes.parse("2T")).isEqualTo(2L << 40);
    assertThat(Sizes.parse("0")).isZero();
    for (String bad : new String[] {"", "M", "-1M", "12X", "1..5G", "1 G B", "ten"}) {
      assertThatThrownBy(() -> Sizes.parse(bad)).hasMessageStartingWith("invalid size '" + bad + "'");
    }
    assertThatThrownBy(() -> Sizes.parse("99999999P")).hasMessage("invalid size '99999999P': too large");
  }

  @Test
  void sizeFormatting() {
    assertThat(Sizes.format(512)).isEqualTo("512B");
    assertThat(Sizes.format(256L << 20)).isEqualTo("256MiB");
    assertThat(Sizes.format(3L << 29)).isEqualTo("1.5GiB");
    assertThat(Sizes.format(1536)).isEqualTo("1.5KiB");
  }

  @Test
  void cpus() {
    assertThat(Cpus.parseNanos("0.5")).isEqualTo(500_000_000L);
    assertThat(Cpus.parseNanos("2")).isEqualTo(2_000_000_000L);
    assertThat(Cpus.parseNanos(".25")).isEqualTo(250_000_000L);
    assertThat(Cpus.parseNanos("0.000000001")).isEqualTo(1L);
    assertThatThrownBy(() -> Cpus.parseNanos("-1")).hasMessage("invalid CPU amount '-1': must be >= 0");
    assertThatThrownBy(() -> Cpus.parseNanos("half")).hasMessageStartingWith("invalid CPU amount 'half'");
    assertThatThrownBy(() -> Cpus.parseNanos("0.0000000001")).hasMessageContaining("at most 9 decimals");
    assertThat(Cpus.format(500_000_000L)).isEqualTo("0.5");
    assertThat(Cpus.format(2_000_000_000L)).isEqualTo("2");
  }

  @Test
  void durations() {
    assertThat(Durations.parse("10s")).isEqualTo(Duration.ofSeconds(10));
    assertThat(Durations.parse("1m30s")).isEqualTo(Duration.ofSeconds(90));
    assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Durations.parse("1.5h")).isEqualTo(Duration.ofMinutes(90));
    assertThat(Durations.parse("2h3m4s5ms")).isEqualTo(Duration.ofMillis(7_384_005));
    assertThat(Durations.parse("250us")).isEqualTo(Duration.ofNanos(250_000));
    assertThat(Durations.parse("0")).isEqualTo(Duration.ZERO);
    for (String bad : new String[] {"", "10", "s", "10 s", "-5s", "5x", "1m30", "ms10"}) {
      assertThatThrownBy(() -> Durations.parse(bad)).hasMessageStartingWith("invalid duration '" + bad + "'");
    }
  }

  @Test
  void durationFormattingRoundTrips() {
    assertThat(Durations.formatMillis(90_000)).isEqualTo("1m30s");
    assertThat(Durations.formatMillis(500)).isEqualTo("500ms");
    assertThat(Durations.formatMillis(0)).isEqualTo("0s");
    Random random = new Random(42);
    for (int i = 0; i < 1000; i++) {
      long ms = (long) (random.nextDouble() * 1e9);
      assertThat(Durations.parseMillis(Durations.formatMillis(ms))).isEqualTo(ms);
    }
  }

  @Test
  void humanTimeReadsLikeDocker() {
    Clock clock = Clock.fixed(Instant.parse("2026-11-23T12:00:00Z"), ZoneOffset.UTC);
    long now = clock.millis();
    assertThat(HumanTime.ago(clock, now)).isEqualTo("Less than a second ago");
    assertThat(HumanTime.ago(clock, now + 5_000)).isEqualTo("Less than a second ago");
    assertThat(HumanTime.ago(clock, now - 1_000)).isEqualTo("1 second ago");
    assertThat(HumanTime.ago(clock, now - 5_000)).isEqualTo("5 seconds ago");
    assertThat(HumanTime.ago(clock, now - 61_000)).isEqualTo("About a minute ago");
    assertThat(HumanTime.ago(clock, now - 10 * 60_000)).isEqualTo("10 minutes ago");
    assertThat(HumanTime.ago(clock, now - 3_600_000)).isEqualTo("About an hour ago");
    assertThat(HumanTime.ago(clock, now - 5 * 3_600_000)).isEqualTo("5 hours ago");
    assertThat(HumanTime.ago(clock, now - 3 * 86_400_000L)).isEqualTo("3 days ago");
    assertThat(HumanTime.ago(clock, now - 21 * 86_400_000L)).isEqualTo("3 weeks ago");
    assertThat(HumanTime.ago(clock, now - 90 * 86_400_000L)).isEqualTo("3 months ago");
    assertThat(HumanTime.ago(clock, now - 800 * 86_400_000L)).isEqualTo("2 years ago");
  }

  @Test
  void tableAlignsColumnsAndTrimsTrailingBlanks() {
    java.io.StringWriter s = new java.io.StringWriter();
    new Table("A", "LONG HEADER", "C").row("xxxxx", "", "z").row(null, "y", "").print(new java.io.PrintWriter(s));
    assertThat(s.toString()).isEqualTo("A       LONG HEADER   C\nxxxxx                 z\n        y\n");
    assertThatThrownBy(() -> new Table("A").row("1", "2")).isInstanceOf(IllegalArgumentException.class);
    assertThat(Table.truncate("abcdef", 4)).isEqualTo("abc…");
    assertThat(Table.truncate("abc", 4)).isEqualTo("abc");
  }
}
