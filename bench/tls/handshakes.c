/* Full TLS handshakes per second against one server, for bench/tls/run.sh.
 *
 *   handshakes HOST PORT SNI THREADS SECONDS
 *
 * Each thread loops: TCP connect, a full TLS handshake (no session resumption: no session cache,
 * no tickets, a fresh SSL per connection), one tiny HTTP/1.1 request with "Connection: close",
 * read the response to EOF, close. Prints one JSON line: handshakes/s, failures, and the
 * negotiated protocol and cipher of the first connection. The same client drives every server
 * compared, so its own cost is the same on both sides. Bench tool only, not part of the product.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char* g_host;
static int g_port;
static const char* g_sni;
static double g_deadline;
static SSL_CTX* g_ctx;
static atomic_long g_done, g_failed;
static char g_proto[64];

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int dial(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)g_port)};
  inet_pton(AF_INET, g_host, &a.sin_addr);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, (struct sockaddr*)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* One connection: handshake, request, response to EOF. Returns 0 on success. */
static int once(void) {
  int fd = dial();
  if (fd < 0) return -1;
  SSL* ssl = SSL_new(g_ctx);
  SSL_set_fd(ssl, fd);
  SSL_set_tlsext_host_name(ssl, g_sni);
  int rc = -1;
  if (SSL_connect(ssl) == 1) {
    if (g_proto[0] == 0)
      snprintf(g_proto, sizeof g_proto, "%s %s", SSL_get_version(ssl), SSL_get_cipher(ssl));
    char req[256];
    int n = snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
                     g_sni);
    if (SSL_write(ssl, req, n) == n) {
      char buf[4096];
      long got = 0;
      int r;
      while ((r = SSL_read(ssl, buf, sizeof buf)) > 0) got += r;
      if (got > 0 && strncmp(buf, "HTTP/1.1 ", 9) == 0) rc = 0;
    }
  }
  SSL_shutdown(ssl);
  SSL_free(ssl);
  close(fd);
  return rc;
}

static void* worker(void* arg) {
  (void)arg;
  while (now() < g_deadline) {
    if (once() == 0)
      atomic_fetch_add(&g_done, 1);
    else
      atomic_fetch_add(&g_failed, 1);
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s HOST PORT SNI THREADS SECONDS\n", argv[0]);
    return 2;
  }
  g_host = argv[1];
  g_port = atoi(argv[2]);
  g_sni = argv[3];
  int threads = atoi(argv[4]);
  double secs = atof(argv[5]);
  if (threads < 1 || threads > 256 || secs <= 0) return 2;
  g_ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_session_cache_mode(g_ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(g_ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_verify(g_ctx, SSL_VERIFY_NONE, NULL); /* run.sh checks the chain with curl */
  double t0 = now();
  g_deadline = t0 + secs;
  pthread_t* t = calloc((size_t)threads, sizeof *t);
  for (int i = 0; i < threads; ++i) pthread_create(&t[i], NULL, worker, NULL);
  for (int i = 0; i < threads; ++i) pthread_join(t[i], NULL);
  double took = now() - t0;
  printf("{\"handshakes_per_s\": %.1f, \"done\": %ld, \"failed\": %ld, \"seconds\": %.2f, "
         "\"negotiated\": \"%s\"}\n",
         (double)atomic_load(&g_done) / took, atomic_load(&g_done), atomic_load(&g_failed), took,
         g_proto);
  free(t);
  SSL_CTX_free(g_ctx);
  return 0;
}
