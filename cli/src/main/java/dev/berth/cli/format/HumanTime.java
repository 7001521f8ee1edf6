package dev.berth.cli.format;

import java.time.Clock;
import java.time.Duration;

/**
 * "5 seconds ago"-style renderings, worded as Docker's (go-units HumanDuration) so output reads
 * the same as {@code docker service ps}.
 */
public final class HumanTime {
  private HumanTime() {}

  /** Elapsed time since {@code epochMillis} by {@code clock}, e.g. {@code 5 seconds ago}. */
  public static String ago(Clock clock, long epochMillis) {
    Duration d = Duration.ofMillis(Math.max(0, clock.millis() - epochMillis));
    return duration(d) + " ago";
  }

  /** Docker's wording of a duration: "Less than a second", "About a minute", "3 hours", ... */
  public static String duration(Duration d) {
    long seconds = d.toSeconds();
    if (seconds < 1) {
      return "Less than a second";
    } else if (seconds == 1) {
      return "1 second";
    } else if (seconds < 60) {
      return seconds + " seconds";
    }
    long minutes = d.toMinutes();
    if (minutes == 1) {
      return "About a minute";
    } else if (minutes < 60) {
      return minutes + " minutes";
    }
    long hours = Math.round(d.toSeconds() / 3600.0);
    if (hours == 1) {
      return "About an hour";
    } else if (hours < 48) {
      return hours + " hours";
    } else if (hours < 24 * 7 * 2) {
      return hours / 24 + " days";
    } else if (hours < 24 * 30 * 2) {
      return hours / 24 / 7 + " weeks";
    } else if (hours < 24 * 365 * 2) {
      return hours / 24 / 30 + " months";
    }
    return hours / 24 / 365 + " years";
  }
}
