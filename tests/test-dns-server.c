/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The local resolver end to end on 127.0.0.1 against two real unbounds (a public upstream over
 * DoT and a "system" LAN server): answers over UDP and TCP, caching, TTL expiry, coalescing,
 * rebinding guard, split horizon, the canary, malformed queries, the policy hook with CNAME
 * chains, IP -> domain memory, and a listener that cannot bind. */
#define G_LOG_DOMAIN "portcullis-dns"

#include <arpa/inet.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pc-dns-message.h"
#include "pc-dns-server.h"
#include "test-dns-servers.h"

static DnsTestServers *public_ns; /* "the internet": zone test. over DoT */
static DnsTestServers *lan_ns;    /* the LAN's resolver: zones lan. and corp.example. */
static char *resolv_conf;

typedef struct
{
  PcDnsServer *server;
  guint16 port;
  GPtrArray *blocked; /* names the policy blocks */
  guint policy_calls;
  pid_t last_pid;
} Fixture;

static gboolean
policy_cb (const PcDnsPolicyRequest *req, char **reason, gpointer user_data)
{
  Fixture *f = user_data;

  f->policy_calls++;
  f->last_pid = req->pid;
  g_assert_nonnull (req->flow);
  g_assert_cmpuint (req->flow->lport, !=, 0);
  for (guint i = 0; i < f->blocked->len; i++)
    if (pc_dns_name_equal (req->name, f->blocked->pdata[i]))
      {
        *reason = g_strdup_printf ("test rule blocks %s", req->name);
        return TRUE;
      }
  return FALSE;
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  PcDnsServerConfig config;
  g_autoptr (GError) error = NULL;
  g_autofree char *upstream = g_strdup_printf ("dot://dns.test:%u?ip=127.0.0.1&ca=%s",
                                               public_ns->tls_port, public_ns->ca_file);
  const char *listen[] = { "127.0.0.1:0", NULL };
  const char *upstreams[] = { upstream, NULL };
  g_autoptr (GArray) bound = NULL;

  pc_dns_server_config_init (&config);
  config.listen = listen;
  config.upstreams = upstreams;
  config.resolv_conf = resolv_conf;
  config.system_port = lan_ns->plain_port;
  config.cache.min_ttl = 1;
  config.block_reply = GPOINTER_TO_INT (data) ? PC_DNS_BLOCK_ZERO_ADDRESS : PC_DNS_BLOCK_NXDOMAIN;
  f->blocked = g_ptr_array_new_with_free_func (g_free);
  f->server = pc_dns_server_new (&config, &error);
  g_assert_no_error (error);
  pc_dns_server_set_policy_func (f->server, policy_cb, f);
  g_assert_true (pc_dns_server_start (f->server, &error));
  g_assert_no_error (error);
  bound = pc_dns_server_get_bound (f->server);
  g_assert_cmpuint (bound->len, ==, 1);
  f->port = g_array_index (bound, PcFlowKey, 0).lport;
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->server, pc_dns_server_free);
  g_ptr_array_unref (f->blocked);
}

/* ---- a small synchronous client ------------------------------------------------------------- */

static GBytes *
make_query (const char *name, guint16 type, gboolean edns)
{
  g_autoptr (PcDnsMessage) q = pc_dns_message_new ();

  q->id = (guint16)g_random_int ();
  q->flags = PC_DNS_FLAG_RD;
  if (edns)
    {
      q->has_edns = TRUE;
      q->edns_udp_size = 1232;
    }
  pc_dns_message_add_question (q, name, type, PC_DNS_CLASS_IN);
  return pc_dns_message_build (q, 0, NULL);
}

static int
udp_socket (guint16 port)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (port) };
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  sin.sin_addr.s_addr = htonl (0x7f000001);
  g_assert_cmpint (connect (fd, (struct sockaddr *)&sin, sizeof sin), ==, 0);
  return fd;
}

