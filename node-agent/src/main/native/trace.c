/* Start-path timestamps for profiling, off unless the server's environment has
 * BERTH_LAUNCHER_TRACE=FILE. Each spare maps a small shared buffer before it forks the
 * container's init, so the monitor, init and the main process (until exec) all mark into it with
 * plain stores; the monitor appends the marks to FILE after the exit record, off the start path.
 * Times are CLOCK_MONOTONIC, the clock of the JVM's System.nanoTime, so they align with its own. */
#include "launcher.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define TRACE_EVENTS 48

struct trace_buf {
  int n;
  struct { long long ns; int pid; char label[28]; } ev[TRACE_EVENTS];
};

static const char *g_file;
static struct trace_buf *g_buf;

void trace_setup(void) {
  g_file = getenv("BERTH_LAUNCHER_TRACE");
  if (g_file && !*g_file) g_file = NULL;
}

void trace_begin(void) {
  if (!g_file) return;
  g_buf = mmap(NULL, sizeof *g_buf, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (g_buf == MAP_FAILED) g_buf = NULL;
}

void trace_mark(const char *label) {
  if (!g_buf) return;
  int i = __atomic_fetch_add(&g_buf->n, 1, __ATOMIC_RELAXED);
  if (i >= TRACE_EVENTS) return;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  g_buf->ev[i].ns = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
  g_buf->ev[i].pid = getpid();
  snprintf(g_buf->ev[i].label, sizeof g_buf->ev[i].label, "%s", label);
}

void trace_dump(const char *id) {
  if (!g_buf) return;
  int fd = open(g_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return;
  char out[TRACE_EVENTS * 96];
  size_t len = 0;
  int n = g_buf->n < TRACE_EVENTS ? g_buf->n : TRACE_EVENTS;
  for (int i = 0; i < n; i++)
    len += (size_t)snprintf(out + len, sizeof out - len, "%s %lld %s\n", id, g_buf->ev[i].ns, g_buf->ev[i].label);
  if (write(fd, out, len) < 0) {}
  close(fd);
}
