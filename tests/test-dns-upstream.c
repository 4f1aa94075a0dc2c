/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Upstream URLs, resolv.conf, and the transports against a real unbound: plain, DoT, DoH,
 * certificate checks, failover, pipelining on one connection, TLS session resumption. */
#define G_LOG_DOMAIN "portcullis-dns"

#include <glib/gstdio.h>
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <string.h>

#include "pc-dns-message.h"
#include "pc-dns-upstream.h"
#include "pc-error.h"
#include "test-dns-servers.h"

static DnsTestServers *unbound;

static void
test_spec_parse (void)
{
  static const struct
  {
    const char *url;
    const char *error; /* NULL: valid */
  } cases[] = {
    { "dot://dns.example?ip=192.0.2.1", NULL },
    { "dot://192.0.2.1:8853?verify=dns.example&name=Mine&ca=/etc/ssl/ca.pem", NULL },
    { "doh://[2001:db8::1]/q?verify=dns.example", NULL },
    { "dns://192.0.2.53", NULL },
    { "dns://[2001:db8::53]:5353", NULL },
    { "system", NULL },
    { "dot://dns.example", NULL }, /* looked up through `system` when first used */
    { "dns://dns.example", "host dns.example is not an IP address" },
    { "dot://192.0.2.1?colour=blue", "unknown parameter colour" },
    { "dot://192.0.2.1?ip=banana", "ip=banana is not an IP address" },
    { "dot://192.0.2.1?ca=relative.pem", "ca=relative.pem is not an absolute path" },
    { "dot://192.0.2.1?verify=", "parameter verify is empty" },
    { "dns://192.0.2.1?name=x", "parameter name is not allowed for plain dns" },
    { "ftp://192.0.2.1", "unknown scheme ftp" },
    { "dot://192.0.2.1/path", "path /path is only allowed for doh" },
    { "dot://192.0.2.1:0", "port 0" },
    { "dot://192.0.2.1:99999", "" },
    { "not a url", "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (PcDnsUpstreamSpec) spec = pc_dns_upstream_spec_parse (cases[i].url, &error);

      if (cases[i].error == NULL)
        {
          g_assert_no_error (error);
          g_assert_nonnull (spec);
          continue;
        }
      g_test_message ("%s -> %s", cases[i].url, error != NULL ? error->message : "(parsed)");
      g_assert_null (spec);
      g_assert_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING);
      g_assert_nonnull (strstr (error->message, cases[i].url));
      g_assert_nonnull (strstr (error->message, cases[i].error));
    }

  {
    g_autoptr (PcDnsUpstreamSpec) s
        = pc_dns_upstream_spec_parse ("doh://dns.example:8443?ip=192.0.2.7", NULL);
    char buf[PC_ADDR_STRLEN];

    g_assert_cmpint (s->kind, ==, PC_DNS_UPSTREAM_DOH);
    g_assert_cmpuint (s->port, ==, 8443);
    g_assert_cmpstr (s->path, ==, "/dns-query");
    g_assert_cmpstr (s->verify, ==, "dns.example");
    g_assert_cmpstr (pc_addr_to_string (&s->addr, buf), ==, "192.0.2.7");
    g_assert_cmpstr (s->label, ==, "doh://dns.example:8443?ip=192.0.2.7");
  }
  {
    g_autoptr (PcDnsUpstreamSpec) s = pc_dns_upstream_spec_parse ("dot://9.9.9.9?name=Quad9", NULL);
    g_assert_cmpuint (s->port, ==, 853);
    g_assert_cmpstr (s->verify, ==, "9.9.9.9");
    g_assert_cmpstr (s->label, ==, "Quad9");
  }
}