/* NULL when nothing came within timeout_ms */
static PcDnsMessage *
udp_receive (int fd, guint timeout_ms, GBytes **raw)
{
  struct pollfd p = { fd, POLLIN, 0 };
  guint8 buf[65536];
  ssize_t n;

  if (poll (&p, 1, (int)timeout_ms) <= 0)
    return NULL;
  n = recv (fd, buf, sizeof buf, 0);
  g_assert_cmpint (n, >, 0);
  if (raw != NULL)
    *raw = g_bytes_new (buf, (gsize)n);
  return pc_dns_message_parse (buf, (gsize)n, NULL);
}

static PcDnsMessage *
ask_udp (Fixture *f, const char *name, guint16 type)
{
  g_autoptr (GBytes) q = make_query (name, type, TRUE);
  int fd = udp_socket (f->port);
  PcDnsMessage *reply;

  g_assert_cmpint (send (fd, g_bytes_get_data (q, NULL), g_bytes_get_size (q), 0), >, 0);
  reply = udp_receive (fd, 5000, NULL);
  close (fd);
  g_assert_nonnull (reply);
  g_assert_cmpuint (reply->id, ==,
                    ((const guint8 *)g_bytes_get_data (q, NULL))[0] << 8
                        | ((const guint8 *)g_bytes_get_data (q, NULL))[1]);
  return reply;
}

static PcDnsMessage *
ask_tcp (Fixture *f, const char *name, guint16 type)
{
  g_autoptr (GBytes) q = make_query (name, type, FALSE);
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (f->port) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  guint8 frame[2] = { (guint8)(g_bytes_get_size (q) >> 8), (guint8)g_bytes_get_size (q) };
  guint8 buf[65538];
  gsize got = 0;

  sin.sin_addr.s_addr = htonl (0x7f000001);
  g_assert_cmpint (connect (fd, (struct sockaddr *)&sin, sizeof sin), ==, 0);
  g_assert_cmpint (send (fd, frame, 2, MSG_MORE), ==, 2);
  g_assert_cmpint (send (fd, g_bytes_get_data (q, NULL), g_bytes_get_size (q), 0), >, 0);
  while (got < 2 || got < 2 + (gsize)(buf[0] << 8 | buf[1]))
    {
      ssize_t n = recv (fd, buf + got, sizeof buf - got, 0);
      g_assert_cmpint (n, >, 0);
      got += (gsize)n;
    }
  close (fd);
  return pc_dns_message_parse (buf + 2, got - 2, NULL);
}

static guint
count_type (PcDnsMessage *m, guint16 type)
{
  guint n = 0;

  for (guint i = 0; i < m->sections[PC_DNS_SECTION_ANSWER]->len; i++)
    n += g_array_index (m->sections[PC_DNS_SECTION_ANSWER], PcDnsRecord, i).type == type;
  return n;
}

