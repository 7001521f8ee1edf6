/* The monitor (conmon-style), forked by `serve` once per container. It calls setsid and is
 * re-parented when the server exits, so it outlives the server and the JVM. It
 * holds the container's stdout/stderr, writes timestamped, size-capped, rotated logs in the CRI
 * format, and records the exit (code, signal, OOM kill from the cgroup's counter) atomically. */
#include "launcher.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 16384

struct logger {
  char path[4096];
  int fd, files;
  long long size, max;
};

struct stream {
  const char *name;
  int fd;
  char buf[LINE_MAX_BYTES];
  size_t len;
};

static void log_rotate(struct logger *lg) {
  close(lg->fd);
  char from[4200], to[4200];
  for (int i = lg->files - 1; i >= 1; i--) {
    if (i == 1) snprintf(from, sizeof from, "%s", lg->path);
    else snprintf(from, sizeof from, "%s.%d", lg->path, i - 1);
    snprintf(to, sizeof to, "%s.%d", lg->path, i);
    rename(from, to);
  }
  lg->fd = open(lg->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (lg->files == 1 ? O_TRUNC : 0), 0640);
  lg->size = 0;
}

/* one CRI log line: "<RFC3339Nano UTC> <stream> <F|P> <text>\n" (F: full line, P: partial) */
static void log_write(struct logger *lg, const char *stream, const char *data, size_t len, int partial) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char head[96];
  size_t h = strftime(head, sizeof head, "%Y-%m-%dT%H:%M:%S", &tm);
  h += (size_t)snprintf(head + h, sizeof head - h, ".%09ldZ %s %c ", ts.tv_nsec, stream, partial ? 'P' : 'F');
  long long total = (long long)(h + len + 1);
  if (lg->size > 0 && lg->size + total > lg->max) log_rotate(lg);
  char line[sizeof head + LINE_MAX_BYTES + 1];
  memcpy(line, head, h);
  memcpy(line + h, data, len);
  line[h + len] = '\n';
  if (write(lg->fd, line, h + len + 1) > 0) lg->size += total;
}

static void log_flush_lines(struct logger *lg, struct stream *s, int eof) {
  size_t start = 0;
  for (size_t i = 0; i < s->len; i++) {
    if (s->buf[i] != '\n') continue;
    log_write(lg, s->name, s->buf + start, i - start, 0);
    start = i + 1;
  }
  memmove(s->buf, s->buf + start, s->len - start);
  s->len -= start;
  if (s->len == sizeof s->buf || (eof && s->len > 0)) { log_write(lg, s->name, s->buf, s->len, !eof); s->len = 0; }
}

/* returns 0 at EOF */
static int pump(struct logger *lg, struct stream *s) {
  ssize_t n = read(s->fd, s->buf + s->len, sizeof s->buf - s->len);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 1;
  if (n <= 0) { log_flush_lines(lg, s, 1); close(s->fd); s->fd = -1; return 0; }
  s->len += (size_t)n;
  log_flush_lines(lg, s, 0);
  return 1;
}

/* "oom_kill N" in memory.oom_control (v1) and memory.events (v2) */
static long long oom_kills(const char *file) {
  if (!file) return 0;
  FILE *f = fopen(file, "re");
  if (!f) return 0;
  char key[64];
  long long v, found = 0;
  while (fscanf(f, "%63s %lld", key, &v) == 2) if (!strcmp(key, "oom_kill")) found = v;
  fclose(f);
  return found;
}

/* No baseline is read at start: the agent creates every container's cgroup fresh (create fails if
 * it exists) and starts a container once, and the kernel's per-memcg counter starts at 0 (v1
 * memory.oom_control and v2 memory.events alike), so any oom_kill in it was this container's. */
static void record_exit(const char *dir, int status, const struct config *c, const char *error) {
  char buf[2048];
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  int oom = oom_kills(c->oom_file) > 0;
  int n = snprintf(buf, sizeof buf, "exit_code=%d\nsignal=%d\noom_killed=%d\nfinished_at_ns=%lld\n", code, sig, oom, now_ns());
  if (error) snprintf(buf + n, sizeof buf - (size_t)n, "error=%s\n", error);
  if (write_atomic(dir, "exit", buf) < 0) fprintf(stderr, "writing exit record: %m\n");
}

struct child_args { struct config *c; int out, err, null, errp, status, sync; };

