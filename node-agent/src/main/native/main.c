#include "launcher.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

#define SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* The container's init is this program. Without care, a root process in the container could
 * open /proc/1/exe for writing and replace the host's launcher binary (CVE-2019-5736). So every
 * invocation that enters a container first re-executes itself from a sealed, anonymous memfd
 * copy: /proc/self/exe then names an immutable in-memory file, never the file on disk. */
static void exec_from_sealed_copy(char **argv) {
  int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (self < 0) die("open /proc/self/exe: %m");
  int seals = fcntl(self, F_GET_SEALS);
  if (seals >= 0 && (seals & SEALS) == SEALS) { close(self); return; }
  struct stat st;
  if (fstat(self, &st) < 0) die("stat /proc/self/exe: %m");
  int mfd = memfd_create("berth-launcher", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (mfd < 0) die("memfd_create: %m");
  off_t off = 0;
  while (off < st.st_size) {
    ssize_t n = sendfile(mfd, self, &off, (size_t)(st.st_size - off));
    if (n <= 0) die("copying launcher into memfd: %m");
  }
  close(self);
  if (fcntl(mfd, F_ADD_SEALS, SEALS) < 0) die("sealing memfd: %m");
  fexecve(mfd, argv, environ);
  die("fexecve sealed launcher: %m");
}

static void usage(void) {
  die("usage: berth-launcher serve SOCKET | exec DIR [--cwd D] [--user U] [--env K=V]... -- CMD... |"
      " stop DIR SIGNAL GRACE_MS | kill DIR SIGNAL");
}

int main(int argc, char **argv) {
  if (argc < 3) usage();
  const char *cmd = argv[1], *dir = argv[2];
  if (!strcmp(cmd, "serve") && argc == 3) {
    exec_from_sealed_copy(argv); /* once per server: every monitor and init it forks runs this copy */
    return cmd_serve(dir);
  }
  if (!strcmp(cmd, "exec")) {
    exec_from_sealed_copy(argv);
    return cmd_exec(dir, argc - 3, argv + 3);
  }
  if (!strcmp(cmd, "stop") && argc == 5) {
    int sig = signal_from_name(argv[3]);
    if (sig < 0) die("unknown signal '%s'", argv[3]);
    return cmd_stop(dir, sig, atol(argv[4]));
  }
  if (!strcmp(cmd, "kill") && argc == 4) {
    int sig = signal_from_name(argv[3]);
    if (sig < 0) die("unknown signal '%s'", argv[3]);
    return cmd_kill(dir, sig);
  }
  usage();
}
