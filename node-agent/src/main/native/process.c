/* The last steps of a process that is about to become container code: user, working dir,
 * capabilities, exec. Runs after pivot_root (or setns into the container's mount namespace), so
 * /etc/passwd is the container's. The host's NSS is never consulted: after pivot_root getpwnam
 * would dlopen libraries from the container's filesystem. */
#include "launcher.h"
#include <errno.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <grp.h>

/* Docker's default capability set (14). CapEff of a root process is 00000000a80425fb. */
static const int DEFAULT_CAPS[] = {
  CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, CAP_MKNOD, CAP_NET_RAW, CAP_SETGID,
  CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL,
  CAP_AUDIT_WRITE,
};

static int all_digits(const char *s) {
  if (!*s) return 0;
  for (; *s; s++) if (*s < '0' || *s > '9') return 0;
  return 1;
}

/* Finds NAME (or numeric ID) in an /etc/passwd- or /etc/group-style file.
 * Returns 1 and fills id/gid when found, 0 when not, -1 when the file is missing. */
static int lookup(const char *file, const char *name, long want_id, long *id, long *gid) {
  FILE *f = fopen(file, "re");
  if (!f) return -1;
  char line[2048];
  int found = 0;
  while (!found && fgets(line, sizeof line, f)) {
    char *fields[4] = {0};
    char *p = line;
    for (int i = 0; i < 4 && p; i++) { fields[i] = p; p = strchr(p, ':'); if (p) *p++ = 0; }
    if (!fields[2]) continue;
    long fid = atol(fields[2]);
    if ((name && !strcmp(fields[0], name)) || (!name && fid == want_id)) {
      *id = fid;
      if (gid && fields[3]) *gid = atol(fields[3]);
      found = 1;
    }
  }
  fclose(f);
  return found;
}

static void supplementary_groups(const char *user, struct user_ids *u) {
  if (!user) return; /* a numeric uid has no name to be a member by */
  FILE *f = fopen("/etc/group", "re");
  if (!f) return;
  char line[4096];
  while (fgets(line, sizeof line, f) && u->ngroups < 64) {
    line[strcspn(line, "\n")] = 0;
    char *name = line, *p = strchr(line, ':');
    if (!p) continue;
    *p++ = 0;
    p = strchr(p, ':'); if (!p) continue;           /* password */
    long gid = atol(++p);
    p = strchr(p, ':'); if (!p) continue;           /* members */
    for (char *m = strtok(p + 1, ","); m; m = strtok(NULL, ","))
      if (!strcmp(m, user) && (gid_t)gid != u->gid) { u->groups[u->ngroups++] = (gid_t)gid; break; }
    (void)name;
  }
  fclose(f);
}

/* SPEC is Docker's --user: "", "uid", "name", "uid:gid", "name:group", ... */
int resolve_user(const char *spec, struct user_ids *u, char *err, size_t errlen) {
  memset(u, 0, sizeof *u);
  if (!spec || !*spec) spec = "0";
  char buf[512];
  snprintf(buf, sizeof buf, "%s", spec);
  char *grp = strchr(buf, ':');
  if (grp) *grp++ = 0;
  long uid = 0, gid = 0;
  const char *uname = NULL;
  if (all_digits(buf)) {
    uid = atol(buf);
    long pw_uid;
    /* a numeric uid takes its primary group from /etc/passwd when listed there, else gid 0;
     * with a group given as well ("uid:gid"), nothing is looked up at all */
    if (!grp) lookup("/etc/passwd", NULL, uid, &pw_uid, &gid);
  } else {
    int r = lookup("/etc/passwd", buf, 0, &uid, &gid);
    if (r <= 0) { snprintf(err, errlen, "unable to find user %s: no matching entries in /etc/passwd", buf); return -1; }
    uname = buf;
  }
  if (grp) {
    if (all_digits(grp)) gid = atol(grp);
    else if (lookup("/etc/group", grp, 0, &gid, NULL) <= 0) {
      snprintf(err, errlen, "unable to find group %s: no matching entries in /etc/group", grp);
      return -1;
    }
  }
  u->uid = (uid_t)uid;
  u->gid = (gid_t)gid;
  /* like runc: the primary group plus the user's memberships in /etc/group */
  u->groups[u->ngroups++] = u->gid;
  if (!grp) supplementary_groups(uname, u);
  return 0;
}

