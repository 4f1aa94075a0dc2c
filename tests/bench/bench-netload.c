/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Load generator and servers for the packet-path benchmark (plain sockets, no GLib, so the
 * client's own cost stays small next to what is measured).
 *
 *   bench-netload serve PORT             TCP: accept and close; UDP: echo; TCP PORT+1: sink
 *   bench-netload tcp HOST PORT N        N sequential connects (new flow each)
 *   bench-netload tcp-fork HOST PORT N   the same, each connect in a new process
 *   bench-netload udp HOST PORT N [LPORT] N new UDP flows (new socket, one echo each; from
 *                                        local ports LPORT, LPORT+1, ... if given)
 *   bench-netload bulk HOST PORT MB      send MB MiB over one TCP connection to the sink
 *
 * Client modes print one line: "rate=<per s> p50_us=<> p99_us=<> n=<>" (bulk: "mbit=<>"). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double
now_us (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int
parse_addr (const char *host, int port, struct sockaddr_storage *ss, socklen_t *len)
{
  struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

  memset (ss, 0, sizeof *ss);
  if (inet_pton (AF_INET, host, &in4->sin_addr) == 1)
    {
      in4->sin_family = AF_INET;
      in4->sin_port = htons (port);
      *len = sizeof *in4;
      return AF_INET;
    }
  if (inet_pton (AF_INET6, host, &in6->sin6_addr) == 1)
    {
      in6->sin6_family = AF_INET6;
      in6->sin6_port = htons (port);
      *len = sizeof *in6;
      return AF_INET6;
    }
  fprintf (stderr, "bad address %s\n", host);
  exit (2);
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void
report (double *lat, int n, double total_us)
{
  qsort (lat, n, sizeof *lat, cmp_double);
  printf ("rate=%.1f p50_us=%.1f p99_us=%.1f n=%d\n", n / (total_us / 1e6), lat[n / 2],
          lat[(int)(n * 0.99)], n);
}

/* One TCP connect; returns its latency in µs, or a negative value on failure. */
static double
one_connect (const struct sockaddr_storage *ss, socklen_t len)
{
  int fd = socket (ss->ss_family, SOCK_STREAM, 0);
  struct linger lg = { 1, 0 };
  double t0 = now_us (), dt;

  if (connect (fd, (const struct sockaddr *)ss, len) < 0)
    {
      close (fd);
      return -1;
    }
  dt = now_us () - t0;
  /* RST on close: no TIME_WAIT pile-up over thousands of connections. */
  setsockopt (fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  close (fd);
  return dt;
}

static int
run_tcp (const char *host, int port, int n, int fork_each)
{
  struct sockaddr_storage ss;
  socklen_t len;
  double *lat = calloc (n, sizeof *lat);
  double t0;
  int fails = 0;
  int pipefd[2];

  parse_addr (host, port, &ss, &len);
  if (pipe (pipefd) < 0)
    return 1;
  t0 = now_us ();
  for (int i = 0; i < n; i++)
    {
      if (!fork_each)
        {
          lat[i] = one_connect (&ss, len);
        }
      else
        {
          pid_t pid = fork ();
          if (pid == 0)
            {
              double d = one_connect (&ss, len);
              if (write (pipefd[1], &d, sizeof d) != sizeof d)
                _exit (1);
              _exit (0);
            }
          if (read (pipefd[0], &lat[i], sizeof lat[i]) != sizeof lat[i])
            lat[i] = -1;
          waitpid (pid, NULL, 0);
        }
      if (lat[i] < 0)
        fails++;
    }
  report (lat, n, now_us () - t0);
  if (fails)
    fprintf (stderr, "%d connects failed\n", fails);
  return fails ? 1 : 0;
}

/* lport_base > 0: the flows come from local ports lport_base, lport_base + 1, ... so that every
 * one is a new conntrack flow (an ephemeral port the kernel hands out again would meet the
 * previous socket's entry, which lives on for 30 s, and never reach the queue). */
static int
run_udp (const char *host, int port, int n, int lport_base)
{
  struct sockaddr_storage ss;
  socklen_t len;
  double *lat = calloc (n, sizeof *lat);
  double t0;
  int fails = 0;
  struct timeval tv = { 1, 0 };

  parse_addr (host, port, &ss, &len);
  t0 = now_us ();
  for (int i = 0; i < n; i++)
    {
      int fd = socket (ss.ss_family, SOCK_DGRAM, 0);
      char buf[16];
      double s;

      if (lport_base > 0)
        {
          struct sockaddr_storage local = { .ss_family = ss.ss_family };
          int one = 1;
          if (ss.ss_family == AF_INET6)
            ((struct sockaddr_in6 *)&local)->sin6_port = htons (lport_base + i);
          else
            ((struct sockaddr_in *)&local)->sin_port = htons (lport_base + i);
          setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
          if (bind (fd, (struct sockaddr *)&local, len) < 0)
            {
              perror ("bind");
              return 1;
            }
        }
      s = now_us ();
      setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      if (sendto (fd, "x", 1, 0, (struct sockaddr *)&ss, len) != 1
          || recv (fd, buf, sizeof buf, 0) != 1)
        fails++;
      lat[i] = now_us () - s;
      close (fd);
    }
  report (lat, n, now_us () - t0);
  if (fails)
    fprintf (stderr, "%d exchanges failed\n", fails);
  return fails ? 1 : 0;
}

static int
run_bulk (const char *host, int port, int mb)
{
  struct sockaddr_storage ss;
  socklen_t len;
  static char buf[1 << 20];
  int fd;
  double t0;

  parse_addr (host, port, &ss, &len);
  fd = socket (ss.ss_family, SOCK_STREAM, 0);
  if (connect (fd, (struct sockaddr *)&ss, len) < 0)
    {
      perror ("connect");
      return 1;
    }
  t0 = now_us ();
  for (int i = 0; i < mb; i++)
    {
      size_t off = 0;
      while (off < sizeof buf)
        {
          ssize_t w = write (fd, buf + off, sizeof buf - off);
          if (w <= 0)
            {
              perror ("write");
              return 1;
            }
          off += w;
        }
    }
  shutdown (fd, SHUT_WR);
  /* wait for the sink to have read everything (it closes after EOF) */
  while (read (fd, buf, sizeof buf) > 0)
    ;
  printf ("mbit=%.1f\n", mb * 8.0 * 1048576 / 1e6 / ((now_us () - t0) / 1e6));
  close (fd);
  return 0;
}

static int
listen_on (int type, int port)
{
  struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons (port) };
  int fd = socket (AF_INET6, type, 0);
  int one = 1, zero = 0;

  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  if (bind (fd, (struct sockaddr *)&a, sizeof a) < 0)
    {
      perror ("bind");
      exit (1);
    }
  if (type == SOCK_STREAM)
    listen (fd, 4096);
  return fd;
}

static void *
udp_echo (void *arg)
{
  int fd = *(int *)arg;
  char buf[2048];
  for (;;)
    {
      struct sockaddr_storage from;
      socklen_t fl = sizeof from;
      ssize_t n = recvfrom (fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
      if (n >= 0)
        sendto (fd, buf, n, 0, (struct sockaddr *)&from, fl);
    }
  return NULL;
}

static void *
sink (void *arg)
{
  int lfd = *(int *)arg;
  static char buf[1 << 20];
  for (;;)
    {
      int c = accept (lfd, NULL, NULL);
      if (c < 0)
        continue;
      while (read (c, buf, sizeof buf) > 0)
        ;
      close (c);
    }
  return NULL;
}

static int
run_serve (int port)
{
  static int tcp, udp, sinkfd;
  pthread_t t1, t2;

  tcp = listen_on (SOCK_STREAM, port);
  udp = listen_on (SOCK_DGRAM, port);
  sinkfd = listen_on (SOCK_STREAM, port + 1);
  pthread_create (&t1, NULL, udp_echo, &udp);
  pthread_create (&t2, NULL, sink, &sinkfd);
  printf ("ready\n");
  fflush (stdout);
  for (;;)
    {
      int c = accept (tcp, NULL, NULL);
      if (c >= 0)
        close (c);
    }
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc == 3 && strcmp (argv[1], "serve") == 0)
    return run_serve (atoi (argv[2]));
  if (argc == 5 && strcmp (argv[1], "tcp") == 0)
    return run_tcp (argv[2], atoi (argv[3]), atoi (argv[4]), 0);
  if (argc == 5 && strcmp (argv[1], "tcp-fork") == 0)
    return run_tcp (argv[2], atoi (argv[3]), atoi (argv[4]), 1);
  if ((argc == 5 || argc == 6) && strcmp (argv[1], "udp") == 0)
    return run_udp (argv[2], atoi (argv[3]), atoi (argv[4]), argc == 6 ? atoi (argv[5]) : 0);
  if (argc == 5 && strcmp (argv[1], "bulk") == 0)
    return run_bulk (argv[2], atoi (argv[3]), atoi (argv[4]));
  fprintf (stderr, "usage: see the comment at the top of bench-netload.c\n");
  return 2;
}