static guint8
first_a_last_octet (PcDnsMessage *m)
{
  for (guint i = 0; i < m->sections[PC_DNS_SECTION_ANSWER]->len; i++)
    {
      PcDnsRecord *r = &g_array_index (m->sections[PC_DNS_SECTION_ANSWER], PcDnsRecord, i);
      if (r->type == PC_DNS_TYPE_A)
        return r->rdata[3];
    }
  g_assert_not_reached ();
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void
test_resolve_and_cache (Fixture *f, gconstpointer data)
{
  g_autoptr (PcDnsMessage) r1 = NULL;
  g_autoptr (PcDnsMessage) r2 = NULL;
  g_autoptr (PcDnsMessage) r3 = NULL;
  guint before = dns_test_servers_count (public_ns, "www.test.", "A");
  char domain[256];
  PcAddr addr;
  PcDnsServerStats stats;

  r1 = ask_udp (f, "www.test", PC_DNS_TYPE_A);
  g_assert_cmpuint (PC_DNS_RCODE (r1->flags), ==, PC_DNS_RCODE_NOERROR);
  g_assert_cmpuint (first_a_last_octet (r1), ==, 5);
  /* the second, over TCP and in other letter case, comes from the cache */
  r2 = ask_tcp (f, "WWW.Test", PC_DNS_TYPE_A);
  g_assert_nonnull (r2);
  g_assert_cmpuint (first_a_last_octet (r2), ==, 5);
  g_assert_cmpstr (g_array_index (r2->questions, PcDnsQuestion, 0).name, ==, "WWW.Test");
  g_assert_cmpuint (dns_test_servers_count (public_ns, "www.test.", "A"), ==, before + 1);
  r3 = ask_udp (f, "www.test", PC_DNS_TYPE_AAAA);
  g_assert_cmpuint (count_type (r3, PC_DNS_TYPE_AAAA), ==, 1);

  /* the address remembers its name, globally and for the asking process */
  pc_addr_parse ("203.0.113.5", &addr);
  g_assert_true (
      pc_dns_memory_lookup (pc_dns_server_get_memory (f->server), 0, &addr, domain, sizeof domain));
  g_assert_cmpstr (domain, ==, "www.test");
  if (geteuid () == 0)
    {
      /* root: the query was attributed to this process by its socket */
      g_assert_cmpint (f->last_pid, ==, getpid ());
      g_assert_true (pc_dns_memory_lookup (pc_dns_server_get_memory (f->server), getpid (), &addr,
                                           domain, sizeof domain));
    }
  pc_dns_server_get_stats (f->server, &stats);
  g_assert_cmpuint (stats.queries, ==, 3);
  g_assert_cmpuint (stats.cache.hits, ==, 1);
}

static void
test_ttl_expiry (Fixture *f, gconstpointer data)
{
  g_autoptr (PcDnsMessage) r = NULL;

  r = ask_udp (f, "short.test", PC_DNS_TYPE_A);
  g_assert_cmpuint (first_a_last_octet (r), ==, 2);
  g_clear_pointer (&r, pc_dns_message_free);
  r = ask_udp (f, "short.test", PC_DNS_TYPE_A);
  g_assert_cmpuint (dns_test_servers_count (public_ns, "short.test.", "A"), ==, 1);
  g_clear_pointer (&r, pc_dns_message_free);
  /* TTL 2 s: gone from the cache after it */
  g_usleep (2200 * 1000);
  r = ask_udp (f, "short.test", PC_DNS_TYPE_A);
  g_assert_cmpuint (first_a_last_octet (r), ==, 2);
  g_assert_cmpuint (dns_test_servers_count (public_ns, "short.test.", "A"), ==, 2);
}

static void
test_prefetch (Fixture *f, gconstpointer data)
{
  g_autoptr (PcDnsMessage) r = NULL;

  /* asked twice: popular */
  for (guint i = 0; i < 2; i++)
    {
      g_clear_pointer (&r, pc_dns_message_free);
      r = ask_udp (f, "hot.test", PC_DNS_TYPE_A);
    }
  g_assert_cmpuint (dns_test_servers_count (public_ns, "hot.test.", "A"), ==, 1);
  /* TTL 6 s: with under 10 % of it left, a hit refreshes it in the background */
  g_usleep (5500 * 1000);
  g_clear_pointer (&r, pc_dns_message_free);
  r = ask_udp (f, "hot.test", PC_DNS_TYPE_A);
  g_usleep (300 * 1000);
  g_assert_cmpuint (dns_test_servers_count (public_ns, "hot.test.", "A"), ==, 2);
  /* past the first answer's expiry the refreshed one answers: no third upstream query */
  g_usleep (1000 * 1000);
  g_clear_pointer (&r, pc_dns_message_free);
  r = ask_udp (f, "hot.test", PC_DNS_TYPE_A);
  g_assert_cmpuint (first_a_last_octet (r), ==, 8);
  g_assert_cmpuint (dns_test_servers_count (public_ns, "hot.test.", "A"), ==, 2);
}

static void
test_coalescing (Fixture *f, gconstpointer data)
{
  enum
  {
    N = 30
  };
  int fds[N];
  g_autoptr (GBytes) q = make_query ("together.test", PC_DNS_TYPE_A, FALSE);

  for (guint i = 0; i < N; i++)
    {
      fds[i] = udp_socket (f->port);
      g_assert_cmpint (send (fds[i], g_bytes_get_data (q, NULL), g_bytes_get_size (q), 0), >, 0);
    }
  for (guint i = 0; i < N; i++)
    {
      g_autoptr (PcDnsMessage) r = udp_receive (fds[i], 5000, NULL);
      g_assert_nonnull (r);
      g_assert_cmpuint (first_a_last_octet (r), ==, 7);
      close (fds[i]);
    }
  /* 30 askers, one upstream query */
  g_assert_cmpuint (dns_test_servers_count (public_ns, "together.test.", "A"), ==, 1);
}

static void
test_rebinding (Fixture *f, gconstpointer data)
{
  g_autoptr (PcDnsMessage) mixed = ask_udp (f, "rebind.test", PC_DNS_TYPE_A);
  g_autoptr (PcDnsMessage) only = ask_udp (f, "evil.test", PC_DNS_TYPE_A);
  g_autoptr (PcDnsMessage) local6 = ask_udp (f, "evil.test", PC_DNS_TYPE_AAAA);
  PcDnsServerStats stats;

  /* the public address stays, 192.168.1.10 goes */
  g_assert_cmpuint (count_type (mixed, PC_DNS_TYPE_A), ==, 1);
  g_assert_cmpuint (first_a_last_octet (mixed), ==, 9);
  g_assert_cmpuint (count_type (only, PC_DNS_TYPE_A), ==, 0);
  g_assert_cmpuint (PC_DNS_RCODE (only->flags), ==, PC_DNS_RCODE_NOERROR);
  g_assert_cmpuint (count_type (local6, PC_DNS_TYPE_AAAA), ==, 0);
  pc_dns_server_get_stats (f->server, &stats);
  g_assert_cmpuint (stats.rebinding_stripped, ==, 3);
}

static void
test_split_horizon (Fixture *f, gconstpointer data)
{
  g_autoptr (PcDnsMessage) printer = ask_udp (f, "printer.lan", PC_DNS_TYPE_A);
  g_autoptr (PcDnsMessage) intranet = ask_udp (f, "wiki.corp.example", PC_DNS_TYPE_A);
  g_autoptr (PcDnsMessage) home = ask_udp (f, "nas.home.arpa", PC_DNS_TYPE_A);

  /* answered by the LAN server, private addresses allowed there */
  g_assert_cmpuint (first_a_last_octet (printer), ==, 20);
  g_assert_cmpuint (first_a_last_octet (intranet), ==, 21);
  g_assert_cmpuint (first_a_last_octet (home), ==, 22);
  g_assert_cmpuint (dns_test_servers_count (lan_ns, "printer.lan.", "A"), ==, 1);
  g_assert_cmpuint (dns_test_servers_count (public_ns, "printer.lan.", "A"), ==, 0);
  g_assert_cmpuint (dns_test_servers_count (public_ns, "wiki.corp.example.", "A"), ==, 0);
}

static void
test_canary_and_malformed (Fixture *f, gconstpointer data)
{
  g_autoptr (PcDnsMessage) canary = ask_udp (f, "use-application-dns.net", PC_DNS_TYPE_A);
  static const guint8 garbage[] = { 0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00,
                                    0x00, 0x00, 0x00, 0x00, 0xc0, 0x0c, 0x00, 0x01 };
  static const guint8 response[] = { 0x12, 0x34, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 0 };
  int fd = udp_socket (f->port);
  g_autoptr (PcDnsMessage) formerr = NULL;
  g_autoptr (PcDnsMessage) still = NULL;

  g_assert_cmpuint (PC_DNS_RCODE (canary->flags), ==, PC_DNS_RCODE_NXDOMAIN);
  g_assert_cmpuint (dns_test_servers_count (public_ns, "use-application-dns.net.", "A"), ==, 0);

  /* a looping compression pointer: FORMERR with the client's id */
  send (fd, garbage, sizeof garbage, 0);
  formerr = udp_receive (fd, 5000, NULL);
  g_assert_nonnull (formerr);
  g_assert_cmphex (formerr->id, ==, 0x1234);
  g_assert_cmpuint (PC_DNS_RCODE (formerr->flags), ==, PC_DNS_RCODE_FORMERR);
  /* runts and responses get no answer at all */
  send (fd, garbage, 5, 0);
  send (fd, response, sizeof response, 0);
  g_assert_null (udp_receive (fd, 300, NULL));
  /* 2000 random datagrams, then it still answers */
  for (guint i = 0; i < 2000; i++)
    {
      guint8 junk[64];
      gsize n = (gsize)g_random_int_range (0, sizeof junk);
      for (gsize k = 0; k < n; k++)
        junk[k] = (guint8)g_random_int ();
      if (n > 2)
        junk[2] &= 0x7f;
      send (fd, junk, n, 0);
      /* a pause now and then, as a flood would be shed by the socket buffer, not by us */
      if (i % 100 == 99)
        g_usleep (20000);
    }
  close (fd);
  still = ask_udp (f, "www.test", PC_DNS_TYPE_A);
  g_assert_cmpuint (first_a_last_octet (still), ==, 5);
}

static void
test_policy (Fixture *f, gconstpointer data)
{
  gboolean zero = GPOINTER_TO_INT (data);
  g_autoptr (PcDnsMessage) direct = NULL;
  g_autoptr (PcDnsMessage) via_cname = NULL;
  g_autoptr (PcDnsMessage) allowed = NULL;

  g_ptr_array_add (f->blocked, g_strdup ("ads.test"));
  g_ptr_array_add (f->blocked, g_strdup ("tracker.test"));
  direct = ask_udp (f, "ads.test", PC_DNS_TYPE_A);
  via_cname = ask_udp (f, "cdn.test", PC_DNS_TYPE_A);
  allowed = ask_udp (f, "www.test", PC_DNS_TYPE_A);

  if (zero)
    {
      g_assert_cmpuint (PC_DNS_RCODE (direct->flags), ==, PC_DNS_RCODE_NOERROR);
      g_assert_cmpuint (count_type (direct, PC_DNS_TYPE_A), ==, 1);
      g_assert_cmpuint (first_a_last_octet (direct), ==, 0);
      g_assert_cmpuint (first_a_last_octet (via_cname), ==, 0);
    }
  else
    {
      g_assert_cmpuint (PC_DNS_RCODE (direct->flags), ==, PC_DNS_RCODE_NXDOMAIN);
      g_assert_cmpuint (PC_DNS_RCODE (via_cname->flags), ==, PC_DNS_RCODE_NXDOMAIN);
      /* the reason travels as an Extended DNS Error (RFC 8914, code 15 Blocked) */
      g_assert_true (direct->has_edns);
      g_assert_nonnull (direct->edns_options);
      {
        gsize len;
        const guint8 *o = g_bytes_get_data (direct->edns_options, &len);
        g_assert_cmpuint (len, >, 6);
        g_assert_cmpuint (o[1], ==, 15);
        g_assert_cmpuint (o[5], ==, 15);
        g_assert_nonnull (g_strstr_len ((const char *)o + 6, (gssize)len - 6, "ads.test"));
      }
    }
  /* a blocked question never leaves the machine */
  g_assert_cmpuint (dns_test_servers_count (public_ns, "ads.test.", "A"), ==, 0);
  g_assert_cmpuint (first_a_last_octet (allowed), ==, 5);
}

static void
test_live_settings (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *doh = g_strdup_printf ("doh://dns.test:%u/dns-query?ip=127.0.0.1&ca=%s",
                                          public_ns->https_port, public_ns->ca_file);
  const char *good[] = { doh, NULL };
  const char *bad[] = { "dot://1.1.1.1?verify=", NULL };
  g_autoptr (PcDnsMessage) r = NULL;
  g_autofree char *status = NULL;
  guint before;

  /* a bad URL changes nothing and says why */
  g_assert_false (pc_dns_server_set_upstreams (f->server, bad, &error));
  g_assert_nonnull (strstr (error->message, "parameter verify is empty"));
  g_clear_error (&error);

  r = ask_udp (f, "mixed-live.test", PC_DNS_TYPE_A);
  g_assert_cmpuint (count_type (r, PC_DNS_TYPE_A), ==, 1);
  g_clear_pointer (&r, pc_dns_message_free);

  /* rebinding guard off: the private address comes through (after the cache is emptied by the
   * upstream change, which also moves us from DoT to DoH) */
  pc_dns_server_set_block_rebinding (f->server, FALSE);
  before = dns_test_servers_count (public_ns, "mixed-live.test.", "A");
  g_assert_true (pc_dns_server_set_upstreams (f->server, good, &error));
  g_assert_no_error (error);
  r = ask_udp (f, "mixed-live.test", PC_DNS_TYPE_A);
  g_assert_cmpuint (count_type (r, PC_DNS_TYPE_A), ==, 2);
  g_assert_cmpuint (dns_test_servers_count (public_ns, "mixed-live.test.", "A"), ==, before + 1);
  status = pc_dns_server_get_status (f->server);
  g_assert_nonnull (strstr (status, "upstream doh://"));
  g_assert_null (strstr (status, "upstream dot://"));

  /* the block reply switches live too */
  g_ptr_array_add (f->blocked, g_strdup ("ads.test"));
  pc_dns_server_set_block_reply (f->server, PC_DNS_BLOCK_ZERO_ADDRESS);
  g_clear_pointer (&r, pc_dns_message_free);
  r = ask_udp (f, "ads.test", PC_DNS_TYPE_A);
  g_assert_cmpuint (PC_DNS_RCODE (r->flags), ==, PC_DNS_RCODE_NOERROR);
  g_assert_cmpuint (first_a_last_octet (r), ==, 0);
}

static void
test_bind_failure (void)
{
  PcDnsServerConfig config;
  g_autoptr (GError) error = NULL;
  g_autoptr (PcDnsServer) server = NULL;
  g_autofree char *taken = NULL;
  g_autofree char *status = NULL;
  const char *upstreams[] = { "system", NULL };
  struct sockaddr_in sin = { .sin_family = AF_INET };
  socklen_t sl = sizeof sin;
  int blocker = socket (AF_INET, SOCK_DGRAM, 0);

  sin.sin_addr.s_addr = htonl (0x7f000001);
  g_assert_cmpint (bind (blocker, (struct sockaddr *)&sin, sizeof sin), ==, 0);
  getsockname (blocker, (struct sockaddr *)&sin, &sl);
  taken = g_strdup_printf ("127.0.0.1:%u", ntohs (sin.sin_port));
  {
    const char *listen[] = { taken, "127.0.0.1:0", NULL };

    pc_dns_server_config_init (&config);
    config.listen = listen;
    config.upstreams = upstreams;
    config.resolv_conf = resolv_conf;
    server = pc_dns_server_new (&config, &error);
    g_assert_no_error (error);
    g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*cannot bind udp*");
    g_assert_true (pc_dns_server_start (server, &error));
    g_test_assert_expected_messages ();
  }
  status = pc_dns_server_get_status (server);
  g_test_message ("%s", status);
  g_assert_nonnull (strstr (status, "not listening: 127.0.0.1"));
  g_assert_nonnull (strstr (status, "Address already in use"));
  g_assert_nonnull (strstr (status, "upstream system 127.0.0.1"));
  g_clear_pointer (&server, pc_dns_server_free);

  /* only that one: start fails, saying why */
  {
    const char *listen[] = { taken, NULL };
    config.listen = listen;
    server = pc_dns_server_new (&config, &error);
    g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "*cannot bind udp*");
    g_assert_false (pc_dns_server_start (server, &error));
    g_test_assert_expected_messages ();
    g_assert_nonnull (strstr (error->message, "could not listen"));
  }
  close (blocker);
}