static int child_main(void *arg) {
  struct child_args *a = arg;
  /* stdio first, then park the three pipes on 3..5 and close everything else inherited */
  int e = fcntl(a->errp, F_DUPFD_CLOEXEC, 100), s = fcntl(a->status, F_DUPFD_CLOEXEC, 100),
      y = fcntl(a->sync, F_DUPFD_CLOEXEC, 100);
  if (dup2(a->null, 0) < 0 || dup2(a->out, 1) < 0 || dup2(a->err, 2) < 0 ||
      dup2(e, 3) < 0 || dup2(s, 4) < 0 || dup2(y, 5) < 0) _exit(125);
  closefrom(6);
  container_init(a->c, 3, 4, 5);
}

static void write_map(pid_t pid, const char *file, const char *map) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
  if (write_file(path, map) < 0) die("writing %s (%s): %m", file, map);
}

/* SELF is this monitor's pid record, "PID STARTTIME\n", prepared before the request came. */
static void monitor(const char *dir, struct config *c, int ready, int wait, const char *self, int null) {
  char err[1024] = "", buf[256];
  if (write_atomic(dir, "monitor", self) < 0) die("writing monitor record: %m");
  trace_mark("monrec");
  int out[2], errs[2], errp[2], status[2], sync[2];
  if (pipe2(out, O_CLOEXEC) || pipe2(errs, O_CLOEXEC) || pipe2(errp, O_CLOEXEC) || pipe2(status, O_CLOEXEC) ||
      pipe2(sync, O_CLOEXEC)) die("pipe: %m");
  if (c->userns) { /* the container's root must own its writable layer */
    unsigned inside, host;
    unsigned hg = 0, ig;
    if (sscanf(c->uid_map, "%u %u", &inside, &host) != 2 || sscanf(c->gid_map, "%u %u", &ig, &hg) != 2)
      die("malformed uid_map/gid_map");
    if (chown(c->upper, host, hg) < 0 || chown(c->work, host, hg) < 0) die("chown upper/work: %m");
  }
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC);
  struct child_args a = {c, out[1], errs[1], null, errp[1], status[1], sync[0]};
  int flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD;
  if (c->netns) {
    /* Joined here, before the clone, not by init: a netns belongs to the host's user namespace,
     * and an init in a new user namespace has no capability there, so its setns would fail. The
     * monitor needs no network of its own; it keeps no other namespace of the container. */
    int nfd = open(c->netns, O_RDONLY | O_CLOEXEC);
    if (nfd < 0 || setns(nfd, CLONE_NEWNET) < 0) die("joining network namespace %s: %m", c->netns);
    close(nfd);
  } else {
    flags |= CLONE_NEWNET;
  }
  if (c->userns) flags |= CLONE_NEWUSER;
  size_t stack_size = 1 << 20;
  char *stack = malloc(stack_size);
  pid_t init = clone(child_main, stack + stack_size, flags, &a);
  if (init < 0) die("clone: %m");
  trace_mark("cloned");
  /* Held until the exit is recorded: otherwise init's exit tears down the container's mounts
   * (overlay, proc, sysfs, ...: an RCU grace period plus superblock shutdowns, several ms) before
   * we are told it exited. With this reference the teardown runs when the monitor closes it, after
   * the exit record, when every container process is already dead. */
  char nspath[64];
  snprintf(nspath, sizeof nspath, "/proc/%d/ns/mnt", (int)init);
  int mntns = open(nspath, O_RDONLY | O_CLOEXEC);
  close(out[1]); close(errs[1]); close(errp[1]); close(status[1]); close(sync[0]);
  if (c->userns) {
    write_map(init, "uid_map", c->uid_map);
    write_map(init, "gid_map", c->gid_map);
  }
  int failed = join_cgroups(c, init, err, sizeof err) < 0;
  trace_mark("joined");
  if (!failed && write(sync[1], "g", 1) != 1) failed = snprintf(err, sizeof err, "container init vanished") > 0;
  close(sync[1]);
  if (failed) kill(init, SIGKILL); /* it never ran container code; otherwise it exits by itself */
  /* written while init works (and removed again if the start fails): "ok" must find it there */
  snprintf(buf, sizeof buf, "%d %llu\n", (int)init, proc_starttime(init));
  if (!failed && write_atomic(dir, "init", buf) < 0) die("writing init record: %m");
  trace_mark("initrec");
  /* EOF on the error pipe means the main process exec'd (or init died). A message from init
   * takes precedence: when init failed while being joined to the cgroups, it names the cause. */
  char msg[sizeof err];
  size_t n = 0;
  ssize_t r;
  while ((r = read(errp[0], msg + n, sizeof msg - 1 - n)) > 0 || (r < 0 && errno == EINTR)) if (r > 0) n += (size_t)r;
  msg[n] = 0;
  trace_mark("execd");
  if (n > 0) { memcpy(err, msg, n + 1); failed = 1; }
  close(errp[0]);
  if (failed) {
    int st;
    char path[4200];
    snprintf(path, sizeof path, "%s/init", dir);
    unlink(path);
    waitpid(init, &st, 0);
    record_exit(dir, st, c, err);
    dprintf(ready, "err %s\n", err);
    _exit(1);
  }
  dprintf(ready, "ok %d %d\n", (int)init, (int)getpid());
  trace_mark("ok");
  if (!wait) close(ready);

  struct logger lg = {.fd = -1, .files = c->log_files, .max = c->log_max};
  snprintf(lg.path, sizeof lg.path, "%s/container.log", dir);
  lg.fd = open(lg.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  struct stat st;
  if (fstat(lg.fd, &st) == 0) lg.size = st.st_size;
  struct stream so = {.name = "stdout", .fd = out[0]}, se = {.name = "stderr", .fd = errs[0]};
  /* The exit is recorded as soon as init reports the main process's status and the output pipes
   * are drained; init exits right after its report, and that exit (the pid namespace's and init's
   * own teardown) is waited for after the record, not before it. Without a report (init killed),
   * init's own exit is the fallback. */
  int init_status = 0, exited = 0, main_status = 0, reported = 0;
  while (so.fd >= 0 || se.fd >= 0 || !(exited || reported > 0)) {
    struct pollfd p[4] = {{so.fd, POLLIN, 0}, {se.fd, POLLIN, 0}, {exited ? -1 : sfd, POLLIN, 0},
                          {reported ? -1 : status[0], POLLIN, 0}};
    /* once init is gone the kernel has killed the whole pid namespace; pipes reach EOF promptly */
    int r = poll(p, 4, exited ? 2000 : -1);
    if (r == 0) break;
    if (r < 0) continue;
    if (p[0].revents) pump(&lg, &so);
    if (p[1].revents) pump(&lg, &se);
    if (p[2].revents) {
      struct signalfd_siginfo si;
      if (read(sfd, &si, sizeof si) < 0) {}
      if (waitpid(init, &init_status, WNOHANG) == init) { exited = 1; trace_mark("reaped"); }
    }
    if (p[3].revents) {
      ssize_t n = read(status[0], &main_status, sizeof main_status);
      if (n == sizeof main_status) { reported = 1; trace_mark("reported"); }
      else if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) reported = -1; /* init died without one */
    }
  }
  record_exit(dir, reported > 0 ? main_status : init_status, c, NULL);
  trace_mark("exitrec");
  close(ready);
  /* this monitor's end means the container's end (stop and remove wait for it): init first */
  if (!exited) waitpid(init, &init_status, 0);
  trace_dump(c->id);
  if (mntns >= 0) close(mntns);
  _exit(0);
}

