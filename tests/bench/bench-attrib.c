/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Cost of attributing one new flow whose process is already cached:
 * pc_attrib_find_owner () + pc_attrib_get_owner_process (), with BPF and with the /proc fallback.
 * Runs in its own network namespace and child cgroup (root only). Prints microseconds per
 * lookup and, because CI machines are shared and noisy, the ratio to a getsockname() syscall
 * measured in the same run. */
#define G_LOG_DOMAIN "portcullis-attrib"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../attrib-testutil.h"
#include "pc-attrib.h"

#define N_ITER 20000

static double
bench_lookup (PcAttrib *a, const PcFlowKey *key, pid_t expect)
{
  gint64 start = g_get_monotonic_time ();

  for (int i = 0; i < N_ITER; i++)
    {
      PcSocketOwner o;
      PcProcess *p;

      if (!pc_attrib_find_owner (a, key, &o) || o.pid != expect)
        g_error ("lookup %d failed", i);
      p = pc_attrib_get_owner_process (a, &o); /* what the packet path calls */
      if (p == NULL)
        g_error ("no process for %d", o.pid);
      pc_process_unref (p);
    }
  return (double)(g_get_monotonic_time () - start) / N_ITER;
}

static double
bench_baseline (int fd)
{
  gint64 start = g_get_monotonic_time ();

  for (int i = 0; i < N_ITER; i++)
    {
      struct sockaddr_storage ss;
      socklen_t len = sizeof ss;
      getsockname (fd, (struct sockaddr *)&ss, &len);
    }
  return (double)(g_get_monotonic_time () - start) / N_ITER;
}

static int
run (const char *cgroup_dir)
{
  g_autofree char *client = attrib_test_built_file ("attrib-client");
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof sin;
  struct ifreq ifr = { 0 };
  char port_s[16];
  g_autoptr (GError) error = NULL;
  g_autoptr (AttribChild) c = NULL;
  g_autoptr (PcAttrib) bpf = NULL;
  PcFlowKey tcp, udp;
  int fd, ufd;
  double base;

  if (unshare (CLONE_NEWNET) < 0)
    return 1;
  fd = socket (AF_INET, SOCK_DGRAM, 0);
  g_strlcpy (ifr.ifr_name, "lo", sizeof ifr.ifr_name);
  ioctl (fd, SIOCGIFFLAGS, &ifr);
  ifr.ifr_flags |= IFF_UP;
  if (ioctl (fd, SIOCSIFFLAGS, &ifr) < 0)
    return 1;
  close (fd);

  fd = socket (AF_INET, SOCK_STREAM, 0);
  if (bind (fd, (struct sockaddr *)&sin, sizeof sin) < 0 || listen (fd, 4) < 0
      || getsockname (fd, (struct sockaddr *)&sin, &len) < 0)
    return 1;
  g_snprintf (port_s, sizeof port_s, "%u", ntohs (sin.sin_port));
  /* Attach before the client makes its socket, so that the hooks see it. */
  bpf = pc_attrib_new (cgroup_dir, &error);
  g_assert_no_error (error);
  {
    const char *argv[]
        = { client, "--cgroup", cgroup_dir, "tcp-connect", "127.0.0.1", port_s, NULL };
    c = attrib_child_spawn (argv, NULL, NULL, &error);
    g_assert_no_error (error);
  }
  memset (&tcp, 0, sizeof tcp);
  tcp.family = AF_INET;
  tcp.proto = IPPROTO_TCP;
  tcp.lport = atoi (c->line);
  tcp.rport = ntohs (sin.sin_port);
  pc_addr_parse ("127.0.0.1", &tcp.laddr);
  pc_addr_parse ("127.0.0.1", &tcp.raddr);

  /* A UDP socket of our own (outside the cgroup) for the /proc path over UDP. */
  ufd = socket (AF_INET, SOCK_DGRAM, 0);
  sin.sin_port = 0;
  bind (ufd, (struct sockaddr *)&sin, sizeof sin);
  len = sizeof sin;
  getsockname (ufd, (struct sockaddr *)&sin, &len);
  udp = tcp;
  udp.proto = IPPROTO_UDP;
  udp.lport = ntohs (sin.sin_port);
  udp.rport = 9;

  base = bench_baseline (fd);
  g_print ("baseline getsockname(): %.3f us\n", base);
  {
    double t;
    if (pc_attrib_get_mode (bpf) != PC_ATTRIB_MODE_BPF)
      g_print ("BPF unavailable: %s\n", pc_attrib_get_degraded_reason (bpf));
    t = bench_lookup (bpf, &tcp, c->pid);
    g_print ("bpf  tcp find_owner+get_owner_process: %.3f us (%.1fx baseline)\n", t, t / base);
  }
  {
    g_autoptr (PcAttrib) a = pc_attrib_new (NULL, &error);
    double t;
    g_assert_no_error (error);
    t = bench_lookup (a, &tcp, c->pid);
    g_print ("proc tcp find_owner+get_owner_process: %.3f us (%.1fx baseline)\n", t, t / base);
    t = bench_lookup (a, &udp, getpid ());
    g_print ("proc udp find_owner+get_owner_process: %.3f us (%.1fx baseline)\n", t, t / base);
  }
  attrib_child_finish (c);
  close (fd);
  close (ufd);
  return 0;
}

int
main (int argc, char **argv)
{
  g_autofree char *cg2 = attrib_find_cgroup2_root ();
  g_autofree char *dir = NULL;
  int status = 0;
  pid_t pid;

  if (getuid () != 0 || cg2 == NULL)
    {
      g_printerr ("bench-attrib needs root and cgroup v2\n");
      return 77;
    }
  dir = g_strdup_printf ("%s/pc-attrib-bench-%08x", cg2, g_random_int ());
  if (g_mkdir (dir, 0755) < 0)
    return 1;
  pid = fork ();
  if (pid == 0)
    _exit (run (dir));
  waitpid (pid, &status, 0);
  for (int i = 0; i < 500 && g_rmdir (dir) < 0; i++)
    g_usleep (10000);
  return WIFEXITED (status) ? WEXITSTATUS (status) : 1;
}
