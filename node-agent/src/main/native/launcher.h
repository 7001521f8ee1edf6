/* berth-launcher: the native half of Berth's container runtime.
 * The JVM never forks into namespaces itself; it runs this small program, which
 *   serve SOCKET           resident spawner: per request "run DIR [wait]" on SOCKET it forks a
 *                          detached monitor that creates the container
 *   exec DIR [opts] -- CMD  runs CMD inside a running container (setns + cgroup)
 *   stop DIR SIG GRACE_MS   sends SIG, then SIGKILL after the grace period
 *   kill DIR SIG            sends SIG to the container's init
 * DIR is the container's state directory; DIR/config holds the launch config as
 * NUL-separated key/value pairs written by the Java agent. */
#ifndef BERTH_LAUNCHER_H
#define BERTH_LAUNCHER_H
#define _GNU_SOURCE
#include <stddef.h>
#include <sys/types.h>

#define MAX_ITEMS 512

struct config {
  char *id, *hostname, *upper, *work, *rootfs, *cwd, *user, *oom_file, *netns;
  char *uid_map, *gid_map;
  char *lower[MAX_ITEMS];   int nlower;   /* topmost first */
  char *argv[MAX_ITEMS];    int nargv;
  char *env[MAX_ITEMS];     int nenv;
  char *cgroup[MAX_ITEMS];  int ncgroup;  /* cgroup directories to join */
  long long log_max;        int log_files;
  int userns;
};

/* util.c */
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
int load_config(const char *dir, struct config *c, char *err, size_t errlen);
unsigned long long proc_starttime(pid_t pid);
int write_file(const char *path, const char *data);
int write_atomic(const char *dir, const char *name, const char *data);
int read_pidfile(const char *dir, const char *name, pid_t *pid, unsigned long long *start);
int signal_from_name(const char *s);
long long now_ns(void);
int join_cgroups(const struct config *c, pid_t pid, char *err, size_t errlen);

/* process.c: the final steps before exec, shared by the container's main process and exec */
struct user_ids { uid_t uid; gid_t gid; gid_t groups[64]; int ngroups; };
int resolve_user(const char *spec, struct user_ids *u, char *err, size_t errlen);
int enter_workdir(const char *cwd, char *err, size_t errlen);
int drop_privileges(const struct user_ids *u, char *err, size_t errlen);
/* signal dispositions: default_signals() (all default, none blocked) before a one-shot exec's
 * command; monitor_signals() in each idle spare; container_signals() in a container's main
 * process undoes exactly what monitor_signals() set */
void default_signals(void);
void monitor_signals(void);
void container_signals(void);
int exec_in_env(char *const argv[], char *const envp[], char *err, size_t errlen);

/* container.c: runs as PID 1 of the new namespaces */
int container_init(struct config *c, int errfd, int statusfd, int syncfd) __attribute__((noreturn));

/* trace.c: optional start-path timestamps (BERTH_LAUNCHER_TRACE) */
void trace_setup(void);
void trace_begin(void);
void trace_mark(const char *label);
void trace_dump(const char *id);

/* monitor.c */
int cmd_serve(const char *socket_path);
/* control.c */
int cmd_exec(const char *dir, int argc, char **argv);
int cmd_stop(const char *dir, int sig, long grace_ms);
int cmd_kill(const char *dir, int sig);
#endif