/* The forked child of `serve`: detaches from the server (and so from the agent) and becomes the
 * container's monitor. REPLY is the agent's connection: it gets "ok INIT MONITOR", "err MESSAGE"
 * (the container's process could not start) or "fail MESSAGE" (a host-side error), and with WAIT
 * it stays open until the exit is recorded, so the agent learns of the exit by EOF. */
static void become_monitor(const char *dir, int reply, int wait, const char *self, int null) {
  struct config c;
  char err[1024];
  if (load_config(dir, &c, err, sizeof err) < 0) { dprintf(reply, "fail %s\n", err); _exit(1); }
  trace_mark("config");
  setsid();
  char path[4200];
  snprintf(path, sizeof path, "%s/monitor.err", dir);
  int log = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (null < 0 || log < 0) { dprintf(reply, "fail opening %s: %s\n", path, strerror(errno)); _exit(1); }
  /* nothing of the server's (the agent's pipes, the listening socket) may stay open in a process
   * that outlives both: stdio becomes /dev/null and monitor.err, the reply socket fd 3 */
  int r = fcntl(reply, F_DUPFD_CLOEXEC, 10);
  if (r < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(log, 2) < 0 || dup2(r, 3) < 0) _exit(1);
  closefrom(4);
  trace_mark("stdio");
  monitor(dir, &c, 3, wait, self, 0);
}