static void
test_resolv_conf (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  int fd = g_file_open_tmp ("resolv-XXXXXX", &path, &error);
  g_autoptr (GArray) servers = NULL;
  g_auto (GStrv) search = NULL;
  PcAddr own;
  char buf[PC_ADDR_STRLEN];

  g_assert_no_error (error);
  close (fd);
  g_file_set_contents (path,
                       "# comment\nsearch corp.example lan\nnameserver 127.0.0.17\n"
                       "nameserver 192.0.2.53\nnameserver fe80::1%eth0\noptions edns0\n"
                       "nameserver bogus\nnameserver 192.0.2.54\nnameserver 192.0.2.55\n",
                       -1, &error);
  g_assert_no_error (error);
  pc_addr_parse ("127.0.0.17", &own);
  servers = pc_dns_read_resolv_conf (path, &own, 1, &error);
  g_assert_no_error (error);
  /* our own listener is skipped (it would loop), at most 3 are used */
  g_assert_cmpuint (servers->len, ==, 3);
  g_assert_cmpstr (pc_addr_to_string (&g_array_index (servers, PcAddr, 0), buf), ==, "192.0.2.53");
  g_assert_cmpstr (pc_addr_to_string (&g_array_index (servers, PcAddr, 1), buf), ==, "fe80::1");
  g_assert_cmpstr (pc_addr_to_string (&g_array_index (servers, PcAddr, 2), buf), ==, "192.0.2.54");
  search = pc_dns_read_search_domains (path);
  g_assert_cmpuint (g_strv_length (search), ==, 2);
  g_assert_cmpstr (search[1], ==, "lan");
  g_unlink (path);
}

/* ---- against unbound ------------------------------------------------------------------------ */

typedef struct
{
  guint pending;
  GPtrArray *replies; /* PcDnsMessage or NULL */
  GPtrArray *errors;  /* char* or NULL */
  GMainLoop *loop;
} Results;

static void
results_init (Results *r)
{
  r->pending = 0;
  r->replies = g_ptr_array_new_with_free_func ((GDestroyNotify)pc_dns_message_free);
  r->errors = g_ptr_array_new_with_free_func (g_free);
  r->loop = g_main_loop_new (NULL, FALSE);
}

static void
results_clear (Results *r)
{
  g_ptr_array_unref (r->replies);
  g_ptr_array_unref (r->errors);
  g_main_loop_unref (r->loop);
}

static void
query_cb (GBytes *reply, const GError *error, PcDnsUpstream *upstream, gpointer user_data)
{
  Results *r = user_data;

  g_ptr_array_add (r->replies, reply != NULL ? pc_dns_message_parse (g_bytes_get_data (reply, NULL),
                                                                     g_bytes_get_size (reply), NULL)
                                             : NULL);
  g_ptr_array_add (r->errors, error != NULL ? g_strdup (error->message) : NULL);
  if (error != NULL)
    g_test_message ("query failed: %s", error->message);
  if (--r->pending == 0)
    g_main_loop_quit (r->loop);
}

static GBytes *
make_query (const char *name, guint16 type, guint16 id)
{
  g_autoptr (PcDnsMessage) q = pc_dns_message_new ();

  q->id = id;
  q->flags = PC_DNS_FLAG_RD;
  pc_dns_message_add_question (q, name, type, PC_DNS_CLASS_IN);
  return pc_dns_message_build (q, 0, NULL);
}

static gboolean
timeout_cb (gpointer user_data)
{
  g_error ("test timed out");
  return G_SOURCE_REMOVE;
}

static void
run_queries (PcDnsUpstream *up, guint n, Results *r)
{
  guint t = g_timeout_add_seconds (20, timeout_cb, NULL);

  r->pending = n;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GBytes) q = make_query ("www.test", PC_DNS_TYPE_A, (guint16)(1000 + i));
      pc_dns_upstream_query (up, q, 3000, query_cb, r);
    }
  if (r->pending > 0)
    g_main_loop_run (r->loop);
  g_source_remove (t);
}