static void
test_config_errors (void)
{
  static const struct
  {
    const char *listen;
    const char *upstream;
    const char *error;
  } cases[] = {
    { "127.0.0.17:99999", "system", "port 99999 is not 0-65535" },
    { "localhost:53", "system", "localhost is not an IP address" },
    { "[::1:53", "system", "unbalanced brackets" },
    { "127.0.0.17", "dot://1.1.1.1?ca=/nonexistent.pem",
      "ca file /nonexistent.pem does not exist" },
    { "127.0.0.17", "gopher://1.1.1.1", "unknown scheme gopher" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      PcDnsServerConfig config;
      g_autoptr (GError) error = NULL;
      g_autoptr (PcDnsServer) server = NULL;
      const char *listen[] = { cases[i].listen, NULL };
      const char *upstreams[] = { cases[i].upstream, NULL };

      pc_dns_server_config_init (&config);
      config.listen = listen;
      config.upstreams = upstreams;
      server = pc_dns_server_new (&config, &error);
      g_assert_null (server);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, cases[i].error));
    }
  g_assert_true (pc_dns_name_is_local ("printer", NULL));
  g_assert_true (pc_dns_name_is_local ("5.1.168.192.in-addr.arpa", NULL));
  g_assert_true (pc_dns_name_is_local ("1.0.20.172.in-addr.arpa", NULL));
  g_assert_false (pc_dns_name_is_local ("1.0.32.172.in-addr.arpa", NULL));
  g_assert_false (pc_dns_name_is_local ("example.com", NULL));
  g_assert_false (pc_dns_name_is_local ("notlan.example", (const char *const[]){ "lan", NULL }));
}

