/* Commands on a running container: exec, stop, kill. The container is named by the init
 * record (pid + start time) its monitor wrote, so a recycled pid is never mistaken for it. */
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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Opens a pidfd for the container's init, verified against the recorded start time after
 * opening, so the fd can't refer to a different process. Returns -1 if it is not running. */
static int open_init(const char *dir, pid_t *pid) {
  unsigned long long start;
  if (read_pidfile(dir, "init", pid, &start) < 0) return -1;
  int fd = (int)syscall(SYS_pidfd_open, *pid, 0);
  if (fd < 0) return -1;
  if (proc_starttime(*pid) != start) { close(fd); return -1; }
  return fd;
}

static int exit_recorded(const char *dir) {
  char path[4200];
  snprintf(path, sizeof path, "%s/exit", dir);
  return access(path, F_OK) == 0;
}

int cmd_kill(const char *dir, int sig) {
  pid_t pid;
  int fd = open_init(dir, &pid);
  if (fd < 0) die("container in %s is not running", dir);
  if (syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) < 0) die("signal %d to %d: %m", sig, (int)pid);
  return 0;
}

int cmd_stop(const char *dir, int sig, long grace_ms) {
  pid_t pid;
  int fd = open_init(dir, &pid);
  if (fd >= 0) {
    syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, grace_ms < 0 ? 0 : (int)grace_ms) == 0)
      syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0); /* kills the whole pid namespace */
    p.revents = 0;
    poll(&p, 1, 5000);
    close(fd);
  }
  /* the monitor records the exit right after reaping init */
  for (int i = 0; i < 500 && !exit_recorded(dir); i++) usleep(10000);
  if (!exit_recorded(dir)) die("container in %s stopped but its monitor recorded no exit", dir);
  /* and the monitor is on its way out: when stop returns, no process of the container is left */
  unsigned long long mstart;
  pid_t mpid;
  if (read_pidfile(dir, "monitor", &mpid, &mstart) == 0) {
    int mfd = (int)syscall(SYS_pidfd_open, mpid, 0);
    if (mfd >= 0 && proc_starttime(mpid) == mstart) {
      struct pollfd p = {mfd, POLLIN, 0};
      poll(&p, 1, 5000);
    }
    if (mfd >= 0) close(mfd);
  }
  return 0;
}

static volatile pid_t g_exec_child;

/* SIGTERM / SIGHUP to the launcher (the agent ending an exec) go to the command */
static void relay_signal(int sig) {
  if (g_exec_child > 0) kill(g_exec_child, sig);
}

/* exec DIR [--cwd D] [--user U] [--env K=V]... -- CMD ARGS... */
int cmd_exec(const char *dir, int argc, char **argv) {
  struct config c;
  char err[1024];
  if (load_config(dir, &c, err, sizeof err) < 0) die("%s", err);
  const char *cwd = c.cwd, *user = c.user;
  char *env[MAX_ITEMS * 2 + 1];
  int nenv = 0;
  for (int i = 0; i < c.nenv; i++) env[nenv++] = c.env[i];
  int i = 0;
  for (; i < argc && strcmp(argv[i], "--"); i++) {
    if (i + 1 >= argc) die("option %s needs a value", argv[i]);
    if (!strcmp(argv[i], "--cwd")) cwd = argv[++i];
    else if (!strcmp(argv[i], "--user")) user = argv[++i];
    else if (!strcmp(argv[i], "--env") && nenv < MAX_ITEMS * 2) env[nenv++] = argv[++i];
    else die("unknown exec option %s", argv[i]);
  }
  env[nenv] = NULL;
  if (i + 1 >= argc) die("exec: no command given after --");
  char **cmd = argv + i + 1;
  pid_t pid;
  int pidfd = open_init(dir, &pid);
  if (pidfd < 0) die("container in %s is not running", dir);
  if (join_cgroups(&c, getpid(), err, sizeof err) < 0) die("%s", err);
  /* setns through the pidfd enters all namespaces at once, atomically, of exactly that process */
  int flags = CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWNS;
  if (c.userns) flags |= CLONE_NEWUSER;
  if (setns(pidfd, flags) < 0) die("entering the namespaces of %d: %m", (int)pid);
  close(pidfd);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* as init: no /proc/PID/exe for container processes */
  /* block the signals we relay until the handler knows the child, so none is lost in between */
  sigset_t relay, old;
  sigemptyset(&relay);
  sigaddset(&relay, SIGTERM);
  sigaddset(&relay, SIGHUP);
  sigprocmask(SIG_BLOCK, &relay, &old);
  pid_t child = fork(); /* a new pid namespace applies to children only */
  if (child < 0) die("fork: %m");
  if (child == 0) {
    default_signals(); /* nothing the agent or this launcher ignores or blocks reaches the command */
    struct user_ids u;
    if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0 ||
        resolve_user(user, &u, err, sizeof err) < 0 || enter_workdir(cwd, err, sizeof err) < 0 ||
        drop_privileges(&u, err, sizeof err) < 0) {
      fprintf(stderr, "berth-launcher: %s\n", err);
      _exit(126);
    }
    /* The command dies with this launcher (the agent kills it when the exec's caller goes away).
     * Set after the credential change, which clears it. The parent lives outside the pid namespace
     * (getppid() is 0); once re-parented to the container's init it is 1: the launcher is gone. */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (getppid() != 0) _exit(137);
    if (exec_in_env(cmd, env, err, sizeof err) < 0) {
      fprintf(stderr, "berth-launcher: %s\n", err);
      _exit(126);
    }
  }
  g_exec_child = child;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = relay_signal;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  sigprocmask(SIG_SETMASK, &old, NULL);
  signal(SIGINT, SIG_IGN); /* the child gets terminal signals itself; we only relay its status */
  int st;
  while (waitpid(child, &st, 0) < 0 && errno == EINTR) {}
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