static void
assert_answered (Results *r, guint n)
{
  g_assert_cmpuint (r->replies->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      PcDnsMessage *m = r->replies->pdata[i];
      PcDnsRecord *a;

      g_assert_cmpstr (r->errors->pdata[i], ==, NULL);
      g_assert_nonnull (m);
      g_assert_cmpuint (PC_DNS_RCODE (m->flags), ==, PC_DNS_RCODE_NOERROR);
      g_assert_cmpuint (m->sections[PC_DNS_SECTION_ANSWER]->len, ==, 1);
      a = &g_array_index (m->sections[PC_DNS_SECTION_ANSWER], PcDnsRecord, 0);
      g_assert_cmpuint (a->rdata[3], ==, 5);
    }
}

static PcDnsUpstream *make_upstream (const char *fmt, ...) G_GNUC_PRINTF (1, 2);

static PcDnsUpstream *
make_upstream (const char *fmt, ...)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *url = NULL;
  g_autoptr (PcDnsUpstreamSpec) spec = NULL;
  PcDnsUpstream *up;
  va_list args;

  va_start (args, fmt);
  url = g_strdup_vprintf (fmt, args);
  va_end (args);
  spec = pc_dns_upstream_spec_parse (url, &error);
  g_assert_no_error (error);
  up = pc_dns_upstream_new (spec, FALSE, &error);
  g_assert_no_error (error);
  return up;
}

static void
test_plain (void)
{
  g_autoptr (PcDnsUpstream) up = make_upstream ("dns://127.0.0.1:%u", unbound->plain_port);
  Results r;
  guint before = dns_test_servers_count (unbound, "www.test.", "A");

  results_init (&r);
  run_queries (up, 3, &r);
  assert_answered (&r, 3);
  /* the client's ids come back */
  g_assert_cmpuint (((PcDnsMessage *)r.replies->pdata[0])->id, >=, 1000);
  g_assert_cmpuint (dns_test_servers_count (unbound, "www.test.", "A"), ==, before + 3);
  results_clear (&r);
}

static void
test_tls_transport (gconstpointer data)
{
  gboolean doh = GPOINTER_TO_INT (data);
  g_autoptr (PcDnsUpstream) up = NULL;
  PcDnsUpstreamStatus st;
  Results r;

  if (doh)
    up = make_upstream ("doh://dns.test:%u/dns-query?ip=127.0.0.1&ca=%s", unbound->https_port,
                        unbound->ca_file);
  else
    up = make_upstream ("dot://dns.test:%u?ip=127.0.0.1&ca=%s", unbound->tls_port,
                        unbound->ca_file);

  results_init (&r);
  run_queries (up, 1, &r);
  assert_answered (&r, 1);
  results_clear (&r);

  /* 50 at once: pipelined (DoT) or multiplexed (DoH) on the one connection */
  results_init (&r);
  run_queries (up, 50, &r);
  assert_answered (&r, 50);
  results_clear (&r);
  pc_dns_upstream_get_status (up, &st);
  g_assert_cmpuint (st.connections, ==, 1);
  g_assert_cmpuint (st.queries, ==, 51);
  g_assert_true (st.reachable);
  /* on loopback a round trip can take less than a millisecond: only sanity-check the value */
  g_assert_cmpuint (st.latency_us, <, 5000000);

  /* unbound closes idle connections after 1 s; the next query reconnects and resumes */
  g_usleep (1600 * 1000);
  results_init (&r);
  run_queries (up, 2, &r);
  assert_answered (&r, 2);
  results_clear (&r);
  pc_dns_upstream_get_status (up, &st);
  g_assert_cmpuint (st.connections, ==, 2);
  g_assert_cmpuint (st.resumed, ==, 1);
}

/* A DoH server that speaks only HTTP/1.1 (ALPN http/1.1), forwarding to unbound's plain port:
 * Python's http.server behind ssl, as small as a test server can be. */