int
main (int argc, char **argv)
{
  const char *public_data[] = {
    "local-data: \"short.test. 2 IN A 203.0.113.2\"",
    "local-data: \"together.test. 300 IN A 203.0.113.7\"",
    "local-data: \"hot.test. 6 IN A 203.0.113.8\"",
    "local-data: \"mixed-live.test. 300 IN A 203.0.113.10\"",
    "local-data: \"mixed-live.test. 300 IN A 192.168.5.5\"",
    "local-data: \"rebind.test. 300 IN A 192.168.1.10\"",
    "local-data: \"rebind.test. 300 IN A 203.0.113.9\"",
    "local-data: \"evil.test. 300 IN A 127.0.0.1\"",
    "local-data: \"evil.test. 300 IN AAAA fd00::1\"",
    "local-data: \"cdn.test. 300 IN CNAME tracker.test.\"",
    "local-data: \"tracker.test. 300 IN A 203.0.113.66\"",
    "local-data: \"ads.test. 300 IN A 203.0.113.67\"",
    NULL,
  };
  const char *lan_data[] = {
    "local-zone: \"lan.\" static",
    "local-zone: \"corp.example.\" static",
    "local-zone: \"home.arpa.\" static",
    "local-data: \"printer.lan. 300 IN A 192.168.1.20\"",
    "local-data: \"wiki.corp.example. 300 IN A 10.1.1.21\"",
    "local-data: \"nas.home.arpa. 300 IN A 192.168.1.22\"",
    NULL,
  };
  int fd;
  int ret;

  g_test_init (&argc, &argv, NULL);
  public_ns = dns_test_servers_start (public_data);
  lan_ns = dns_test_servers_start (lan_data);
  fd = g_file_open_tmp ("resolv-XXXXXX", &resolv_conf, NULL);
  close (fd);
  g_file_set_contents (resolv_conf, "search corp.example\nnameserver 127.0.0.1\n", -1, NULL);

#define ADD(path, func, data)                                                                      \
  g_test_add (path, Fixture, GINT_TO_POINTER (data), fixture_setup, func, fixture_teardown)
  ADD ("/dns/server/resolve-and-cache", test_resolve_and_cache, FALSE);
  ADD ("/dns/server/ttl-expiry", test_ttl_expiry, FALSE);
  ADD ("/dns/server/coalescing", test_coalescing, FALSE);
  ADD ("/dns/server/prefetch", test_prefetch, FALSE);
  ADD ("/dns/server/rebinding", test_rebinding, FALSE);
  ADD ("/dns/server/split-horizon", test_split_horizon, FALSE);
  ADD ("/dns/server/canary-and-malformed", test_canary_and_malformed, FALSE);
  ADD ("/dns/server/policy-nxdomain", test_policy, FALSE);
  ADD ("/dns/server/policy-zero-address", test_policy, TRUE);
  ADD ("/dns/server/live-settings", test_live_settings, FALSE);
#undef ADD
  g_test_add_func ("/dns/server/bind-failure", test_bind_failure);
  g_test_add_func ("/dns/server/config-errors", test_config_errors);
  ret = g_test_run ();
  dns_test_servers_stop (public_ns);
  dns_test_servers_stop (lan_ns);
  g_unlink (resolv_conf);
  g_free (resolv_conf);
  return ret;
}
