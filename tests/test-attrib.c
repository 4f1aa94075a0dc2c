/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pc_attrib against real sockets of real processes: the test makes its own network namespace
 * and its own child cgroup, attaches the BPF programs there (never elsewhere), and runs
 * attrib-client processes inside both. Every case runs with BPF and with the /proc fallback. */
#define G_LOG_DOMAIN "portcullis-attrib"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attrib-testutil.h"
#include "pc-attrib.h"

static char *client_path;
static char *cgroup_dir;
static uid_t other_uid;

typedef enum
{
  MODE_BPF,
  MODE_PROC,
} Mode;

static PcAttrib *
new_attrib (Mode mode)
{
  g_autoptr (GError) error = NULL;
  PcAttrib *a;

  a = pc_attrib_new (mode == MODE_BPF ? cgroup_dir : NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (a);
  if (mode == MODE_BPF)
    {
      /* CI has cgroup BPF: a silent fallback here would hide a broken BPF path. */
      g_assert_cmpstr (pc_attrib_get_degraded_reason (a), ==, NULL);
      g_assert_cmpint (pc_attrib_get_mode (a), ==, PC_ATTRIB_MODE_BPF);
    }
  else
    {
      g_assert_cmpint (pc_attrib_get_mode (a), ==, PC_ATTRIB_MODE_PROC);
      g_assert_nonnull (pc_attrib_get_degraded_reason (a));
    }
  return a;
}

/* A socket of the test process itself (outside the cgroup): the peer of the clients. */
static int
open_server (int type, const char *addr, guint16 *port)
{
  PcAddr a;
  struct sockaddr_storage ss = { 0 };
  socklen_t len;
  int fd;

  g_assert_true (pc_addr_parse (addr, &a));
  if (a.family == AF_INET)
    {
      struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
      sin->sin_family = AF_INET;
      memcpy (&sin->sin_addr, a.b, 4);
      len = sizeof *sin;
    }
  else
    {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
      sin6->sin6_family = AF_INET6;
      memcpy (&sin6->sin6_addr, a.b, 16);
      len = sizeof *sin6;
    }
  fd = socket (a.family, type | SOCK_CLOEXEC, 0);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (bind (fd, (struct sockaddr *)&ss, len), ==, 0);
  if (type == SOCK_STREAM)
    g_assert_cmpint (listen (fd, 16), ==, 0);
  len = sizeof ss;
  g_assert_cmpint (getsockname (fd, (struct sockaddr *)&ss, &len), ==, 0);
  *port = ntohs (a.family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                     : ((struct sockaddr_in6 *)&ss)->sin6_port);
  return fd;
}

/* Starts attrib-client in our cgroup (optionally as another uid) and returns it once it has
 * its socket; line holds the local port it reported. */
static AttribChild *
start_client (uid_t uid, const char *action, const char *addr, guint16 port)
{
  g_autofree char *port_s = g_strdup_printf ("%u", port);
  g_autofree char *uid_s = g_strdup_printf ("%u", uid);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  AttribChild *c;

  g_ptr_array_add (argv, client_path);
  g_ptr_array_add (argv, (char *)"--cgroup");
  g_ptr_array_add (argv, cgroup_dir);
  if (uid != 0)
    {
      g_ptr_array_add (argv, (char *)"--uid");
      g_ptr_array_add (argv, uid_s);
    }
  g_ptr_array_add (argv, (char *)action);
  g_ptr_array_add (argv, (char *)addr);
  g_ptr_array_add (argv, port_s);
  g_ptr_array_add (argv, NULL);
  c = attrib_child_spawn ((const char *const *)argv->pdata, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (c);
  return c;
}

static guint16
child_port (AttribChild *c)
{
  guint64 port = 0;

  g_assert_true (g_ascii_string_to_unsigned (c->line, 10, 1, 65535, &port, NULL));
  return (guint16)port;
}

static PcFlowKey
make_key (guint8 proto,
          PcDirection dir,
          const char *laddr,
          guint16 lport,
          const char *raddr,
          guint16 rport)
{
  PcFlowKey k;

  memset (&k, 0, sizeof k);
  g_assert_true (pc_addr_parse (laddr, &k.laddr));
  g_assert_true (pc_addr_parse (raddr, &k.raddr));
  k.family = k.laddr.family;
  k.proto = proto;
  k.direction = dir;
  k.lport = lport;
  k.rport = rport;
  return k;
}

/* The flow belongs to pid (running attrib-client as uid): check owner and process info. */
static void
assert_owner (PcAttrib *a, Mode mode, const PcFlowKey *key, pid_t pid, uid_t uid)
{
  PcSocketOwner o;
  g_autoptr (PcProcess) p = NULL;
  g_autofree char *desc = pc_flow_key_to_string (key);

  g_test_message ("looking up %s", desc);
  g_assert_true (pc_attrib_find_owner (a, key, &o));
  g_assert_true (o.found_socket);
  g_assert_cmpint (o.pid, ==, pid);
  g_assert_cmpuint (o.uid, ==, uid);
  if (mode == MODE_BPF && key->proto != IPPROTO_ICMP && key->proto != IPPROTO_ICMPV6)
    {
      g_assert_cmpuint (o.cookie, !=, 0);
      g_assert_cmpint (o.tid, ==, pid);
      g_assert_cmpstr (o.comm, ==, "attrib-client");
    }
  p = pc_attrib_get_process (a, o.pid);
  g_assert_nonnull (p);
  g_assert_cmpint (p->pid, ==, pid);
  g_assert_cmpstr (p->exe, ==, client_path);
  g_assert_cmpuint (p->uid, ==, uid);
  g_assert_cmpint (p->kind, ==, PC_APP_KIND_NATIVE);
}

static void
test_tcp_connect (gconstpointer data)
{
  Mode mode = GPOINTER_TO_INT (data);
  g_autoptr (PcAttrib) a = new_attrib (mode);
  const char *addrs[] = { "127.0.0.1", "::1" };

  for (guint i = 0; i < G_N_ELEMENTS (addrs); i++)
    {
      guint16 sport;
      int s = open_server (SOCK_STREAM, addrs[i], &sport);
      g_autoptr (AttribChild) c = start_client (0, "tcp-connect", addrs[i], sport);
      PcFlowKey k
          = make_key (IPPROTO_TCP, PC_DIR_OUTBOUND, addrs[i], child_port (c), addrs[i], sport);

      assert_owner (a, mode, &k, c->pid, 0);
      g_assert_cmpint (attrib_child_finish (c), ==, 0);
      close (s);
    }
}

static void
test_tcp_other_uid (gconstpointer data)
{
  Mode mode = GPOINTER_TO_INT (data);
  g_autoptr (PcAttrib) a = new_attrib (mode);
  guint16 sport;
  int s = open_server (SOCK_STREAM, "127.0.0.1", &sport);
  g_autoptr (AttribChild) c1 = start_client (other_uid, "tcp-connect", "127.0.0.1", sport);
  g_autoptr (AttribChild) c2 = start_client (0, "tcp-connect", "127.0.0.1", sport);
  PcFlowKey k1
      = make_key (IPPROTO_TCP, PC_DIR_OUTBOUND, "127.0.0.1", child_port (c1), "127.0.0.1", sport);
  PcFlowKey k2
      = make_key (IPPROTO_TCP, PC_DIR_OUTBOUND, "127.0.0.1", child_port (c2), "127.0.0.1", sport);

  assert_owner (a, mode, &k1, c1->pid, other_uid);
  assert_owner (a, mode, &k2, c2->pid, 0);
  g_assert_cmpint (attrib_child_finish (c1), ==, 0);
  g_assert_cmpint (attrib_child_finish (c2), ==, 0);
  close (s);
}

static void
test_udp (gconstpointer data)
{
  Mode mode = GPOINTER_TO_INT (data);
  g_autoptr (PcAttrib) a = new_attrib (mode);
  const char *addrs[] = { "127.0.0.1", "::1" };
  const char *actions[] = { "udp-connect", "udp-sendto" };

  for (guint i = 0; i < G_N_ELEMENTS (addrs); i++)
    for (guint j = 0; j < G_N_ELEMENTS (actions); j++)
      {
        guint16 sport;
        int s = open_server (SOCK_DGRAM, addrs[i], &sport);
        g_autoptr (AttribChild) c = start_client (other_uid, actions[j], addrs[i], sport);
        PcFlowKey k
            = make_key (IPPROTO_UDP, PC_DIR_OUTBOUND, addrs[i], child_port (c), addrs[i], sport);

        g_test_message ("%s", actions[j]);
        assert_owner (a, mode, &k, c->pid, other_uid);
        g_assert_cmpint (attrib_child_finish (c), ==, 0);
        close (s);
      }
}

/* A process sends one datagram and exits before the packet is looked at. Only the BPF flow
 * record can name it; the /proc fallback must say "don't know", never guess. */
static void
test_udp_short_lived (gconstpointer data)
{
  Mode mode = GPOINTER_TO_INT (data);
  g_autoptr (PcAttrib) a = new_attrib (mode);
  struct
  {
    const char *client_addr; /* what the client sends to */
    const char *key_addr;    /* the packet's addresses */
  } cases[] = {
    { "127.0.0.1", "127.0.0.1" },
    { "::1", "::1" },
    { "::ffff:127.0.0.1", "127.0.0.1" }, /* dual-stack socket, IPv4 packet */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      guint16 sport;
      int s = open_server (SOCK_DGRAM, cases[i].key_addr, &sport);
      g_autoptr (AttribChild) c
          = start_client (other_uid, "udp-sendto-exit", cases[i].client_addr, sport);
      guint16 lport = child_port (c);
      pid_t pid = c->pid;
      PcFlowKey k = make_key (IPPROTO_UDP, PC_DIR_OUTBOUND, cases[i].key_addr, lport,
                              cases[i].key_addr, sport);
      PcSocketOwner o;

      g_assert_cmpint (attrib_child_wait (c), ==, 0);
      if (mode == MODE_BPF)
        {
          g_assert_true (pc_attrib_find_owner (a, &k, &o));
          g_assert_true (o.found_socket);
          g_assert_cmpint (o.pid, ==, pid);
          g_assert_cmpuint (o.uid, ==, other_uid);
          g_assert_cmpstr (o.comm, ==, "attrib-client");
        }
      else
        {
          g_assert_false (pc_attrib_find_owner (a, &k, &o));
          g_assert_cmpint (o.pid, ==, 0);
        }
      close (s);
    }
}

static void
test_inbound (gconstpointer data)
{
  Mode mode = GPOINTER_TO_INT (data);
  g_autoptr (PcAttrib) a = new_attrib (mode);

  /* TCP listeners: an inbound SYN is attributed to the listening socket. */
  {
    g_autoptr (AttribChild) c = start_client (other_uid, "tcp-listen", "127.0.0.1", 0);
    PcFlowKey k
        = make_key (IPPROTO_TCP, PC_DIR_INBOUND, "127.0.0.1", child_port (c), "127.0.0.1", 40001);
    assert_owner (a, mode, &k, c->pid, other_uid);
    g_assert_cmpint (attrib_child_finish (c), ==, 0);
  }
  {
    /* A dual-stack listener answers for both families. */
    g_autoptr (AttribChild) c = start_client (0, "tcp-listen", "::", 0);
    PcFlowKey k6 = make_key (IPPROTO_TCP, PC_DIR_INBOUND, "::1", child_port (c), "::1", 40002);
    PcFlowKey k4
        = make_key (IPPROTO_TCP, PC_DIR_INBOUND, "127.0.0.1", child_port (c), "127.0.0.1", 40003);
    assert_owner (a, mode, &k6, c->pid, 0);
    assert_owner (a, mode, &k4, c->pid, 0);
    g_assert_cmpint (attrib_child_finish (c), ==, 0);
  }
  /* UDP servers. */
  {
    g_autoptr (AttribChild) c = start_client (other_uid, "udp-bind", "0.0.0.0", 0);
    PcFlowKey k
        = make_key (IPPROTO_UDP, PC_DIR_INBOUND, "127.0.0.1", child_port (c), "127.0.0.1", 40004);
    assert_owner (a, mode, &k, c->pid, other_uid);
    g_assert_cmpint (attrib_child_finish (c), ==, 0);
  }
  {
    g_autoptr (AttribChild) c = start_client (0, "udp-bind", "::1", 0);
    PcFlowKey k = make_key (IPPROTO_UDP, PC_DIR_INBOUND, "::1", child_port (c), "::1", 40005);
    assert_owner (a, mode, &k, c->pid, 0);
    g_assert_cmpint (attrib_child_finish (c), ==, 0);
  }
}

static void
test_ping (gconstpointer data)
{
  Mode mode = GPOINTER_TO_INT (data);
  g_autoptr (PcAttrib) a = new_attrib (mode);
  PcSocketOwner o;

  {
    g_autoptr (AttribChild) c = start_client (0, "ping", "127.0.0.1", 0);
    PcFlowKey k
        = make_key (IPPROTO_ICMP, PC_DIR_OUTBOUND, "127.0.0.1", child_port (c), "127.0.0.1", 8);
    assert_owner (a, mode, &k, c->pid, 0);
    /* An echo reply (type 0) or someone else's id has no socket here. */
    k.rport = 0;
    g_assert_false (pc_attrib_find_owner (a, &k, &o));
    k.rport = 8;
    k.lport = child_port (c) ^ 0x5555;
    g_assert_false (pc_attrib_find_owner (a, &k, &o));
    g_assert_cmpint (attrib_child_finish (c), ==, 0);
  }
  {
    g_autoptr (AttribChild) c = start_client (0, "ping", "::1", 0);
    PcFlowKey k = make_key (IPPROTO_ICMPV6, PC_DIR_OUTBOUND, "::1", child_port (c), "::1", 128);
    assert_owner (a, mode, &k, c->pid, 0);
    g_assert_cmpint (attrib_child_finish (c), ==, 0);
  }
}

static void
test_no_socket (gconstpointer data)
{
  Mode mode = GPOINTER_TO_INT (data);
  g_autoptr (PcAttrib) a = new_attrib (mode);
  PcFlowKey k = make_key (IPPROTO_TCP, PC_DIR_OUTBOUND, "127.0.0.1", 1, "127.0.0.1", 2);
  PcSocketOwner o;

  g_assert_false (pc_attrib_find_owner (a, &k, &o));
  g_assert_false (o.found_socket);
  g_assert_cmpint (o.pid, ==, 0);
  k.proto = IPPROTO_UDP;
  g_assert_false (pc_attrib_find_owner (a, &k, &o));
  g_assert_false (o.found_socket);
  k.proto = IPPROTO_SCTP;
  g_assert_false (pc_attrib_find_owner (a, &k, &o));
}

#ifdef HAVE_BPF
/* Sockets that existed before the programs were attached have no BPF record: the /proc path
 * must still find them in BPF mode. */
static void
test_bpf_preexisting_socket (void)
{
  guint16 sport;
  int s = open_server (SOCK_STREAM, "127.0.0.1", &sport);
  g_autoptr (AttribChild) c = start_client (other_uid, "tcp-connect", "127.0.0.1", sport);
  g_autoptr (PcAttrib) a = new_attrib (MODE_BPF);
  PcFlowKey k
      = make_key (IPPROTO_TCP, PC_DIR_OUTBOUND, "127.0.0.1", child_port (c), "127.0.0.1", sport);
  PcSocketOwner o;

  g_assert_true (pc_attrib_find_owner (a, &k, &o));
  g_assert_cmpint (o.pid, ==, c->pid);
  g_assert_cmpuint (o.uid, ==, other_uid);
  g_assert_cmpuint (o.cookie, !=, 0);
  g_assert_cmpuint (o.inode, !=, 0);
  g_assert_cmpstr (o.comm, ==, ""); /* no hook saw it */
  g_assert_cmpint (attrib_child_finish (c), ==, 0);
  close (s);
}
#endif

static void
test_process_cache (void)
{
  g_autoptr (PcAttrib) a = new_attrib (MODE_PROC);
  g_autoptr (AttribChild) c = start_client (0, "udp-bind", "127.0.0.1", 0);
  g_autoptr (PcProcess) p1 = pc_attrib_get_process (a, c->pid);
  g_autoptr (PcProcess) p2 = pc_attrib_get_process (a, c->pid);
  g_autoptr (PcProcess) p3 = NULL;
  g_autoptr (PcProcess) p4 = NULL;
  pid_t pid = c->pid;

  g_assert_nonnull (p1);
  g_assert_true (p1 == p2); /* cached */
  g_assert_cmpint (attrib_child_finish (c), ==, 0);
  /* Gone, but the flows it left behind still get a name. */
  p3 = pc_attrib_get_process (a, pid);
  g_assert_true (p3 == p1);
  g_assert_cmpstr (p3->exe, ==, client_path);
  g_assert_null (pc_attrib_get_process (a, 0));
  p4 = pc_attrib_get_process (a, getpid ());
  g_assert_nonnull (p4);
  g_assert_cmpint (p4->pid, ==, getpid ());
}

#ifdef HAVE_BPF
static void
test_bad_cgroup (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("pc-attrib-notcg-XXXXXX", NULL);
  g_autoptr (PcAttrib) a = NULL;
  g_autoptr (PcAttrib) b = NULL;

  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*is not a cgroup v2 directory*");
  a = pc_attrib_new (dir, &error);
  g_test_assert_expected_messages ();

  /* Not a cgroup: nothing is attached, and the reason names the directory. */
  g_assert_no_error (error);
  g_assert_cmpint (pc_attrib_get_mode (a), ==, PC_ATTRIB_MODE_PROC);
  g_assert_nonnull (strstr (pc_attrib_get_degraded_reason (a), dir));
  g_assert_cmpint (g_rmdir (dir), ==, 0);

  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*cannot open cgroup*");
  b = pc_attrib_new ("/nonexistent/pc-attrib", &error);
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_cmpint (pc_attrib_get_mode (b), ==, PC_ATTRIB_MODE_PROC);
  g_assert_nonnull (strstr (pc_attrib_get_degraded_reason (b), "/nonexistent/pc-attrib"));
}
#endif

static gboolean
write_file (const char *path, const char *text)
{
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  gboolean ok;

  if (fd < 0)
    return FALSE;
  ok = write (fd, text, strlen (text)) == (ssize_t)strlen (text);
  close (fd);
  return ok;
}

/* A private network namespace with only lo up: nothing the test does reaches the machine. */
static gboolean
setup_netns (void)
{
  struct ifreq ifr;
  int fd;

  if (unshare (CLONE_NEWNET) < 0)
    {
      g_printerr ("unshare(CLONE_NEWNET): %s\n", g_strerror (errno));
      return FALSE;
    }
  fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  memset (&ifr, 0, sizeof ifr);
  g_strlcpy (ifr.ifr_name, "lo", sizeof ifr.ifr_name);
  if (fd < 0 || ioctl (fd, SIOCGIFFLAGS, &ifr) < 0)
    return FALSE;
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl (fd, SIOCSIFFLAGS, &ifr) < 0)
    return FALSE;
  close (fd);
  /* Unprivileged ICMP echo ("ping") sockets for everyone, in this namespace only. */
  return write_file ("/proc/sys/net/ipv4/ping_group_range", "0 2147483647");
}

static uid_t
ensure_test_user (void)
{
  struct passwd *pw = getpwnam ("pctest");

  if (pw == NULL)
    {
      int status = system ("useradd --system --no-create-home --shell /usr/sbin/nologin pctest");
      if (status != 0)
        g_printerr ("useradd pctest failed (%d); using nobody\n", status);
      pw = getpwnam ("pctest");
    }
  if (pw == NULL)
    pw = getpwnam ("nobody");
  return pw != NULL ? pw->pw_uid : 65534;
}

/* Removes our cgroup even when a test aborted: its clients die once their stdin closes, and
 * anything left is killed (the cgroup is ours, so is everything in it). */
static void
remove_cgroup (const char *dir)
{
  g_autofree char *procs_path = g_build_filename (dir, "cgroup.procs", NULL);

  for (int attempt = 0; attempt < 500; attempt++)
    {
      g_autofree char *procs = NULL;
      g_auto (GStrv) pids = NULL;

      if (g_rmdir (dir) == 0 || errno == ENOENT)
        return;
      if (!g_file_get_contents (procs_path, &procs, NULL, NULL))
        break;
      pids = g_strsplit (procs, "\n", -1);
      for (guint i = 0; pids[i] != NULL; i++)
        {
          if (*pids[i] != '\0')
            kill (atoi (pids[i]), SIGKILL);
        }
      g_usleep (10000);
    }
  g_printerr ("cannot remove cgroup %s: %s\n", dir, g_strerror (errno));
}

#ifndef HAVE_BPF
/* Built without BPF: asking for it must fall back to /proc and say why. */
static void
test_bpf_unavailable (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PcAttrib) a = NULL;

  g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*without BPF support*");
  a = pc_attrib_new (cgroup_dir, &error);
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_cmpint (pc_attrib_get_mode (a), ==, PC_ATTRIB_MODE_PROC);
  g_assert_nonnull (strstr (pc_attrib_get_degraded_reason (a), "without BPF support"));
}
#endif

