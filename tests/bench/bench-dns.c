/* SPDX-License-Identifier: GPL-3.0-or-later */
/* DNS benchmark: the local resolver against Debian's dnsmasq as a local cache, both in front of
 * the same unbound on 127.0.0.1, measured in the same run:
 *  - cached answers: throughput (queries/s, one client socket keeping 64 queries in flight) and
 *    latency p50/p99 (one query at a time, the servers in turn), with and without attribution of
 *    the asking socket (the client keeps one socket: its owner is looked up once a second);
 *  - uncached answers (a new name each time, so every query goes upstream): latency over plain
 *    UDP, DNS over TLS and DNS over HTTPS.
 * Prints figures and ratios; asserts nothing (shared machines are noisy). */
#define G_LOG_DOMAIN "portcullis-dns"

#include <arpa/inet.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pc-dns-message.h"
#include "pc-dns-server.h"
#include "test-dns-servers.h"

#define N_NAMES 100
#define WINDOW 64

static GBytes *
make_query (const char *name, guint16 id)
{
  g_autoptr (PcDnsMessage) q = pc_dns_message_new ();

  q->id = id;
  q->flags = PC_DNS_FLAG_RD;
  pc_dns_message_add_question (q, name, PC_DNS_TYPE_A, PC_DNS_CLASS_IN);
  return pc_dns_message_build (q, 0, NULL);
}

static int
client_socket (guint16 port)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (port) };
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

  sin.sin_addr.s_addr = htonl (0x7f000001);
  if (connect (fd, (struct sockaddr *)&sin, sizeof sin) < 0)
    g_error ("connect: %s", g_strerror (errno));
  return fd;
}

/* one query, wait for its answer; microseconds, or -1 on timeout */
static gint64
one_query (int fd, GBytes *q)
{
  gint64 t0 = g_get_monotonic_time ();
  guint8 buf[4096];
  const guint8 *qd = g_bytes_get_data (q, NULL);

  send (fd, qd, g_bytes_get_size (q), 0);
  for (;;)
    {
      struct pollfd p = { fd, POLLIN, 0 };
      ssize_t n;

      if (poll (&p, 1, 3000) <= 0)
        return -1;
      n = recv (fd, buf, sizeof buf, 0);
      if (n >= 2 && buf[0] == qd[0] && buf[1] == qd[1])
        return g_get_monotonic_time () - t0;
    }
}

static int
cmp_i64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

  return x < y ? -1 : x > y;
}

typedef struct
{
  double qps;
  double p50_us;
  double p99_us;
  guint lost;
} Figures;

static void
latency (guint16 port, GPtrArray *queries, guint n, Figures *f)
{
  int fd = client_socket (port);
  g_autoptr (GArray) t = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (guint i = 0; i < n; i++)
    {
      gint64 us = one_query (fd, queries->pdata[i % queries->len]);
      if (us < 0)
        f->lost++;
      else
        g_array_append_val (t, us);
    }
  close (fd);
  g_array_sort (t, cmp_i64);
  if (t->len == 0)
    return;
  f->p50_us = (double)g_array_index (t, gint64, t->len / 2);
  f->p99_us = (double)g_array_index (t, gint64, MIN (t->len - 1, t->len * 99 / 100));
}

/* latency of several servers, one query to each in turn, so that load from the rest of the
 * machine falls on all of them alike */
static void
latency_interleaved (const guint16 *ports, guint n_ports, GPtrArray *queries, guint n, Figures *f)
{
  g_autofree int *fds = g_new (int, n_ports);
  g_autoptr (GPtrArray) times = g_ptr_array_new_with_free_func ((GDestroyNotify)g_array_unref);

  for (guint p = 0; p < n_ports; p++)
    {
      fds[p] = client_socket (ports[p]);
      g_ptr_array_add (times, g_array_new (FALSE, FALSE, sizeof (gint64)));
    }
  for (guint i = 0; i < n; i++)
    for (guint p = 0; p < n_ports; p++)
      {
        gint64 us = one_query (fds[p], queries->pdata[i % queries->len]);
        if (us < 0)
          f[p].lost++;
        else
          g_array_append_val (times->pdata[p], us);
      }
  for (guint p = 0; p < n_ports; p++)
    {
      GArray *t = times->pdata[p];

      close (fds[p]);
      g_array_sort (t, cmp_i64);
      if (t->len == 0)
        continue;
      f[p].p50_us = (double)g_array_index (t, gint64, t->len / 2);
      f[p].p99_us = (double)g_array_index (t, gint64, MIN (t->len - 1, t->len * 99 / 100));
    }
}

