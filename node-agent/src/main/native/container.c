/* PID 1 of a new container: builds the root filesystem inside its own mount namespace, enters it
 * with pivot_root, starts the main process and then stays as a minimal init that reaps zombies
 * and forwards signals. Every mount it makes lives in the container's mount namespace only, so
 * the kernel removes them all when the namespace dies: nothing can leak onto the host. */
#include "launcher.h"
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sched.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static int g_errfd = -1;

static void fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void fail(const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (n > (int)sizeof msg - 1) n = sizeof msg - 1;
  if (write(g_errfd, msg, (size_t)n) < 0) {}
  _exit(126);
}

static const char *MASKED[] = {
  "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
  "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
  "/sys/firmware", "/sys/devices/virtual/powercap",
};
static const char *READONLY[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"};

static void path_in(char *out, size_t len, const char *root, const char *p) { snprintf(out, len, "%s%s", root, p); }

static void mount_or_fail(const char *src, const char *dst, const char *type, unsigned long flags, const char *data) {
  if (mount(src, dst, type, flags, data) < 0) fail("mount %s on %s: %s", type ? type : src, dst, strerror(errno));
}

static void mkdir_in(const char *root, const char *p, mode_t mode) {
  char path[4096];
  path_in(path, sizeof path, root, p);
  if (mkdir(path, mode) < 0 && errno != EEXIST) fail("mkdir %s: %s", path, strerror(errno));
}

static void mount_overlay(const struct config *c) {
  /* mount(2) data is one page; with many long layer paths the option string can overflow it,
   * so layers are named relative to their common parent directory, entered first. */
  char opts[4096], parent[4096];
  snprintf(parent, sizeof parent, "%s", c->lower[0]);
  char *slash = strrchr(parent, '/');
  if (slash && slash != parent) *slash = 0; else strcpy(parent, "/");
  size_t plen = strlen(parent);
  int relative = plen > 1 && chdir(parent) == 0;
  for (int i = 0; relative && i < c->nlower; i++)
    if (strncmp(c->lower[i], parent, plen) || c->lower[i][plen] != '/') relative = 0;
  int n = snprintf(opts, sizeof opts, "lowerdir=");
  for (int i = 0; i < c->nlower; i++)
    n += snprintf(opts + n, sizeof opts - (size_t)n, "%s%s", i ? ":" : "", relative ? c->lower[i] + plen + 1 : c->lower[i]);
  n += snprintf(opts + n, sizeof opts - (size_t)n, ",upperdir=%s,workdir=%s", c->upper, c->work);
  if (n >= (int)sizeof opts - 1) fail("overlay options exceed one page (%d layers)", c->nlower);
  mount_or_fail("overlay", c->rootfs, "overlay", 0, opts);
  if (chdir("/") < 0) fail("chdir /: %s", strerror(errno));
}

static void make_dev(const char *root, int userns) {
  char path[4096];
  static const struct { const char *name; int major, minor; } DEVS[] = {
    {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
  };
  path_in(path, sizeof path, root, "/dev");
  mount_or_fail("tmpfs", path, "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k");
  for (size_t i = 0; i < sizeof DEVS / sizeof *DEVS; i++) {
    char dev[4096], host[64];
    snprintf(dev, sizeof dev, "%s/dev/%s", root, DEVS[i].name);
    if (!userns && mknod(dev, S_IFCHR | 0666, makedev(DEVS[i].major, DEVS[i].minor)) == 0) {
      chmod(dev, 0666); /* umask */
      continue;
    }
    /* a user namespace may not create device nodes: bind the host's instead */
    int fd = open(dev, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
    if (fd < 0) fail("create %s: %s", dev, strerror(errno));
    close(fd);
    snprintf(host, sizeof host, "/dev/%s", DEVS[i].name);
    mount_or_fail(host, dev, NULL, MS_BIND, NULL);
  }
  mkdir_in(root, "/dev/pts", 0755);
  path_in(path, sizeof path, root, "/dev/pts");
  if (mount("devpts", path, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5") < 0)
    mount_or_fail("devpts", path, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620");
  mkdir_in(root, "/dev/shm", 01777);
  path_in(path, sizeof path, root, "/dev/shm");
  mount_or_fail("shm", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k");
  mkdir_in(root, "/dev/mqueue", 0755);
  path_in(path, sizeof path, root, "/dev/mqueue");
  mount_or_fail("mqueue", path, "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  static const char *LINKS[][2] = {
    {"pts/ptmx", "/dev/ptmx"}, {"/proc/self/fd", "/dev/fd"}, {"/proc/self/fd/0", "/dev/stdin"},
    {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"},
  };
  for (size_t i = 0; i < sizeof LINKS / sizeof *LINKS; i++) {
    path_in(path, sizeof path, root, LINKS[i][1]);
    if (symlink(LINKS[i][0], path) < 0) fail("symlink %s: %s", path, strerror(errno));
  }
}

static unsigned long locked_flags(const char *path) {
  struct statvfs sv;
  unsigned long f = 0;
  if (statvfs(path, &sv) == 0) {
    if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  }
  return f;
}

static void bind_readonly(const char *path) {
  mount_or_fail(path, path, NULL, MS_BIND | MS_REC, NULL);
  mount_or_fail(path, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(path), NULL);
}

static void mount_sys(const char *root) {
  char path[4096];
  path_in(path, sizeof path, root, "/sys");
  if (mount("sysfs", path, "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0) return;
  /* sysfs may only be mounted by the owner of the network namespace; otherwise bind the host's */
  mount_or_fail("/sys", path, NULL, MS_BIND | MS_REC, NULL);
  mount_or_fail(path, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(path), NULL);
}

static void enter_root(const char *root) {
  /* pivot_root(".", ".") stacks the old root under the new one; detaching it leaves only the
   * container's root. Unlike chroot, no path from the old root stays reachable. */
  if (chdir(root) < 0) fail("chdir %s: %s", root, strerror(errno));
  if (syscall(SYS_pivot_root, ".", ".") < 0) fail("pivot_root %s: %s", root, strerror(errno));
  if (umount2(".", MNT_DETACH) < 0) fail("detaching the old root: %s", strerror(errno));
  if (chdir("/") < 0) fail("chdir /: %s", strerror(errno));
}

static void harden_paths(void) {
  for (size_t i = 0; i < sizeof MASKED / sizeof *MASKED; i++) {
    struct stat st;
    if (stat(MASKED[i], &st) < 0) continue;
    if (S_ISDIR(st.st_mode)) mount_or_fail("tmpfs", MASKED[i], "tmpfs", MS_RDONLY, "size=0");
    else mount_or_fail("/dev/null", MASKED[i], NULL, MS_BIND, NULL);
  }
  for (size_t i = 0; i < sizeof READONLY / sizeof *READONLY; i++) {
    if (access(READONLY[i], F_OK) == 0) bind_readonly(READONLY[i]);
  }
}

static void loopback_up(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) { close(s); fail("bringing up lo: %s", strerror(errno)); }
  }
  close(s);
}

/* init keeps only CAP_KILL: enough to signal a main process running as another uid */
static void restrict_init(void) {
  for (int cap = 0; cap < 64; cap++)
    if (cap != CAP_KILL && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno == EINVAL) break;
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  data[0].effective = data[0].permitted = 1u << CAP_KILL;
  syscall(SYS_capset, &hdr, data);
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/* the monitor's go-ahead: it has joined us to the container's cgroups (and, with a user
 * namespace, written our uid/gid maps) */
static void await_go(int syncfd) {
  char go;
  if (read(syncfd, &go, 1) != 1) _exit(125); /* the monitor gave up on us */
  close(syncfd);
}

struct main_args { struct config *c; struct user_ids *user; int errfd, statusfd; };

/* The container's main process up to its exec. It runs in init's address space (CLONE_VM, init
 * suspended until the exec: CLONE_VFORK), so it changes only what is per task (fds, session,
 * credentials, capabilities, cwd) and writes memory nobody else reads until then. */
static int main_process(void *arg) {
  struct main_args *a = arg;
  char err[1024];
  /* without CLONE_SIGHAND this task has its own copy of init's dispositions: resetting them
   * leaves init's (all blocked, taken by sigwaitinfo) and the monitor's as they are */
  container_signals();
  trace_mark("main");
  setsid();
  close(a->statusfd);
  /* every fd but 0-2 closes on exec (the error pipe must survive until then) */
  if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) snprintf(err, sizeof err, "close_range: %s", strerror(errno));
  else if (enter_workdir(a->c->cwd, err, sizeof err) == 0 && drop_privileges(a->user, err, sizeof err) == 0 &&
           (trace_mark("privs"), 1))
    exec_in_env(a->c->argv, a->c->env, err, sizeof err);
  if (write(a->errfd, err, strlen(err)) < 0) {}
  _exit(127);
}

int container_init(struct config *c, int errfd, int statusfd, int syncfd) {
  g_errfd = errfd;
  trace_mark("init");
  /* Without a user namespace, init builds the container's root while the monitor moves it into
   * the cgroups (v1 migrations take ~1 ms), and waits only before forking the main process: no
   * container code runs, and nothing forks, outside the cgroups. With one, the maps come first. */
  if (c->userns) await_go(syncfd);
  /* /proc/1/exe of this process is the launcher; keep container processes from opening it */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  umask(022);
  if (c->userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
    fail("becoming root in the user namespace: %s", strerror(errno));
  /* a given netns was joined by the monitor before the clone: init inherits it */
  if (c->hostname && sethostname(c->hostname, strlen(c->hostname)) < 0) fail("sethostname: %s", strerror(errno));
  mount_or_fail(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
  mount_overlay(c);
  const char *root = c->rootfs;
  mkdir_in(root, "/proc", 0555);
  char path[4096];
  path_in(path, sizeof path, root, "/proc");
  mount_or_fail("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
  mkdir_in(root, "/dev", 0755);
  make_dev(root, c->userns);
  mkdir_in(root, "/sys", 0555);
  mount_sys(root);
  trace_mark("mounted");
  enter_root(root);
  trace_mark("pivoted");
  harden_paths();
  trace_mark("hardened");
  if (!c->netns) loopback_up();
  struct user_ids user;
  char err[1024];
  if (resolve_user(c->user, &user, err, sizeof err) < 0) fail("%s", err);

  trace_mark("user");
  if (!c->userns) await_go(syncfd);
  trace_mark("go");
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, NULL);
  /* Not fork(): copying init's address space, only for the exec to throw it away, costs more
   * than the rest of the main process's set-up here (a fork + exit measured ~0.5-0.8 ms on these
   * VMs, a vfork 25 us). posix_spawn does the same. */
  static char main_stack[256 << 10];
  struct main_args ma = {c, &user, errfd, statusfd};
  pid_t main_pid = clone(main_process, main_stack + sizeof main_stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &ma);
  if (main_pid < 0) fail("starting the main process: %s", strerror(errno));
  /* The main process has exec'd (or failed): init keeps none of its stdio, so the output pipes
   * reach EOF when the container's processes close them, not only when init exits. */
  syscall(SYS_close_range, 0, 2, 0);
  close(errfd);
  restrict_init();
  int main_status = 0;
  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(&all, &si);
    if (sig < 0) continue;
    if (sig != SIGCHLD) { kill(main_pid, sig); continue; }
    int st;
    pid_t p;
    int done = 0;
    while ((p = waitpid(-1, &st, WNOHANG)) > 0)
      if (p == main_pid) { main_status = st; done = 1; trace_mark("mainexit"); }
    if (done) break;
  }
  /* the monitor learns the main process's own wait status; init's exit code is only a fallback */
  if (write(statusfd, &main_status, sizeof main_status) < 0) {}
  _exit(WIFEXITED(main_status) ? WEXITSTATUS(main_status) : 128 + WTERMSIG(main_status));
}