static void
add_tests (void)
{
#ifdef HAVE_BPF
  Mode first = MODE_BPF;
#else
  Mode first = MODE_PROC;
  g_test_add_func ("/attrib/bpf/unavailable", test_bpf_unavailable);
#endif

  for (Mode m = first; m <= MODE_PROC; m++)
    {
      const char *name = m == MODE_BPF ? "bpf" : "proc";
      struct
      {
        const char *path;
        GTestDataFunc func;
      } cases[] = {
        { "tcp-connect", test_tcp_connect },
        { "tcp-other-uid", test_tcp_other_uid },
        { "udp", test_udp },
        { "udp-short-lived", test_udp_short_lived },
        { "inbound", test_inbound },
        { "ping", test_ping },
        { "no-socket", test_no_socket },
      };
      for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
        {
          g_autofree char *path = g_strdup_printf ("/attrib/%s/%s", name, cases[i].path);
          g_test_add_data_func (path, GINT_TO_POINTER (m), cases[i].func);
        }
    }
#ifdef HAVE_BPF
  g_test_add_func ("/attrib/bpf/preexisting-socket", test_bpf_preexisting_socket);
#endif
  g_test_add_func ("/attrib/process-cache", test_process_cache);
#ifdef HAVE_BPF
  g_test_add_func ("/attrib/bad-cgroup", test_bad_cgroup);
#endif
}