static int mkdir_p(char *path) {
  for (char *p = path + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(path, 0755) < 0 && errno != EEXIST) { *p = '/'; return -1; }
    *p = '/';
  }
  return mkdir(path, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

/* Refuses working directories that lead outside the container's root. The runc CVE-2024-21626
 * class: a cwd like /proc/self/fd/N resolves through a leaked host directory fd. Berth leaks no
 * fds, and additionally rejects /proc paths outright and checks where chdir actually landed. */
int enter_workdir(const char *cwd, char *err, size_t errlen) {
  if (!cwd || !*cwd) cwd = "/";
  if (cwd[0] != '/') { snprintf(err, errlen, "working directory %s is not an absolute path", cwd); return -1; }
  /* lexical clean-up: collapse //, ., .. so "/x/../proc/self" is seen as "/proc/self" */
  char clean[4096] = "";
  size_t n = 0;
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s", cwd);
  for (char *s = strtok(tmp, "/"); s; s = strtok(NULL, "/")) {
    if (!strcmp(s, ".")) continue;
    if (!strcmp(s, "..")) { while (n > 0 && clean[--n] != '/') {} clean[n] = 0; continue; }
    n += (size_t)snprintf(clean + n, sizeof clean - n, "/%s", s);
  }
  if (!n) strcpy(clean, "/");
  if (!strcmp(clean, "/proc") || !strncmp(clean, "/proc/", 6)) {
    snprintf(err, errlen, "working directory %s is inside /proc, which may lead outside the container", cwd);
    return -1;
  }
  if (chdir(clean) < 0) {
    if (errno != ENOENT || mkdir_p(clean) < 0 || chdir(clean) < 0) {
      snprintf(err, errlen, "cannot enter working directory %s: %s", cwd, strerror(errno));
      return -1;
    }
  }
  char where[4096];
  if (!getcwd(where, sizeof where) || where[0] != '/') {
    snprintf(err, errlen, "working directory %s is outside the container's root", cwd);
    return -1;
  }
  return 0;
}

int drop_privileges(const struct user_ids *u, char *err, size_t errlen) {
  unsigned long long keep = 0;
  for (size_t i = 0; i < sizeof DEFAULT_CAPS / sizeof *DEFAULT_CAPS; i++) keep |= 1ULL << DEFAULT_CAPS[i];
  for (int cap = 0; cap < 64; cap++) {
    if (keep & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
      if (errno == EINVAL) break; /* past the kernel's last capability */
      snprintf(err, errlen, "dropping capability %d from the bounding set: %s", cap, strerror(errno));
      return -1;
    }
  }
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (setgroups((size_t)u->ngroups, u->groups) < 0 || setresgid(u->gid, u->gid, u->gid) < 0) {
    snprintf(err, errlen, "setting gid %u: %s", (unsigned)u->gid, strerror(errno));
    return -1;
  }
  /* without PR_SET_KEEPCAPS a switch to a non-zero uid clears permitted and effective, as in Docker */
  if (setresuid(u->uid, u->uid, u->uid) < 0) {
    snprintf(err, errlen, "setting uid %u: %s", (unsigned)u->uid, strerror(errno));
    return -1;
  }
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  if (u->uid == 0) {
    data[0].effective = data[0].permitted = (unsigned)(keep & 0xffffffffu);
    data[1].effective = data[1].permitted = (unsigned)(keep >> 32);
  }
  if (syscall(SYS_capset, &hdr, data) < 0) {
    snprintf(err, errlen, "capset: %s", strerror(errno));
    return -1;
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
    snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
    return -1;
  }
  return 0;
}

/* Container code starts as under runc: no signal ignored, none blocked. An ignored disposition
 * survives exec, so whatever the launcher or the agent ignores (SIGPIPE here; signals 32/33 and
 * SIGQUIT blocked as the JVM hands them down; SIGHUP under nohup) would otherwise reach container
 * processes. Handlers need no reset (exec resets them). The raw syscall reaches 32 and 33 too,
 * which glibc's sigaction refuses as its own. The mask is cleared last, so nothing pending is
 * delivered under an inherited disposition. */
struct kernel_sigaction { void (*handler)(int); unsigned long flags; void (*restorer)(void); unsigned long mask; };

static void set_disposition(int sig, void (*handler)(int)) {
  struct kernel_sigaction sa = {handler, 0, NULL, 0};
  syscall(SYS_rt_sigaction, sig, &sa, NULL, sizeof sa.mask);
}

static void unblock_all(void) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
}

/* The only signal a monitor (and so an init it clones) ignores: the agent may be gone when the
 * monitor writes to it. */
static const int MONITOR_IGNORED[] = {SIGPIPE};

static void all_default(void) {
  for (int sig = 1; sig <= 64; sig++)
    if (sig != SIGKILL && sig != SIGSTOP) set_disposition(sig, SIG_DFL);
}

void default_signals(void) {
  all_default();
  unblock_all();
}

/* A spare starts from all defaults while idle, off the start path, whatever the server inherited
 * from the agent; so what monitors and inits hand down is exactly MONITOR_IGNORED, and a container's
 * main process need undo only that (one syscall costs ~1 us here: the full sweep of 62, on the
 * start path, measured ~60 us). */
void monitor_signals(void) {
  all_default(); /* the mask is left alone: the monitor blocks SIGCHLD itself, the main process clears its own */
  for (size_t i = 0; i < sizeof MONITOR_IGNORED / sizeof *MONITOR_IGNORED; i++) set_disposition(MONITOR_IGNORED[i], SIG_IGN);
}

void container_signals(void) {
  for (size_t i = 0; i < sizeof MONITOR_IGNORED / sizeof *MONITOR_IGNORED; i++) set_disposition(MONITOR_IGNORED[i], SIG_DFL);
  unblock_all();
}

/* execvpe would search the launcher's PATH; the container's own PATH is what counts. */
int exec_in_env(char *const argv[], char *const envp[], char *err, size_t errlen) {
  const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (int i = 0; envp[i]; i++) if (!strncmp(envp[i], "PATH=", 5)) path = envp[i] + 5;
  if (strchr(argv[0], '/')) {
    execve(argv[0], argv, envp);
    snprintf(err, errlen, "exec %s: %s", argv[0], strerror(errno));
    return -1;
  }
  int saved = ENOENT;
  char dirs[4096], cand[4096];
  snprintf(dirs, sizeof dirs, "%s", path);
  for (char *save, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
    snprintf(cand, sizeof cand, "%s/%s", *d ? d : ".", argv[0]);
    execve(cand, argv, envp);
    if (errno != ENOENT && errno != ENOTDIR) saved = errno;
  }
  if (saved == ENOENT) snprintf(err, errlen, "exec %s: executable file not found in $PATH", argv[0]);
  else snprintf(err, errlen, "exec %s: %s", argv[0], strerror(saved));
  return -1;
}