static void
throughput (guint16 port, GPtrArray *queries, double seconds, Figures *f)
{
  int fd = client_socket (port);
  gint64 end = g_get_monotonic_time () + (gint64)(seconds * G_USEC_PER_SEC);
  gint64 start = g_get_monotonic_time ();
  guint64 answered = 0;
  guint outstanding = 0;
  guint next = 0;
  guint8 buf[4096];

  while (g_get_monotonic_time () < end)
    {
      struct pollfd p = { fd, POLLIN, 0 };

      while (outstanding < WINDOW)
        {
          GBytes *q = queries->pdata[next++ % queries->len];
          if (send (fd, g_bytes_get_data (q, NULL), g_bytes_get_size (q), 0) < 0)
            break;
          outstanding++;
        }
      if (poll (&p, 1, 20) <= 0)
        {
          f->lost += outstanding; /* dropped somewhere: start a new window */
          outstanding = 0;
          continue;
        }
      while (recv (fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
        {
          answered++;
          if (outstanding > 0)
            outstanding--;
        }
    }
  close (fd);
  f->qps = (double)answered / ((double)(g_get_monotonic_time () - start) / G_USEC_PER_SEC);
}

static PcDnsServer *
start_ours (const char *upstream, gboolean attribute, guint16 *port)
{
  PcDnsServerConfig config;
  g_autoptr (GError) error = NULL;
  const char *listen[] = { "127.0.0.1:0", NULL };
  const char *upstreams[] = { upstream, NULL };
  PcDnsServer *s;
  g_autoptr (GArray) bound = NULL;

  pc_dns_server_config_init (&config);
  config.listen = listen;
  config.upstreams = upstreams;
  config.resolv_conf = "/dev/null";
  config.attribute = attribute;
  s = pc_dns_server_new (&config, &error);
  if (s == NULL || !pc_dns_server_start (s, &error))
    g_error ("%s", error->message);
  bound = pc_dns_server_get_bound (s);
  *port = g_array_index (bound, PcFlowKey, 0).lport;
  return s;
}

static GPid
start_dnsmasq (guint16 upstream_port, guint16 *port)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *listen = NULL;
  g_autofree char *server = g_strdup_printf ("--server=127.0.0.1#%u", upstream_port);
  g_autofree char *port_arg = NULL;
  GPid pid;

  *port = dns_test_free_port ();
  port_arg = g_strdup_printf ("--port=%u", *port);
  {
    const char *argv[] = { "dnsmasq",
                           "--keep-in-foreground",
                           "--no-resolv",
                           "--no-hosts",
                           "--no-poll",
                           "--bind-interfaces",
                           "--listen-address=127.0.0.1",
                           port_arg,
                           server,
                           "--cache-size=10000",
                           "--user=root",
                           "--pid-file=",
                           "--log-facility=/dev/null",
                           NULL };
    g_spawn_async (NULL, (char **)argv, NULL,
                   G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL
                       | G_SPAWN_STDERR_TO_DEV_NULL,
                   dns_test_die_with_parent, NULL, &pid, &error);
  }
  if (error != NULL)
    g_error ("cannot start dnsmasq: %s", error->message);
  g_usleep (300000);
  return pid;
}

/* names "<prefix><i>.<suffix>" */
static GPtrArray *
name_queries (const char *prefix, const char *suffix, guint n, guint offset)
{
  GPtrArray *a = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s%u.%s", prefix, i + offset, suffix);
      g_ptr_array_add (a, make_query (name, (guint16)(i + 1)));
    }
  return a;
}

static void
warm (guint16 port, GPtrArray *queries)
{
  Figures f = { 0 };

  latency (port, queries, queries->len, &f);
}

