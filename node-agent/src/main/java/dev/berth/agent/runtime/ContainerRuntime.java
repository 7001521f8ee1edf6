package dev.berth.agent.runtime;

import static dev.berth.agent.runtime.ContainerRuntimeException.Reason.ALREADY_EXISTS;
import static dev.berth.agent.runtime.ContainerRuntimeException.Reason.HOST_ERROR;
import static dev.berth.agent.runtime.ContainerRuntimeException.Reason.INVALID_CONFIG;
import static dev.berth.agent.runtime.ContainerRuntimeException.Reason.NOT_FOUND;
import static dev.berth.agent.runtime.ContainerRuntimeException.Reason.NOT_RUNNING;
import static dev.berth.agent.runtime.ContainerRuntimeException.Reason.START_FAILED;
import static dev.berth.agent.runtime.ContainerRuntimeException.Reason.STILL_RUNNING;

import dev.berth.agent.cgroup.CgroupException;
import dev.berth.agent.cgroup.CgroupLimits;
import dev.berth.agent.cgroup.CgroupManager;
import dev.berth.agent.cgroup.CgroupUsage;
import dev.berth.agent.cgroup.ContainerCgroup;
import dev.berth.agent.runtime.ContainerDir.PidRecord;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Runs containers through the native launcher. Each container has a monitor process that owns it
 * and outlives this object (and the JVM); this class keeps no state that cannot be rebuilt from
 * the state directory, which is what {@link #adopt()} does after an agent restart.
 *
 * <p>Thread model: thread-safe; operations on different containers run in parallel, callers must
 * not race create/remove of one id. Errors: every failure is a {@link ContainerRuntimeException}
 * whose {@link ContainerRuntimeException#reason() reason} tells the kind and whose message names
 * the container and the cause.
 */
public final class ContainerRuntime implements AutoCloseable {
  private static final Map.Entry<String, String> kv(String k, Object v) {
    return Map.entry(k, String.valueOf(v));
  }

  private record Sample(long cpuNanos, Instant at) {}

  private final RuntimeSettings settings;
  private final CgroupManager cgroups;
  private final Clock clock;
  private final Launcher launcher;
  /** Exit notices of containers started (not detached) by this instance: EOF once the exit is recorded. */
  private final Map<String, SocketChannel> waiters = new ConcurrentHashMap<>();
  private final Map<String, Sample> lastUsage = new ConcurrentHashMap<>();

  public ContainerRuntime(RuntimeSettings settings, CgroupManager cgroups, Clock clock) {
    this.settings = settings;
    this.cgroups = cgroups;
    this.clock = clock;
    this.launcher = new Launcher(settings.launcher(), launcherSocket());
    try {
      Files.createDirectories(settings.containersDir());
    } catch (IOException e) {
      throw new ContainerRuntimeException(HOST_ERROR, "creating " + settings.containersDir() + ": " + e.getMessage(), e);
    }
  }

  private Path launcherSocket() {
    return settings.containersDir().resolve(".launcher.sock"); // not a container: ids start with a letter or digit
  }

  public String nodeId() {
    return settings.nodeId();
  }

  private ContainerDir dirOf(String id) {
    CgroupManager.checkName("container id", id);
    return new ContainerDir(settings.containersDir().resolve(id));
  }

  private ContainerDir existing(String id) {
    ContainerDir d;
    try {
      d = dirOf(id);
    } catch (IllegalArgumentException e) {
      throw new ContainerRuntimeException(NOT_FOUND, e.getMessage());
    }
    if (!Files.isDirectory(d.dir)) {
      throw new ContainerRuntimeException(NOT_FOUND, "no container " + id + " on node " + settings.nodeId());
    }
    return d;
  }

  /** Prepares state dir, cgroups and launch config; the container does not run yet. */
  public ContainerInfo create(ContainerConfig config) {
    String id = config.id();
    ContainerDir d;
    try {
      d = dirOf(id);
    } catch (IllegalArgumentException e) {
      throw new ContainerRuntimeException(INVALID_CONFIG, e.getMessage());
    }
    List<String> argv = config.argv();
    List<String> env = config.env();
    CgroupLimits limits;
    try {
      limits = CgroupLimits.from(config.resources(), settings.defaultPidsLimit());
    } catch (IllegalArgumentException e) {
      throw new ContainerRuntimeException(INVALID_CONFIG, "container " + id + ": " + e.getMessage());
    }
    try {
      Files.createDirectory(d.dir);
    } catch (java.nio.file.FileAlreadyExistsException e) {
      throw new ContainerRuntimeException(ALREADY_EXISTS, "container " + id + " already exists on node " + settings.nodeId());
    } catch (IOException e) {
      throw new ContainerRuntimeException(HOST_ERROR, "creating " + d.dir + ": " + e.getMessage(), e);
    }
    try {
      for (Path p : config.lowerDirs()) {
        if (!Files.isDirectory(p)) {
          throw new ContainerRuntimeException(INVALID_CONFIG, "container " + id + ": image layer " + p + " is not a directory");
        }
      }
      if (config.spec().getUserNamespace()) {
        requireSearchableByOthers(id, d.dir);
        config.lowerDirs().forEach(p -> requireSearchableByOthers(id, p));
      }
      Files.createDirectory(d.upper());
      Files.createDirectory(d.work());
      Files.createDirectory(d.rootfs());
      ContainerCgroup cg = cgroups.create(id, limits);
      List<Map.Entry<String, String>> c = new ArrayList<>();
      c.add(kv("id", id));
      c.add(kv("hostname", config.hostname()));
      config.lowerDirs().forEach(p -> c.add(kv("lower", p.toAbsolutePath())));
      c.add(kv("upper", d.upper().toAbsolutePath()));
      c.add(kv("work", d.work().toAbsolutePath()));
      c.add(kv("rootfs", d.rootfs().toAbsolutePath()));
      argv.forEach(a -> c.add(kv("arg", a)));
      env.forEach(e -> c.add(kv("env", e)));
      c.add(kv("cwd", config.workingDir()));
      c.add(kv("user", config.user()));
      cg.joinDirs().forEach(p -> c.add(kv("cgroup", p)));
      c.add(kv("oom", cg.oomCounterFile()));
      if (config.netns() != null) {
        c.add(kv("netns", config.netns().toAbsolutePath()));
      }
      d.writeRootFiles(config.files());
      c.add(kv("log_max", settings.logMaxBytes()));
      c.add(kv("log_files", settings.logFiles()));
      if (config.spec().getUserNamespace()) {
        String map = "0 " + settings.userNsBase() + " 65536";
        c.add(kv("uid_map", map));
        c.add(kv("gid_map", map));
      }
      d.writeConfig(c);
      Files.writeString(d.dir.resolve("stop"), config.stopSignal() + " " + config.stopGracePeriod().toMillis() + "\n");
    } catch (IOException | CgroupException | ContainerRuntimeException e) {
      try {
        cgroups.find(id).ifPresent(ContainerCgroup::remove);
        d.delete();
      } catch (IOException | RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      if (e instanceof ContainerRuntimeException cre) {
        throw cre;
      }
      throw new ContainerRuntimeException(HOST_ERROR, "creating container " + id + ": " + e.getMessage(), e);
    }
    return new ContainerInfo(id, ContainerInfo.State.CREATED, 0, 0, Optional.empty());
  }

  /**
   * The overlay of a user-namespaced container is mounted by its (unprivileged on the host) root,
   * which must be able to reach the layers and its state dir.
   */
  private static void requireSearchableByOthers(String id, Path path) {
    for (Path p = path.toAbsolutePath(); p != null; p = p.getParent()) {
      try {
        if (!Files.getPosixFilePermissions(p).contains(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
          throw new ContainerRuntimeException(INVALID_CONFIG, "container " + id + " runs in a user namespace, but " + p
              + " is not searchable by other users (chmod o+x) so its mapped root cannot reach " + path);
        }
      } catch (IOException e) {
        throw new ContainerRuntimeException(HOST_ERROR, "checking " + p + ": " + e.getMessage(), e);
      }
    }
  }

  /**
   * Starts a created container and returns once its process has exec'd. A container whose
   * process cannot start (bad working dir, missing executable, ...) fails with START_FAILED and
   * the launcher's message; its exit record says the same.
   */
  public ContainerInfo start(String id) {
    return start(id, true);
  }

  /**
   * {@link #start} without keeping the start's connection as an exit notice: {@link #awaitExit}
   * then polls the monitor's exit record. For callers that watch many containers themselves (the
   * agent's executor), this saves an open socket per container.
   */
  public ContainerInfo startDetached(String id) {
    return start(id, false);
  }

  private ContainerInfo start(String id, boolean keepWaiter) {
    ContainerDir d = existing(id);
    if (d.pidRecord("monitor").isPresent()) {
      throw new ContainerRuntimeException(STILL_RUNNING, "container " + id + " was already started");
    }
    Launcher.Started s = launcher.start(d.dir, keepWaiter);
    if (s.exitNotice() != null) {
      Launcher.closeQuietly(waiters.put(id, s.exitNotice()));
    }
    // the monitor's "ok" carries the pids and comes after its records are written: no re-read needed
    return new ContainerInfo(id, ContainerInfo.State.RUNNING, s.initPid(), s.monitorPid(), Optional.empty());
  }

  /** Waits up to {@code timeout} for the container to exit; returns its exit status if it did. */
  public Optional<ExitStatus> awaitExit(String id, Duration timeout) {
    ContainerDir d = existing(id);
    long deadline = System.nanoTime() + timeout.toNanos();
    SocketChannel waiter = waiters.get(id);
    try {
      if (waiter != null && Launcher.awaitExitNotice(waiter, timeout)) {
        waiters.remove(id, waiter);
        Launcher.closeQuietly(waiter);
      }
      // adopted containers have no waiter: poll the monitor's exit record
      for (Optional<ExitStatus> e = d.exit(); ; e = d.exit()) {
        if (e.isPresent() || System.nanoTime() >= deadline) {
          return e;
        }
        if (state(d) == ContainerInfo.State.LOST) {
          return Optional.empty();
        }
        Thread.sleep(20);
      }
    } catch (IOException e) {
      throw new ContainerRuntimeException(HOST_ERROR, "waiting for " + id + " to exit: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return d.exit();
    }
  }

  /** Stop signal (the spec's or image's, default SIGTERM), SIGKILL after the grace period; waits for the exit record. */
  public ExitStatus stop(String id) {
    ContainerDir d = existing(id);
    String[] stop;
    try {
      stop = Files.readString(d.dir.resolve("stop")).trim().split(" ");
    } catch (IOException e) {
      throw new ContainerRuntimeException(HOST_ERROR, "reading stop settings of " + id + ": " + e.getMessage(), e);
    }
    return stop(id, stop[0], Duration.ofMillis(Long.parseLong(stop[1])));
  }

  public ExitStatus stop(String id, String signal, Duration grace) {
    ContainerDir d = existing(id);
    if (state(d) == ContainerInfo.State.CREATED) {
      throw new ContainerRuntimeException(NOT_RUNNING, "container " + id + " was never started");
    }
    if (d.exit().isEmpty()) {
      launcher.command(d.dir, "stop", signal, Long.toString(grace.toMillis()));
    }
    return d.exit().orElseThrow(() -> new ContainerRuntimeException(HOST_ERROR, "container " + id + " stopped without an exit record"));
  }

  /** Sends a signal to the container's main process (through its init). */
  public void kill(String id, String signal) {
    ContainerDir d = existing(id);
    if (state(d) != ContainerInfo.State.RUNNING) {
      throw new ContainerRuntimeException(NOT_RUNNING, "container " + id + " is not running");
    }
    launcher.command(d.dir, "kill", signal);
  }

  /**
   * Starts {@code command} inside the running container: its namespaces, cgroups, user, env and
   * capabilities. The caller owns the returned process (stdin/stdout/stderr are pipes).
   */
  public Process execProcess(String id, List<String> command) {
    ContainerDir d = existing(id);
    if (command.isEmpty()) {
      throw new ContainerRuntimeException(INVALID_CONFIG, "exec in " + id + ": empty command");
    }
    if (state(d) != ContainerInfo.State.RUNNING) {
      throw new ContainerRuntimeException(NOT_RUNNING, "exec in " + id + ": container is not running");
    }
    return launcher.exec(d.dir, command);
  }

  /** {@link #execProcess} with no input, output captured; the process is killed after {@code timeout}. */
  public ExecResult exec(String id, List<String> command, Duration timeout) {
    return Launcher.collect(execProcess(id, command), "exec in " + id, timeout);
  }

  public ContainerInfo inspect(String id) {
    ContainerDir d = existing(id);
    ContainerInfo.State s = state(d);
    return new ContainerInfo(id, s, d.pidRecord("init").map(PidRecord::pid).orElse(0L),
        d.pidRecord("monitor").map(PidRecord::pid).orElse(0L), d.exit());
  }

  private static ContainerInfo.State state(ContainerDir d) {
    if (d.exit().isPresent()) {
      return ContainerInfo.State.EXITED;
    }
    Optional<PidRecord> monitor = d.pidRecord("monitor");
    if (monitor.isEmpty()) {
      return ContainerInfo.State.CREATED;
    }
    if (monitor.get().alive()) {
      return ContainerInfo.State.RUNNING;
    }
    // the monitor may have written the exit record between our two reads
    return d.exit().isPresent() ? ContainerInfo.State.EXITED : ContainerInfo.State.LOST;
  }

  /** Every container in this node's state directory. */
  public List<ContainerInfo> list() {
    try (Stream<Path> s = Files.list(settings.containersDir())) {
      return s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().map(this::inspect).toList();
    } catch (IOException e) {
      throw new ContainerRuntimeException(HOST_ERROR, "listing " + settings.containersDir() + ": " + e.getMessage(), e);
    }
  }

  /**
   * After an agent restart: finds every container this node left behind. Running ones are
   * adopted (their monitors never stopped); those that ended meanwhile report their recorded
   * exit. A LOST container's init, if it somehow survives its monitor, is killed.
   */
  public List<ContainerInfo> adopt() {
    List<ContainerInfo> all = list();
    for (ContainerInfo c : all) {
      if (c.state() == ContainerInfo.State.LOST) {
        existing(c.id()).pidRecord("init").filter(PidRecord::alive).ifPresent(r -> killInit(c.id(), r));
      }
    }
    return all;
  }

  /**
   * The image layer stacks (overlay lower dirs, topmost first) of every container of this node, whatever its state (running, exited, adopted after a
   * restart): read from each container's launch config, so nothing is forgotten across agent restarts. Image
   * GC must keep these.
   */
  public List<List<Path>> lowerDirsInUse() {
    List<List<Path>> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(settings.containersDir())) {
      for (Path dir : s.filter(Files::isDirectory).toList()) {
        List<Path> lower = new ContainerDir(dir).lowerDirs();
        if (!lower.isEmpty()) {
          out.add(lower);
        }
      }
    } catch (IOException e) {
      throw new ContainerRuntimeException(HOST_ERROR, "reading the layers containers use in "
          + settings.containersDir() + ": " + e.getMessage(), e);
    }
    return out;
  }

  private static void killInit(String id, PidRecord r) {
    ProcessHandle.of(r.pid()).filter(h -> r.alive()).ifPresent(ProcessHandle::destroyForcibly);
  }

  /** Removes a container that is not running: cgroups, state dir, logs. Idempotent for unknown ids. */
  public void remove(String id) {
    ContainerDir d = dirOf(id);
    if (Files.isDirectory(d.dir) && state(d) == ContainerInfo.State.RUNNING) {
      throw new ContainerRuntimeException(STILL_RUNNING, "container " + id + " is running; stop it before removing");
    }
    Launcher.closeQuietly(waiters.remove(id));
    lastUsage.remove(id);
    try {
      awaitMonitorGone(d);
      cgroups.find(id).ifPresent(ContainerCgroup::remove);
      d.delete();
    } catch (IOException | CgroupException e) {
      throw new ContainerRuntimeException(HOST_ERROR, "removing container " + id + ": " + e.getMessage(), e);
    }
  }

  /**
   * A monitor outlives its container's exit record by the teardown of the container's mounts (it
   * holds the mount namespace until the exit is recorded, see monitor.c), typically a few ms. The
   * state dir holds what those mounts use, so it is deleted only after the monitor is gone.
   */
  private static void awaitMonitorGone(ContainerDir d) {
    Optional<PidRecord> monitor = Files.isDirectory(d.dir) ? d.pidRecord("monitor") : Optional.empty();
    try {
      for (int i = 0; i < 10_000 && monitor.isPresent() && monitor.get().alive(); i++) {
        Thread.sleep(1);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Kills and removes every container of this node not in {@code keep}, and any cgroup of this
   * node without a container. Never touches another node's resources. Returns the removed ids.
   */
  public List<String> removeAllExcept(Set<String> keep) {
    List<String> removed = new ArrayList<>();
    for (ContainerInfo c : list()) {
      if (keep.contains(c.id())) {
        continue;
      }
      if (c.state() == ContainerInfo.State.RUNNING) {
        stop(c.id(), "SIGKILL", Duration.ZERO);
      }
      remove(c.id());
      removed.add(c.id());
    }
    for (String id : cgroups.containerIds()) {
      if (!keep.contains(id) && !Files.isDirectory(settings.containersDir().resolve(id))) {
        cgroups.find(id).ifPresent(ContainerCgroup::remove);
        removed.add(id);
      }
    }
    return removed;
  }

  /** Removes everything this node made: containers, cgroups (including the node's parents), state dir. */
  public void destroyAll() {
    removeAllExcept(Set.of());
    cgroups.removeNodeParent();
    close();
    try {
      Files.deleteIfExists(launcher.socket());
      Files.deleteIfExists(settings.containersDir());
    } catch (IOException e) {
      throw new ContainerRuntimeException(HOST_ERROR, "removing " + settings.containersDir() + ": " + e.getMessage(), e);
    }
  }

  /**
   * Stops this runtime's launcher server and drops its exit notices. Containers keep running (their
   * monitors are independent); a later start spawns a new server.
   */
  @Override
  public void close() {
    waiters.keySet().forEach(id -> Launcher.closeQuietly(waiters.remove(id)));
    launcher.close();
  }

  /** Current memory and the CPU used since the previous call (first call: since the start), in nano-CPUs. */
  public ContainerUsage usage(String id) {
    ContainerDir d = existing(id);
    ContainerCgroup cg = cgroups.find(id)
        .orElseThrow(() -> new ContainerRuntimeException(NOT_FOUND, "container " + id + " has no cgroup"));
    CgroupUsage u;
    try {
      u = cg.usage();
    } catch (CgroupException e) {
      throw new ContainerRuntimeException(HOST_ERROR, "reading usage of " + id + ": " + e.getMessage(), e);
    }
    Instant now = clock.instant();
    Sample prev = lastUsage.put(id, new Sample(u.cpuNanos(), now));
    if (prev == null) {
      prev = new Sample(0, d.initRecordTime().orElse(now));
    }
    long wallNanos = Duration.between(prev.at(), now).toNanos();
    long nanoCpus = wallNanos <= 0 ? 0 : (long) ((u.cpuNanos() - prev.cpuNanos()) * 1e9 / wallNanos);
    return new ContainerUsage(Math.max(0, nanoCpus), u.memoryBytes());
  }

  /** Log lines of a container (current and rotated files), oldest first. */
  public List<LogLine> logs(String id) {
    return existing(id).logs();
  }

  /** A reader of the container's logs that can follow them (`logs -f`); the caller closes it. */
  public ContainerLog openLog(String id) {
    return new ContainerLog(existing(id).dir);
  }

  /** The current log file, for followers (`logs -f`). */
  public Path logFile(String id) {
    return existing(id).log();
  }
}