static const char doh11_server[]
    = "import http.server, socket, ssl, sys\n"
      "port, cert, key, up = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])\n"
      "class H(http.server.BaseHTTPRequestHandler):\n"
      "    protocol_version = 'HTTP/1.1'\n"
      "    def log_message(self, *a): pass\n"
      "    def do_POST(self):\n"
      "        q = self.rfile.read(int(self.headers['Content-Length']))\n"
      "        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
      "        s.settimeout(3)\n"
      "        s.sendto(q, ('127.0.0.1', up))\n"
      "        a = s.recv(65535)\n"
      "        self.send_response(200)\n"
      "        self.send_header('Content-Type', 'application/dns-message')\n"
      "        self.send_header('Content-Length', str(len(a)))\n"
      "        self.end_headers()\n"
      "        self.wfile.write(a)\n"
      "ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)\n"
      "ctx.load_cert_chain(cert, key)\n"
      "ctx.set_alpn_protocols(['http/1.1'])\n"
      "srv = http.server.ThreadingHTTPServer(('127.0.0.1', port), H)\n"
      "srv.socket = ctx.wrap_socket(srv.socket, server_side=True)\n"
      "print('ready', flush=True)\n"
      "srv.serve_forever()\n";

static void
test_doh_http11 (void)
{
  g_autoptr (GError) error = NULL;
  guint16 port = 0;
  g_autofree char *up_s = g_strdup_printf ("%u", unbound->plain_port);
  g_autofree char *cert = g_build_filename (unbound->dir, "srv.pem", NULL);
  g_autofree char *key = g_build_filename (unbound->dir, "srv.key", NULL);
  g_autoptr (PcDnsUpstream) up = NULL;
  PcDnsUpstreamStatus st;
  GPid pid = 0;
  int out_fd = -1;
  int err_fd = -1;
  char ready[8] = { 0 };
  Results r;

  /* Debian's python3 (it has ssl); a free port can be taken by a parallel test before the
   * server binds it, so a server that did not come up is tried again on another port. What a
   * server that did not come up said, and how it ended, goes to the test log. The child is
   * reaped here (DO_NOT_REAP_CHILD): without it GLib spawns through an intermediate process
   * that exits at once, and the server's PR_SET_PDEATHSIG then killed it at random. */
  for (int attempt = 0; attempt < 8; attempt++)
    {
      g_autofree char *port_s = NULL;
      int status = 0;
      gssize n;
      char said[2048] = { 0 };

      port = dns_test_free_port ();
      port_s = g_strdup_printf ("%u", port);
      const char *argv[]
          = { "/usr/bin/python3", "-c", doh11_server, port_s, cert, key, up_s, NULL };
      g_spawn_async_with_pipes (NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                dns_test_die_with_parent, NULL, &pid, NULL, &out_fd, &err_fd,
                                &error);
      g_assert_no_error (error);
      do
        n = read (out_fd, ready, 5);
      while (n < 0 && errno == EINTR);
      if (n == 5)
        break; /* err_fd stays open: the server may still write to its stderr */
      close (out_fd);
      out_fd = -1;
      kill (pid, SIGKILL);
      waitpid (pid, &status, 0);
      g_spawn_close_pid (pid);
      n = read (err_fd, said, sizeof said - 1);
      close (err_fd);
      g_test_message ("HTTP/1.1 DoH server on port %u did not come up (read %zd, %s %d): %s", port,
                      n, WIFSIGNALED (status) ? "signal" : "exit",
                      WIFSIGNALED (status) ? WTERMSIG (status) : WEXITSTATUS (status),
                      n > 0 ? said : "(nothing on stderr)");
      memset (ready, 0, sizeof ready);
      g_usleep (200 * 1000);
    }
  g_assert_cmpint (out_fd, >=, 0);
  g_assert_cmpstr (ready, ==, "ready");

  up = make_upstream ("doh://dns.test:%u/dns-query?ip=127.0.0.1&ca=%s", port, unbound->ca_file);
  results_init (&r);
  run_queries (up, 10, &r);
  assert_answered (&r, 10);
  results_clear (&r);
  /* ten requests, one after the other on one kept-alive connection */
  pc_dns_upstream_get_status (up, &st);
  g_assert_cmpuint (st.connections, ==, 1);

  kill (pid, SIGTERM);
  waitpid (pid, NULL, 0);
  g_spawn_close_pid (pid);
  close (out_fd);
  close (err_fd);
}

