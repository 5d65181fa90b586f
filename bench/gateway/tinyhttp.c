#define _GNU_SOURCE
/* A small keep-alive HTTP/1.1 server for the gateway benchmark (the "container" workload):
 * GET /        → 13-byte "hello, world\n"
 * GET /1m      → 1 MiB of 'x'
 * Anything else → 404. Single-threaded epoll, no parsing beyond the request line; bench only.
 * Built statically (gcc -static) and imported into a scratch image by bench/gateway/run.sh. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXEV 256
#define BIG (1 << 20)
static char big[BIG];

struct conn {
  int fd;
  char in[8192];
  size_t len;
  const char *out;
  size_t outLen, outOff;
  char head[128];
  size_t headLen, headOff;
};

static void closeConn(int ep, struct conn *c) {
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  free(c);
}

static int flush(int ep, struct conn *c) {
  while (c->headOff < c->headLen || c->outOff < c->outLen) {
    ssize_t n;
    if (c->headOff < c->headLen) {
      n = write(c->fd, c->head + c->headOff, c->headLen - c->headOff);
      if (n > 0) c->headOff += (size_t)n;
    } else {
      n = write(c->fd, c->out + c->outOff, c->outLen - c->outOff);
      if (n > 0) c->outOff += (size_t)n;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
      epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
      return 1;
    }
    if (n <= 0) return -1;
  }
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
  epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
  return 0;
}

static int serve(int ep, struct conn *c) {
  for (;;) {
    if (c->headOff < c->headLen || c->outOff < c->outLen) {
      int r = flush(ep, c);
      if (r != 0) return r;
    }
    char *end = memmem(c->in, c->len, "\r\n\r\n", 4);
    if (!end) return 0;
    size_t reqLen = (size_t)(end - c->in) + 4;
    static const char hello[] = "hello, world\n";
    int big1 = c->len > 7 && memcmp(c->in, "GET /1m ", 8) == 0;
    int root = c->len > 5 && memcmp(c->in, "GET / ", 6) == 0;
    if (big1) {
      c->out = big;
      c->outLen = BIG;
    } else if (root) {
      c->out = hello;
      c->outLen = sizeof hello - 1;
    } else {
      c->out = "";
      c->outLen = 0;
    }
    c->outOff = 0;
    c->headLen = (size_t)snprintf(c->head, sizeof c->head,
                                  "HTTP/1.1 %s\r\nContent-Length: %zu\r\n\r\n",
                                  (big1 || root) ? "200 OK" : "404 Not Found", c->outLen);
    c->headOff = 0;
    memmove(c->in, c->in + reqLen, c->len - reqLen);
    c->len -= reqLen;
  }
}

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 8080;
  /* A client that closes mid-response must cost that connection only, not the server. */
  signal(SIGPIPE, SIG_IGN);
  memset(big, 'x', BIG);
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
  if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 4096)) {
    perror("bind/listen");
    return 1;
  }
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  struct epoll_event evs[MAXEV];
  for (;;) {
    int n = epoll_wait(ep, evs, MAXEV, -1);
    for (int i = 0; i < n; ++i) {
      struct conn *c = evs[i].data.ptr;
      if (!c) {
        int fd;
        while ((fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct conn *nc = calloc(1, sizeof *nc);
          nc->fd = fd;
          struct epoll_event e = {.events = EPOLLIN, .data.ptr = nc};
          epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
        }
        continue;
      }
      if (evs[i].events & EPOLLIN) {
        ssize_t r = read(c->fd, c->in + c->len, sizeof c->in - c->len);
        if (r <= 0) {
          if (r < 0 && errno == EAGAIN) continue;
          closeConn(ep, c);
          continue;
        }
        c->len += (size_t)r;
      }
      if (serve(ep, c) < 0) closeConn(ep, c);
    }
  }
}
