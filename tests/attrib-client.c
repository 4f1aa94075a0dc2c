/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Client process for test-attrib and test-process: joins a cgroup, drops to a uid, opens one
 * socket, prints its local port (or "ready") on stdout and then waits until stdin is closed, so
 * the test decides when it exits. No GLib: it must stay a tiny, predictable process.
 *
 *   attrib-client [--cgroup DIR] [--uid UID] ACTION [ARGS...]
 *   ACTION: wait [ARGS...] | tcp-connect ADDR PORT | tcp-listen ADDR | udp-connect ADDR PORT |
 *           udp-sendto ADDR PORT | udp-sendto-exit ADDR PORT | udp-bind ADDR | ping ADDR
 * An ADDR of the form ::ffff:a.b.c.d uses an IPv6 socket (dual-stack) to reach IPv4. */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <netinet/icmp6.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void
die (const char *what)
{
  fprintf (stderr, "attrib-client: %s: %s\n", what, strerror (errno));
  exit (2);
}

static socklen_t
parse_addr (const char *text, int port, struct sockaddr_storage *ss)
{
  struct sockaddr_in *sin = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

  memset (ss, 0, sizeof *ss);
  if (inet_pton (AF_INET, text, &sin->sin_addr) == 1)
    {
      sin->sin_family = AF_INET;
      sin->sin_port = htons (port);
      return sizeof *sin;
    }
  if (inet_pton (AF_INET6, text, &sin6->sin6_addr) == 1)
    {
      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = htons (port);
      return sizeof *sin6;
    }
  fprintf (stderr, "attrib-client: bad address %s\n", text);
  exit (2);
}

static int
local_port (int fd)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;

  if (getsockname (fd, (struct sockaddr *)&ss, &len) < 0)
    die ("getsockname");
  if (ss.ss_family == AF_INET)
    return ntohs (((struct sockaddr_in *)&ss)->sin_port);
  return ntohs (((struct sockaddr_in6 *)&ss)->sin6_port);
}

static void
report_and_wait (const char *line, int do_wait)
{
  char c;

  printf ("%s\n", line);
  fflush (stdout);
  if (!do_wait)
    return;
  while (read (0, &c, 1) > 0)
    ;
}

static void
report_port_and_wait (int fd, int do_wait)
{
  char buf[32];

  snprintf (buf, sizeof buf, "%d", local_port (fd));
  report_and_wait (buf, do_wait);
}

int
main (int argc, char **argv)
{
  struct sockaddr_storage ss;
  socklen_t len;
  const char *action;
  int i = 1;
  int fd;

  while (i + 1 < argc && strncmp (argv[i], "--", 2) == 0)
    {
      if (strcmp (argv[i], "--cgroup") == 0)
        {
          char path[4096];
          int cfd;
          snprintf (path, sizeof path, "%s/cgroup.procs", argv[i + 1]);
          cfd = open (path, O_WRONLY | O_CLOEXEC);
          if (cfd < 0 || write (cfd, "0", 1) != 1)
            die (path);
          close (cfd);
        }
      else if (strcmp (argv[i], "--uid") == 0)
        {
          uid_t uid = (uid_t)atoi (argv[i + 1]);
          if (setgroups (0, NULL) < 0 || setgid (uid) < 0 || setuid (uid) < 0)
            die ("setuid");
        }
      else
        {
          fprintf (stderr, "attrib-client: unknown option %s\n", argv[i]);
          return 2;
        }
      i += 2;
    }
  if (i >= argc)
    {
      fprintf (stderr, "attrib-client: no action\n");
      return 2;
    }
  action = argv[i];

  if (strcmp (action, "wait") == 0)
    {
      report_and_wait ("ready", 1);
      return 0;
    }
  if (i + 1 >= argc)
    {
      fprintf (stderr, "attrib-client: %s needs an address\n", action);
      return 2;
    }
  len = parse_addr (argv[i + 1], i + 2 < argc ? atoi (argv[i + 2]) : 0, &ss);

  if (strcmp (action, "tcp-connect") == 0)
    {
      fd = socket (ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0 || connect (fd, (struct sockaddr *)&ss, len) < 0)
        die ("tcp connect");
      report_port_and_wait (fd, 1);
    }
  else if (strcmp (action, "tcp-listen") == 0)
    {
      fd = socket (ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0 || bind (fd, (struct sockaddr *)&ss, len) < 0 || listen (fd, 8) < 0)
        die ("tcp listen");
      report_port_and_wait (fd, 1);
    }
  else if (strcmp (action, "udp-bind") == 0)
    {
      fd = socket (ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (fd < 0 || bind (fd, (struct sockaddr *)&ss, len) < 0)
        die ("udp bind");
      report_port_and_wait (fd, 1);
    }
  else if (strcmp (action, "udp-connect") == 0)
    {
      fd = socket (ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (fd < 0 || connect (fd, (struct sockaddr *)&ss, len) < 0 || send (fd, "x", 1, 0) != 1)
        die ("udp connect");
      report_port_and_wait (fd, 1);
    }
  else if (strcmp (action, "udp-sendto") == 0 || strcmp (action, "udp-sendto-exit") == 0)
    {
      fd = socket (ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (fd < 0 || sendto (fd, "x", 1, 0, (struct sockaddr *)&ss, len) != 1)
        die ("udp sendto");
      /* The exit variant closes the socket before saying where it sent from: by the time the
       * test looks, only the BPF flow record can know the sender. */
      if (strcmp (action, "udp-sendto-exit") == 0)
        {
          int port = local_port (fd);
          char buf[32];
          close (fd);
          snprintf (buf, sizeof buf, "%d", port);
          report_and_wait (buf, 0);
          return 0;
        }
      report_port_and_wait (fd, 1);
    }
  else if (strcmp (action, "ping") == 0)
    {
      int v6 = ss.ss_family == AF_INET6;
      struct icmphdr h4 = { .type = ICMP_ECHO };
      struct icmp6_hdr h6 = { .icmp6_type = ICMP6_ECHO_REQUEST };

      fd = socket (ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
      if (fd < 0)
        die ("ping socket");
      /* The kernel puts the socket's "port" into the echo id. */
      if ((v6 ? sendto (fd, &h6, sizeof h6, 0, (struct sockaddr *)&ss, len)
              : sendto (fd, &h4, sizeof h4, 0, (struct sockaddr *)&ss, len))
          < 0)
        die ("ping sendto");
      report_port_and_wait (fd, 1);
    }
  else
    {
      fprintf (stderr, "attrib-client: unknown action %s\n", action);
      return 2;
    }
  return 0;
}
