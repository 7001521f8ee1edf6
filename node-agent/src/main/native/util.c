#include "launcher.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("berth-launcher: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static char *slurp(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap + 1);
  for (;;) {
    if (n == cap) buf = realloc(buf, (cap *= 2) + 1);
    ssize_t r = read(fd, buf + n, cap - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
  }
  close(fd);
  buf[n] = 0;
  *len = n;
  return buf;
}

#define ADD(arr, cnt, v) do { if ((cnt) >= MAX_ITEMS) { snprintf(err, errlen, "too many %s entries", key); return -1; } (arr)[(cnt)++] = (v); } while (0)

int load_config(const char *dir, struct config *c, char *err, size_t errlen) {
  char path[4096];
  size_t len;
  snprintf(path, sizeof path, "%s/config", dir);
  char *buf = slurp(path, &len);
  if (!buf) { snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno)); return -1; }
  memset(c, 0, sizeof *c);
  c->log_max = 10 << 20;
  c->log_files = 3;
  size_t i = 0;
  while (i < len) {
    char *key = buf + i;
    i += strlen(key) + 1;
    if (i > len) { snprintf(err, errlen, "config: key '%s' has no value", key); return -1; }
    char *val = buf + i;
    i += strlen(val) + 1;
    if (!strcmp(key, "id")) c->id = val;
    else if (!strcmp(key, "hostname")) c->hostname = val;
    else if (!strcmp(key, "upper")) c->upper = val;
    else if (!strcmp(key, "work")) c->work = val;
    else if (!strcmp(key, "rootfs")) c->rootfs = val;
    else if (!strcmp(key, "cwd")) c->cwd = val;
    else if (!strcmp(key, "user")) c->user = val;
    else if (!strcmp(key, "oom")) c->oom_file = val;
    else if (!strcmp(key, "netns")) c->netns = val;
    else if (!strcmp(key, "uid_map")) { c->uid_map = val; c->userns = 1; }
    else if (!strcmp(key, "gid_map")) { c->gid_map = val; c->userns = 1; }
    else if (!strcmp(key, "lower")) ADD(c->lower, c->nlower, val);
    else if (!strcmp(key, "arg")) ADD(c->argv, c->nargv, val);
    else if (!strcmp(key, "env")) ADD(c->env, c->nenv, val);
    else if (!strcmp(key, "cgroup")) ADD(c->cgroup, c->ncgroup, val);
    else if (!strcmp(key, "log_max")) c->log_max = atoll(val);
    else if (!strcmp(key, "log_files")) c->log_files = atoi(val);
    else { snprintf(err, errlen, "config: unknown key '%s'", key); return -1; }
  }
  if (!c->id || !c->rootfs || !c->upper || !c->work || c->nlower == 0 || c->nargv == 0) {
    snprintf(err, errlen, "config: id, rootfs, upper, work, lower and arg are required");
    return -1;
  }
  if (c->userns && (!c->uid_map || !c->gid_map)) {
    snprintf(err, errlen, "config: a user namespace needs both uid_map and gid_map");
    return -1;
  }
  if (c->log_files < 1) c->log_files = 1;
  c->argv[c->nargv] = NULL;
  c->env[c->nenv] = NULL;
  return 0;
}

/* Field 22 of /proc/PID/stat: start time in clock ticks since boot. Together with the
 * pid it names one process for the lifetime of the host (pids are reused, this pair is not). */
unsigned long long proc_starttime(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  char *p = strrchr(buf, ')'); /* comm may contain spaces and parentheses */
  if (!p) return 0;
  p += 2; /* field 3 */
  for (int field = 3; field < 22 && p; field++) {
    p = strchr(p, ' ');
    if (p) p++;
  }
  return p ? strtoull(p, NULL, 10) : 0;
}

int write_file(const char *path, const char *data) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t len = strlen(data);
  ssize_t w = write(fd, data, len);
  int e = errno;
  close(fd);
  errno = e;
  return w == (ssize_t)len ? 0 : -1;
}

/* Readers see either the old file or the whole new one. No fsync: the state only has
 * to survive the agent's death, not the host's, and fsync would cost milliseconds per start. */
int write_atomic(const char *dir, const char *name, const char *data) {
  char tmp[4096], dst[4096];
  snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
  snprintf(dst, sizeof dst, "%s/%s", dir, name);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  size_t len = strlen(data);
  if (write(fd, data, len) != (ssize_t)len) { close(fd); unlink(tmp); return -1; }
  close(fd);
  return rename(tmp, dst);
}

int read_pidfile(const char *dir, const char *name, pid_t *pid, unsigned long long *start) {
  char path[4096];
  size_t len;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  char *buf = slurp(path, &len);
  if (!buf) return -1;
  int p = 0;
  int ok = sscanf(buf, "%d %llu", &p, start) == 2;
  free(buf);
  *pid = p;
  return ok ? 0 : -1;
}

static const struct { const char *name; int sig; } SIGNALS[] = {
  {"HUP", SIGHUP}, {"INT", SIGINT}, {"QUIT", SIGQUIT}, {"KILL", SIGKILL}, {"USR1", SIGUSR1},
  {"USR2", SIGUSR2}, {"TERM", SIGTERM}, {"STOP", SIGSTOP}, {"CONT", SIGCONT}, {"WINCH", SIGWINCH},
  {"PWR", SIGPWR}, {"ALRM", SIGALRM}, {"ABRT", SIGABRT},
};

int signal_from_name(const char *s) {
  char *end;
  long n = strtol(s, &end, 10);
  if (*s && !*end) return n > 0 && n < 65 ? (int)n : -1;
  if (!strncasecmp(s, "SIG", 3)) s += 3;
  for (size_t i = 0; i < sizeof SIGNALS / sizeof *SIGNALS; i++)
    if (!strcasecmp(s, SIGNALS[i].name)) return SIGNALS[i].sig;
  return -1;
}

/* Writes PID into DIR/cgroup.procs for each of the container's cgroups (v1: one per hierarchy). */
int join_cgroups(const struct config *c, pid_t pid, char *err, size_t errlen) {
  char path[4200], val[32];
  snprintf(val, sizeof val, "%d", (int)pid);
  for (int i = 0; i < c->ncgroup; i++) {
    snprintf(path, sizeof path, "%s/cgroup.procs", c->cgroup[i]);
    if (write_file(path, val) < 0) { snprintf(err, errlen, "joining cgroup %s: %s", c->cgroup[i], strerror(errno)); return -1; }
  }
  return 0;
}