static void
test_tls_refused (void)
{
  struct
  {
    const char *what;
    char *url;
  } cases[] = {
    { "wrong name", g_strdup_printf ("dot://127.0.0.1:%u?verify=other.test&ca=%s",
                                     unbound->tls_port, unbound->ca_file) },
    { "unknown CA", g_strdup_printf ("dot://dns.test:%u?ip=127.0.0.1", unbound->tls_port) },
    { "doh wrong name", g_strdup_printf ("doh://127.0.0.1:%u/dns-query?verify=evil.test&ca=%s",
                                         unbound->https_port, unbound->ca_file) },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (PcDnsUpstream) up = make_upstream ("%s", cases[i].url);
      PcDnsUpstreamStatus st;
      Results r;

      results_init (&r);
      run_queries (up, 1, &r);
      g_test_message ("%s: %s", cases[i].what, (char *)r.errors->pdata[0]);
      g_assert_null (r.replies->pdata[0]);
      g_assert_nonnull (strstr (r.errors->pdata[0], "certificate refused"));
      pc_dns_upstream_get_status (up, &st);
      g_assert_false (st.reachable);
      g_assert_cmpuint (st.failures, ==, 1);
      results_clear (&r);
      g_free (cases[i].url);
    }
  /* the server's certificate names 127.0.0.1 as well: verify by address works */
  {
    g_autoptr (PcDnsUpstream) up
        = make_upstream ("dot://127.0.0.1:%u?ca=%s", unbound->tls_port, unbound->ca_file);
    Results r;

    results_init (&r);
    run_queries (up, 1, &r);
    assert_answered (&r, 1);
    results_clear (&r);
  }
}

static void
list_cb (GBytes *reply, const GError *error, PcDnsUpstream *upstream, gpointer user_data)
{
  query_cb (reply, error, upstream, user_data);
}

static void
test_failover (void)
{
  guint16 dead_udp = dns_test_free_port ();
  guint16 dead_tls = dns_test_free_port ();
  g_autofree char *u1 = g_strdup_printf ("dns://127.0.0.1:%u", dead_udp);
  g_autofree char *u2 = g_strdup_printf ("dot://127.0.0.1:%u?ca=%s", dead_tls, unbound->ca_file);
  g_autofree char *u3
      = g_strdup_printf ("dot://127.0.0.1:%u?ca=%s", unbound->tls_port, unbound->ca_file);
  const char *urls[] = { u1, u2, u3, NULL };
  PcDnsUpstreamsConfig config = { .resolv_conf = "/dev/null", .attempt_timeout_ms = 1000 };
  g_autoptr (GError) error = NULL;
  g_autoptr (PcDnsUpstreams) list = pc_dns_upstreams_new (urls, &config, &error);
  g_autoptr (GArray) status = NULL;
  Results r;
  guint t = g_timeout_add_seconds (20, timeout_cb, NULL);

  g_assert_no_error (error);
  for (guint round = 0; round < 4; round++)
    {
      g_autoptr (GBytes) q = make_query ("www.test", PC_DNS_TYPE_A, 7);

      results_init (&r);
      r.pending = 1;
      pc_dns_upstreams_query (list, q, FALSE, list_cb, &r);
      if (r.pending > 0)
        g_main_loop_run (r.loop);
      assert_answered (&r, 1);
      results_clear (&r);
    }
  g_source_remove (t);

  status = pc_dns_upstreams_get_status (list);
  g_assert_cmpuint (status->len, ==, 3);
  /* the dead ones failed 3 times, then were tried last (after the good one answered) */
  g_assert_cmpuint (g_array_index (status, PcDnsUpstreamStatus, 0).failures, ==, 3);
  g_assert_false (g_array_index (status, PcDnsUpstreamStatus, 0).reachable);
  g_assert_nonnull (g_array_index (status, PcDnsUpstreamStatus, 0).last_error);
  g_assert_cmpuint (g_array_index (status, PcDnsUpstreamStatus, 1).failures, ==, 3);
  g_assert_cmpuint (g_array_index (status, PcDnsUpstreamStatus, 2).queries, ==, 4);
  g_assert_true (g_array_index (status, PcDnsUpstreamStatus, 2).reachable);
}

