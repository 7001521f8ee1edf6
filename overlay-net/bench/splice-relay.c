/* Reference L4 relay for the routing-mesh benchmark (not part of Berth): what the kernel alone
 * can do. Accepts TCP on PORT and relays each connection to IP:TPORT with splice(2) through a
 * pipe, one blocking process per direction, half-closes passed on. Its throughput is the ceiling
 * for any user-space-driven L4 proxy on the machine; the mesh is compared against it.
 *   splice-relay PORT IP TPORT [PIPE_BYTES]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void pump(int in, int out, int pipe_bytes) {
  int p[2];
  if (pipe(p)) _exit(1);
  if (pipe_bytes > 0) fcntl(p[1], F_SETPIPE_SZ, pipe_bytes);
  for (;;) {
    ssize_t n = splice(in, NULL, p[1], NULL, 1 << 20, SPLICE_F_MOVE);
    if (n <= 0) break;
    while (n > 0) {
      ssize_t m = splice(p[0], NULL, out, NULL, n, SPLICE_F_MOVE);
      if (m <= 0) _exit(0);
      n -= m;
    }
  }
  shutdown(out, SHUT_WR);
  _exit(0);
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: splice-relay PORT IP TPORT [PIPE_BYTES]\n"); return 2; }
  int one = 1, pipe_bytes = argc > 4 ? atoi(argv[4]) : 0;
  signal(SIGCHLD, SIG_IGN);
  int l = socket(AF_INET, SOCK_STREAM, 0);
  setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])) };
  struct sockaddr_in t = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[3])) };
  inet_pton(AF_INET, argv[2], &t.sin_addr);
  if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 64)) { perror("bind/listen"); return 1; }
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    int c = accept(l, NULL, NULL);
    if (c < 0) continue;
    if (fork() == 0) {
      close(l);
      int b = socket(AF_INET, SOCK_STREAM, 0);
      if (connect(b, (struct sockaddr *)&t, sizeof t)) _exit(1);
      setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      setsockopt(b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (fork() == 0) pump(b, c, pipe_bytes);
      pump(c, b, pipe_bytes);
    }
    close(c);
  }
}