int
main (int argc, char **argv)
{
  const char *zone[] = { "local-zone: \"bench.\" redirect",
                         "local-data: \"bench. 3600 IN A 203.0.113.77\"", NULL };
  g_autoptr (DnsTestServers) unbound = NULL;
  g_autoptr (GPtrArray) cached = name_queries ("n", "bench", N_NAMES, 0);
  g_autofree char *plain = NULL;
  g_autofree char *dot = NULL;
  g_autofree char *doh = NULL;
  double seconds
      = g_getenv ("BENCH_SECONDS") ? g_ascii_strtod (g_getenv ("BENCH_SECONDS"), NULL) : 3.0;
  Figures ours = { 0 }, ours_attr = { 0 }, masq = { 0 };
  guint16 port_ours, port_attr, port_masq;
  GPid masq_pid;

  signal (SIGPIPE, SIG_IGN);
  unbound = dns_test_servers_start (zone);
  plain = g_strdup_printf ("dns://127.0.0.1:%u", unbound->plain_port);
  dot = g_strdup_printf ("dot://dns.test:%u?ip=127.0.0.1&ca=%s", unbound->tls_port,
                         unbound->ca_file);
  doh = g_strdup_printf ("doh://dns.test:%u/dns-query?ip=127.0.0.1&ca=%s", unbound->https_port,
                         unbound->ca_file);

  /* ---- cached answers ---- */
  {
    g_autoptr (PcDnsServer) s1 = start_ours (plain, FALSE, &port_ours);
    g_autoptr (PcDnsServer) s2 = start_ours (plain, TRUE, &port_attr);

    masq_pid = start_dnsmasq (unbound->plain_port, &port_masq);
    warm (port_ours, cached);
    warm (port_attr, cached);
    warm (port_masq, cached);
    /* rounds take turns so machine noise hits all alike */
    for (guint round = 0; round < 3; round++)
      {
        Figures a = { 0 }, b = { 0 }, c = { 0 };

        throughput (port_ours, cached, seconds / 3, &a);
        throughput (port_attr, cached, seconds / 3, &b);
        throughput (port_masq, cached, seconds / 3, &c);
        ours.qps += a.qps / 3;
        ours_attr.qps += b.qps / 3;
        masq.qps += c.qps / 3;
      }
    {
      guint16 ports[] = { port_ours, port_attr, port_masq };
      Figures lat[3] = { { 0 } };

      latency_interleaved (ports, 3, cached, 3000, lat);
      ours.p50_us = lat[0].p50_us, ours.p99_us = lat[0].p99_us;
      ours_attr.p50_us = lat[1].p50_us, ours_attr.p99_us = lat[1].p99_us;
      masq.p50_us = lat[2].p50_us, masq.p99_us = lat[2].p99_us;
    }
    kill (masq_pid, SIGTERM);
    waitpid (masq_pid, NULL, 0);
  }
  g_print ("cached answers (%u names, %u in flight, %.1f s each):\n", N_NAMES, WINDOW, seconds);
  g_print ("  dnsmasq                 %9.0f q/s  p50 %6.1f us  p99 %6.1f us\n", masq.qps,
           masq.p50_us, masq.p99_us);
  g_print ("  portcullis              %9.0f q/s  p50 %6.1f us  p99 %6.1f us\n", ours.qps,
           ours.p50_us, ours.p99_us);
  g_print ("  portcullis + attribution%9.0f q/s  p50 %6.1f us  p99 %6.1f us\n", ours_attr.qps,
           ours_attr.p50_us, ours_attr.p99_us);
  g_print ("  ratio portcullis/dnsmasq: throughput %.2f, p50 %.2f, p99 %.2f\n", ours.qps / masq.qps,
           ours.p50_us / masq.p50_us, ours.p99_us / masq.p99_us);
  g_print ("  ratio with attribution/dnsmasq: throughput %.2f, p50 %.2f\n",
           ours_attr.qps / masq.qps, ours_attr.p50_us / masq.p50_us);

  /* ---- uncached answers: every name new, so every query goes upstream ---- */
  {
    const char *names[] = { "plain", "dot", "doh" };
    const char *urls[] = { plain, dot, doh };
    Figures up[3] = { { 0 } };

    for (guint i = 0; i < 3; i++)
      {
        guint16 port;
        g_autoptr (PcDnsServer) s = start_ours (urls[i], FALSE, &port);
        g_autofree char *suffix = g_strdup_printf ("%s.bench", names[i]);
        g_autoptr (GPtrArray) fresh = name_queries ("u", suffix, 2000, 0);
        g_autoptr (GPtrArray) first = name_queries ("u", suffix, 1, 100000);

        warm (port, first); /* the connection and TLS handshake are not part of the figure */
        latency (port, fresh, fresh->len, &up[i]);
      }
    g_print ("uncached answers through portcullis (a new name each time, 2000 queries):\n");
    for (guint i = 0; i < 3; i++)
      g_print ("  %-5s upstream   p50 %6.1f us  p99 %6.1f us  (lost %u)\n", names[i], up[i].p50_us,
               up[i].p99_us, up[i].lost);
    g_print ("  ratio dot/plain p50 %.2f, doh/plain p50 %.2f\n", up[1].p50_us / up[0].p50_us,
             up[2].p50_us / up[0].p50_us);
  }
  return 0;
}