/* Reads one request line "run DIR [wait]" from a fresh connection; returns 0 if well-formed. */
static int read_request(int conn, char *dir, size_t dirlen, int *wait) {
  char line[4200];
  size_t n = 0;
  while (n < sizeof line - 1) {
    ssize_t r = read(conn, line + n, sizeof line - 1 - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    n += (size_t)r;
    if (line[n - 1] == '\n') break;
  }
  line[n] = 0;
  char *nl = strchr(line, '\n');
  if (!nl || strncmp(line, "run ", 4)) return -1;
  *nl = 0;
  char *arg = line + 4, *sp = strrchr(arg, ' ');
  *wait = sp && !strcmp(sp, " wait");
  if (*wait) *sp = 0;
  if (arg[0] != '/' || strlen(arg) >= dirlen) return -1;
  strcpy(dir, arg);
  return 0;
}

/* Touches the stack a monitor goes through (config, logger, line buffers: ~100 KiB) and grows the
 * heap once, so a just-accepted spare does not take these page faults on the start's path. */
static __attribute__((noinline)) void prefault(void) {
  volatile char stack[160 << 10];
  for (size_t i = 0; i < sizeof stack; i += 4096) stack[i] = 0;
  char *heap = malloc(96 << 10); /* under the mmap threshold: stays in the heap after free */
  if (heap) { memset(heap, 0, 96 << 10); __asm__ volatile("" ::"r"(heap) : "memory"); }
  free(heap);
}

/* Forks the spare: a monitor-to-be that accepts the next connection itself, so the fork happens
 * before a request arrives, not while the agent waits. When it has accepted, it closes its end of
 * the TAKEN pipe and the server forks the next spare. Returns the read end of TAKEN, or -1. */
static int fork_spare(int ls) {
  int taken[2];
  if (pipe2(taken, O_CLOEXEC) < 0) return -1;
  pid_t server = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    close(taken[0]);
    /* until it has a request, a spare dies with the server (a killed server leaves no orphan
     * waiting on its socket); a monitor must outlive it, so that ends right after accept */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != server) _exit(1);
    /* everything that does not depend on the request is done while idle, not while the agent
     * waits: signal dispositions, /dev/null, this monitor's own pid record, and the first-touch
     * (copy-on-write) faults of the stack and heap a monitor uses */
    monitor_signals(); /* SIGCHLD too: the server lets the kernel reap, the monitor waits for init itself */
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    char self[64];
    snprintf(self, sizeof self, "%d %llu\n", (int)getpid(), proc_starttime(getpid()));
    prefault();
    trace_begin();
    int conn;
    while ((conn = accept4(ls, NULL, NULL, SOCK_CLOEXEC)) < 0 && (errno == EINTR || errno == ECONNABORTED)) {}
    if (conn < 0) _exit(1); /* the server shut the socket down: it is exiting */
    trace_mark("accept");
    prctl(PR_SET_PDEATHSIG, 0);
    close(taken[1]);
    close(ls);
    char dir[4096];
    int wait;
    if (read_request(conn, dir, sizeof dir, &wait) < 0) {
      dprintf(conn, "fail malformed request (want: run /STATE/DIR [wait])\n");
      _exit(1);
    }
    become_monitor(dir, conn, wait, self, null);
  }
  close(taken[1]);
  if (pid < 0) { close(taken[0]); return -1; }
  return taken[0];
}

/* `serve SOCKET`: the agent's resident spawner. It runs from the sealed memfd copy (made once, at
 * its own start); each request is taken by a pre-forked spare that becomes the container's monitor,
 * so a start costs the agent no process spawn, exec, memfd copy or even a fork on its path.
 * Monitors are detached (setsid, own stdio) and outlive the server; the kernel reaps them (SIGCHLD
 * ignored), so the server keeps no per-container state. It exits when its stdin reaches EOF, i.e.
 * when the agent that started it is gone. */
int cmd_serve(const char *path) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) die("socket path %s is longer than %zu bytes", path, sizeof addr.sun_path - 1);
  strcpy(addr.sun_path, path);
  signal(SIGCHLD, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  trace_setup();
  int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (ls < 0) die("socket: %m");
  unlink(path);
  mode_t old = umask(077); /* only root may ask for containers */
  if (bind(ls, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind %s: %m", path);
  umask(old);
  if (listen(ls, 128) < 0) die("listen: %m");
  if (write(1, "ready\n", 6) != 6) die("writing ready: %m");
  int taken = -1;
  for (;;) {
    if (taken < 0) taken = fork_spare(ls); /* on failure, retried after the poll's timeout */
    struct pollfd p[2] = {{0, POLLIN, 0}, {taken, POLLIN, 0}};
    if (poll(p, 2, taken < 0 ? 100 : -1) < 0) { if (errno == EINTR) continue; die("poll: %m"); }
    if (p[0].revents) {
      char b[64];
      ssize_t r = read(0, b, sizeof b);
      if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) break;
    }
    if (taken >= 0 && p[1].revents) { close(taken); taken = -1; } /* taken (or died): fork the next */
  }
  /* a spare still waiting in accept gets EINVAL and exits; one that accepted is a monitor by now */
  unlink(path);
  shutdown(ls, SHUT_RDWR);
  if (taken >= 0) {
    struct pollfd p = {taken, POLLIN, 0};
    poll(&p, 1, 2000);
  }
  return 0;
}
