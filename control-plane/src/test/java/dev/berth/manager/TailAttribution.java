package dev.berth.manager;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

/**
 * Benchmark analysis (not a test): names the cause of every slow entry of a {@link StatusLoad}
 * run from the per-entry trace ({@code -Dberth.bench.trace=true}) and flight recordings of the
 * three managers ({@code <benchDir>/m0.jfr}...) and of the harness, recorded with
 * {@code bench-tail.jfc}. For each entry slower than the threshold it sums, per JVM, how much of
 * the entry's time overlapped each kind of stall (GC pause, other safepoint, reconcile read
 * holding the store lock, apply, snapshot, fsync, the apply thread parked, C2/C1 compilation
 * time) and names the largest as the cause.
 *
 * <p>Run: {@code java -cp "$CP" dev.berth.manager.TailAttribution <benchDir> <harness.jfr> [thresholdMs=50]}.
 */
public final class TailAttribution {
  private record Span(String jvm, String kind, long from, long to) {}

  /** When each manager became leader ("leads term" log lines), in epoch micros, by manager. */
  private record Term(long from, String manager) {}

  private TailAttribution() {}

  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args[0]);
    long threshold = args.length > 2 ? Long.parseLong(args[2]) * 1000 : 50_000;
    long warmupMs = args.length > 3 ? Long.parseLong(args[3]) * 1000 : 0;
    List<String> lines = Files.readAllLines(dir.resolve("status-trace.csv"));
    String leader = Path.of(lines.get(0).substring("# leader ".length())).getFileName().toString();
    List<Span> spans = new ArrayList<>();
    java.time.LocalDate day = Instant.ofEpochSecond(Long.parseLong(lines.get(2).split(",")[0]) / 1_000_000)
        .atZone(ZoneOffset.UTC).toLocalDate();
    List<Term> terms = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      Path jfr = dir.resolve("m" + i + ".jfr");
      if (Files.exists(jfr)) {
        read(jfr, "m" + i, spans);
      }
      Path log = dir.resolve("m" + i + ".log");
      if (Files.exists(log)) {
        for (String l : Files.readAllLines(log)) {
          if (l.contains(" leads term ")) {
            Instant at = LocalTime.parse(l.substring(0, 12)).atDate(day).toInstant(ZoneOffset.UTC);
            terms.add(new Term(micros(at), "m" + i));
          }
        }
      }
    }
    terms.sort(java.util.Comparator.comparingLong(Term::from));
    System.out.println("leaderships: " + terms.stream().map(t -> t.manager() + " from "
        + LocalTime.ofInstant(Instant.ofEpochSecond(t.from() / 1_000_000, t.from() % 1_000_000 * 1000), ZoneOffset.UTC))
        .toList() + " (trace header: " + leader + ")");
    // name each manager's stall by the role it had then: leader or follower
    spans.replaceAll(sp -> sp.jvm().startsWith("m")
        ? new Span(roleAt(terms, sp.jvm(), sp.from()), sp.kind(), sp.from(), sp.to()) : sp);
    read(Path.of(args[1]), "harness", spans);
    Map<String, Map<String, long[]>> causes = new TreeMap<>(); // window -> cause -> {entries, ms}
    Map<String, int[]> counts = new TreeMap<>(); // window -> {slow, all}
    StringBuilder detail = new StringBuilder();
    for (String line : lines) {
      if (line.startsWith("#")) {
        continue;
      }
      String[] f = line.split(",");
      long from = Long.parseLong(f[0]);
      long lat = Long.parseLong(f[1]);
      String window = Long.parseLong(f[3]) < warmupMs ? "1 warm-up" : "2 measured";
      int[] n = counts.computeIfAbsent(window, k -> new int[2]);
      n[1]++;
      if (lat <= threshold) {
        continue;
      }
      n[0]++;
      long to = from + lat;
      Map<String, Long> overlap = overlaps(spans, from, to);
      String cause = blocking(overlap, lat / 5);
      if (cause == null) { // a stall that ended before the send still leaves a backlog to clear
        String before = blocking(overlaps(spans, from - lat, from), lat / 5);
        long jit = overlap.entrySet().stream().filter(e -> e.getKey().contains(":jit-"))
            .mapToLong(Map.Entry::getValue).sum();
        cause = before != null ? "backlog after " + before
            : jit >= lat / 2 ? "CPU: JIT compiling (no stall)" : "CPU/queueing (no stall)";
      }
      long[] c = causes.computeIfAbsent(window, k -> new TreeMap<>()).computeIfAbsent(cause, k -> new long[2]);
      c[0]++;
      c[1] += lat / 1000;
      detail.append(String.format("%s +%ss %4d ms %4s ch -> %-28s %s%n",
          LocalTime.ofInstant(Instant.ofEpochSecond(from / 1_000_000, from % 1_000_000 * 1000), ZoneOffset.UTC),
          f[3].length() > 3 ? f[3].substring(0, f[3].length() - 3) : "0", lat / 1000, f[2], cause,
          overlap.entrySet().stream().filter(e -> e.getValue() >= 2000)
              .map(e -> e.getKey() + "=" + e.getValue() / 1000).toList()));
    }
    System.out.print(detail);
    causes.forEach((window, byCause) -> {
      System.out.printf("%s: %d of %d entries > %d ms; cause (largest overlapping stall, >= 1/5 of the entry):%n",
          window, counts.get(window)[0], counts.get(window)[1], threshold / 1000);
      byCause.forEach((k, v) -> System.out.printf("  %-46s %4d entries, %6d ms summed latency%n", k, v[0], v[1]));
    });
    summary(spans);
  }

  private static String roleAt(List<Term> terms, String manager, long at) {
    String leading = null;
    for (Term t : terms) {
      if (t.from() <= at) {
        leading = t.manager();
      }
    }
    return manager.equals(leading) ? "leader" : "follower";
  }

  private static Map<String, Long> overlaps(List<Span> spans, long from, long to) {
    Map<String, Long> overlap = new TreeMap<>();
    for (Span s : spans) {
      long o = Math.min(to, s.to) - Math.max(from, s.from);
      if (o > 0) {
        overlap.merge(s.jvm + ":" + s.kind, o, Long::sum);
      }
    }
    return overlap;
  }

  /**
   * The stall overlapping the entry the most, if at least {@code min}: first on the leader's
   * commit path or in the harness, then a follower's pause or fsync (a commit needs one follower).
   * Compilation, background snapshot writes and a follower's apply run beside the commit path:
   * they take CPU but hold no entry, so they are never named the cause.
   */
  private static String blocking(Map<String, Long> overlap, long min) {
    for (boolean follower : new boolean[] {false, true}) {
      String c = overlap.entrySet().stream()
          .filter(e -> e.getValue() >= min && onCommitPath(e.getKey()) && e.getKey().startsWith("follower:") == follower)
          .max(Map.Entry.comparingByValue()).map(Map.Entry::getKey).orElse(null);
      if (c != null) {
        return c;
      }
    }
    return null;
  }

  private static boolean onCommitPath(String key) {
    if (key.contains(":jit-") || key.contains(":bg-")) {
      return false;
    }
    return !key.startsWith("follower:") || key.endsWith(":gc-pause") || key.contains(":fsync");
  }

  /** Totals per JVM and kind over the whole recording, for context. */
  private static void summary(List<Span> spans) {
    Map<String, long[]> tot = new TreeMap<>();
    for (Span s : spans) {
      long[] t = tot.computeIfAbsent(s.jvm + ":" + s.kind, k -> new long[3]);
      t[0]++;
      t[1] += s.to - s.from;
      t[2] = Math.max(t[2], s.to - s.from);
    }
    System.out.println("stalls over the whole recordings (count, total ms, max ms):");
    tot.forEach((k, v) -> System.out.printf("  %-34s %6d %8d %6d%n", k, v[0], v[1] / 1000, v[2] / 1000));
  }

  private static long micros(Instant t) {
    return t.getEpochSecond() * 1_000_000L + t.getNano() / 1000;
  }

  private static void read(Path jfr, String jvm, List<Span> out) throws IOException {
    for (RecordedEvent e : RecordingFile.readAllEvents(jfr)) {
      String kind = kind(e);
      if (kind != null) {
        out.add(new Span(jvm, kind, micros(e.getStartTime()), micros(e.getEndTime())));
      }
    }
  }

  private static String kind(RecordedEvent e) {
    String thread = e.getThread() == null ? "" : e.getThread().getJavaName();
    thread = thread == null ? "" : thread;
    switch (e.getEventType().getName()) {
      case "jdk.GCPhasePause":
        return "gc-pause";
      case "jdk.ExecuteVMOperation": {
        String op = e.getString("operation");
        return e.getBoolean("safepoint") && !op.contains("G1") && !op.contains("GC") && !op.contains("Collect")
            ? "safepoint-" + op : null;
      }
      case "jdk.Compilation":
        return "jit-" + (e.getInt("compileLevel") == 4 ? "c2" : "c1");
      case "jdk.FileForce": // short ones are the log worker's routine; a slow disk shows as long ones
        return e.getDuration().toMillis() >= 10 ? "fsync>=10ms" : null;
      case "jdk.ThreadPark": {
        var parked = e.getClass("parkedClass");
        return thread.contains("StateMachineUpdater") && parked != null
            && parked.getName().contains("ReentrantReadWriteLock") ? "apply-waits-store-lock" : null;
      }
      case "dev.berth.StoreLock": {
        String k = e.getString("kind");
        if ("read".equals(k)) {
          return thread.equals("berth-reconcile") ? "reconcile-read-lock" : "other-read-lock";
        }
        return "store-" + k + (e.getDuration().toMillis() >= 10 ? ">=10ms" : "");
      }
      case "dev.berth.Snapshot": // written on the apply thread, or beside it (SnapshotWriter)
        return thread.equals("berth-snapshot-writer") ? "bg-snapshot-write" : "snapshot";
      default:
        return null;
    }
  }
}