static void
test_all_down (void)
{
  g_autofree char *u1 = g_strdup_printf ("dns://127.0.0.1:%u", dns_test_free_port ());
  const char *urls[] = { u1, NULL };
  PcDnsUpstreamsConfig config = { .resolv_conf = "/dev/null" };
  g_autoptr (PcDnsUpstreams) list = pc_dns_upstreams_new (urls, &config, NULL);
  g_autoptr (GBytes) q = make_query ("www.test", PC_DNS_TYPE_A, 7);
  Results r;

  results_init (&r);
  r.pending = 1;
  pc_dns_upstreams_query (list, q, FALSE, list_cb, &r);
  if (r.pending > 0)
    g_main_loop_run (r.loop);
  g_assert_null (r.replies->pdata[0]);
  g_assert_nonnull (strstr (r.errors->pdata[0], "no dns server answered"));
  results_clear (&r);

  /* no system servers at all: local names fail clearly */
  results_init (&r);
  r.pending = 1;
  pc_dns_upstreams_query (list, q, TRUE, list_cb, &r);
  if (r.pending > 0)
    g_main_loop_run (r.loop);
  g_assert_nonnull (strstr (r.errors->pdata[0], "no dns server is configured"));
  results_clear (&r);
}

static void
run_list_query (PcDnsUpstreams *list, Results *r)
{
  g_autoptr (GBytes) q = make_query ("www.test", PC_DNS_TYPE_A, 7);

  results_init (r);
  r->pending = 1;
  pc_dns_upstreams_query (list, q, FALSE, list_cb, r);
  if (r->pending > 0)
    g_main_loop_run (r->loop);
}

/* dot://dns.test and doh://dns.test without ip=: the name is asked of the system servers (a
 * resolv.conf naming unbound) once per upstream, then the certificate is checked against it */