int
main (int argc, char **argv)
{
  g_autofree char *cg2 = NULL;
  int status = 0;
  pid_t pid;

  g_test_init (&argc, &argv, NULL);
  if (getuid () != 0)
    {
      g_printerr ("test-attrib needs root (namespaces, cgroups, BPF)\n");
      return 77;
    }
  cg2 = attrib_find_cgroup2_root ();
  if (cg2 == NULL)
    {
      g_printerr ("no cgroup v2 hierarchy is mounted\n");
      return 77;
    }
  client_path = attrib_test_built_file ("attrib-client");
  other_uid = ensure_test_user ();
  cgroup_dir = g_strdup_printf ("%s/pc-attrib-test-%08x", cg2, g_random_int ());
  if (g_mkdir (cgroup_dir, 0755) < 0)
    {
      g_printerr ("cannot create cgroup %s: %s\n", cgroup_dir, g_strerror (errno));
      return 1;
    }

  /* The tests run in a child so that the cgroup is removed even if an assertion aborts. */
  pid = fork ();
  if (pid == 0)
    {
      if (!setup_netns ())
        {
          g_printerr ("cannot set up a private network namespace\n");
          _exit (1);
        }
      add_tests ();
      _exit (g_test_run ());
    }
  if (pid < 0 || waitpid (pid, &status, 0) < 0)
    status = 1 << 8;
  remove_cgroup (cgroup_dir);
  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  g_printerr ("tests died with signal %d\n", WTERMSIG (status));
  return 1;
}