static void
test_host_name_bootstrap (void)
{
  g_autofree char *dir = g_dir_make_tmp ("pc-dns-boot-XXXXXX", NULL);
  g_autofree char *resolv = g_build_filename (dir, "resolv.conf", NULL);
  g_autofree char *dot
      = g_strdup_printf ("dot://dns.test:%u?ca=%s", unbound->tls_port, unbound->ca_file);
  g_autofree char *doh = g_strdup_printf ("doh://dns.test:%u/dns-query?ca=%s", unbound->https_port,
                                          unbound->ca_file);
  g_autofree char *nowhere
      = g_strdup_printf ("dot://nowhere.test:%u?ca=%s", unbound->tls_port, unbound->ca_file);
  const char *urls[] = { nowhere, dot, doh, NULL };
  PcDnsUpstreamsConfig config = { .resolv_conf = resolv, .system_port = unbound->plain_port };
  g_autoptr (GError) error = NULL;
  g_autoptr (PcDnsUpstreams) list = NULL;
  g_autoptr (GArray) status = NULL;
  guint before = dns_test_servers_count (unbound, "dns.test.", "A");
  guint t = g_timeout_add_seconds (20, timeout_cb, NULL);
  Results r;

  g_assert_true (g_file_set_contents (resolv, "nameserver 127.0.0.1\n", -1, NULL));
  list = pc_dns_upstreams_new (urls, &config, &error);
  g_assert_no_error (error);
  /* nowhere.test has no address: that upstream fails with the reason, dot://dns.test answers */
  for (guint round = 0; round < 3; round++)
    {
      run_list_query (list, &r);
      assert_answered (&r, 1);
      results_clear (&r);
    }
  status = pc_dns_upstreams_get_status (list);
  g_assert_cmpstr (g_array_index (status, PcDnsUpstreamStatus, 0).last_error, ==,
                   "cannot find the address of nowhere.test through the system servers: it has "
                   "none");
  g_assert_true (g_array_index (status, PcDnsUpstreamStatus, 1).reachable);
  g_assert_cmpuint (g_array_index (status, PcDnsUpstreamStatus, 1).queries, ==, 3);
  /* asked once, not per query */
  g_assert_cmpuint (dns_test_servers_count (unbound, "dns.test.", "A") - before, ==, 1);
  /* nowhere.test is not asked again right away (it failed moments ago) */
  g_assert_cmpuint (dns_test_servers_count (unbound, "nowhere.test.", "A"), ==, 1);
  g_clear_pointer (&status, g_array_unref);
  g_clear_pointer (&list, pc_dns_upstreams_free);

  /* DoH alone, several questions at once while its name is looked up: all wait for it */
  {
    const char *only[] = { doh, NULL };
    list = pc_dns_upstreams_new (only, &config, &error);
    g_assert_no_error (error);
    results_init (&r);
    r.pending = 4;
    for (guint i = 0; i < 4; i++)
      {
        g_autoptr (GBytes) q = make_query ("www.test", PC_DNS_TYPE_A, (guint16)(20 + i));
        pc_dns_upstreams_query (list, q, FALSE, list_cb, &r);
      }
    g_main_loop_run (r.loop);
    assert_answered (&r, 4);
    results_clear (&r);
    g_assert_cmpuint (dns_test_servers_count (unbound, "dns.test.", "A") - before, ==, 2);
  }
  /* freed while a name is being looked up: the waiting question is told, nothing leaks */
  g_clear_pointer (&list, pc_dns_upstreams_free);
  {
    const char *only[] = { dot, NULL };
    list = pc_dns_upstreams_new (only, &config, &error);
    results_init (&r);
    r.pending = 1;
    {
      g_autoptr (GBytes) q = make_query ("www.test", PC_DNS_TYPE_A, 30);
      pc_dns_upstreams_query (list, q, FALSE, list_cb, &r);
    }
    g_clear_pointer (&list, pc_dns_upstreams_free);
    g_assert_cmpuint (r.pending, ==, 0);
    g_assert_null (r.replies->pdata[0]);
    results_clear (&r);
  }
  g_source_remove (t);
  g_unlink (resolv);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  const char *extra[] = { "local-data: \"dns.test. 60 IN A 127.0.0.1\"", NULL };
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dns/upstream/spec-parse", test_spec_parse);
  g_test_add_func ("/dns/upstream/resolv-conf", test_resolv_conf);
  g_test_add_func ("/dns/upstream/plain", test_plain);
  g_test_add_data_func ("/dns/upstream/dot", GINT_TO_POINTER (FALSE), test_tls_transport);
  g_test_add_data_func ("/dns/upstream/doh", GINT_TO_POINTER (TRUE), test_tls_transport);
  g_test_add_func ("/dns/upstream/doh-http11", test_doh_http11);
  g_test_add_func ("/dns/upstream/tls-refused", test_tls_refused);
  g_test_add_func ("/dns/upstream/failover", test_failover);
  g_test_add_func ("/dns/upstream/all-down", test_all_down);
  g_test_add_func ("/dns/upstream/host-name-bootstrap", test_host_name_bootstrap);
  unbound = dns_test_servers_start (extra);
  ret = g_test_run ();
  dns_test_servers_stop (unbound);
  return ret;
}
