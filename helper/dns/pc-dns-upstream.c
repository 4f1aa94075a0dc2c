/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Upstream URLs, health, failover, and the plain UDP/TCP transport. */
#define G_LOG_DOMAIN "portcullis-dns"

#include "pc-dns-upstream-private.h"

#include <errno.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pc-dns-message.h"
#include "pc-error.h"
#include "pc-marks.h"

#define DOWN_AFTER_FAILURES 3
#define DOWN_FOR_US (30 * G_USEC_PER_SEC)

struct _PcDnsUpstream
{
  PcDnsUpstreamSpec *spec;
  gboolean system;
  GMainContext *context;
  PcDnsTls *tls;
  GHashTable *queries; /* PcDnsQuery set: the ones in flight, failed on free */
  /* health */
  gboolean reachable;
  guint64 latency_us;
  guint64 queries_total;
  guint64 failures;
  guint consecutive_failures;
  gint64 last_failure;
  guint64 connections;
  guint64 resumed;
  char *last_error;
  struct _Bootstrap *bootstrap; /* finding the address of a host name, while it runs */
  gint64 bootstrap_failed;      /* when it last failed (monotonic µs), 0 never */
};

/* g_set_str () is GLib 2.76; Debian 12 has 2.74 */
static void
set_str (char **slot, const char *value)
{
  char *old = *slot;

  *slot = g_strdup (value);
  g_free (old);
}

/* ---- resolv.conf ---------------------------------------------------------------------------- */

GArray *
pc_dns_read_resolv_conf (const char *path, const PcAddr *exclude, guint n_exclude, GError **error)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GArray) servers = g_array_new (FALSE, TRUE, sizeof (PcAddr));

  if (!g_file_get_contents (path != NULL ? path : "/etc/resolv.conf", &text, NULL, error))
    return NULL;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL && servers->len < 3; i++)
    {
      g_auto (GStrv) words = g_strsplit_set (g_strstrip (lines[i]), " \t", -1);
      PcAddr addr = { 0 };
      gboolean ours = FALSE;
      char *percent;

      if (words[0] == NULL || strcmp (words[0], "nameserver") != 0 || words[1] == NULL)
        continue;
      percent = strchr (words[1], '%'); /* fe80::1%eth0: the scope goes, link-local stays */
      if (percent != NULL)
        *percent = '\0';
      if (!pc_addr_parse (words[1], &addr))
        continue;
      for (guint e = 0; e < n_exclude; e++)
        ours = ours || pc_addr_equal (&addr, &exclude[e]);
      if (!ours)
        g_array_append_val (servers, addr);
    }
  return g_steal_pointer (&servers);
}

char **
pc_dns_read_search_domains (const char *path)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  if (g_file_get_contents (path != NULL ? path : "/etc/resolv.conf", &text, NULL, NULL))
    {
      lines = g_strsplit (text, "\n", -1);
      for (guint i = 0; lines[i] != NULL; i++)
        {
          g_auto (GStrv) words = g_strsplit_set (g_strstrip (lines[i]), " \t", -1);

          if (words[0] == NULL
              || (strcmp (words[0], "search") != 0 && strcmp (words[0], "domain") != 0))
            continue;
          for (guint w = 1; words[w] != NULL; w++)
            if (*words[w] != '\0' && strcmp (words[w], ".") != 0)
              g_strv_builder_add (builder, words[w]);
        }
    }
  return g_strv_builder_end (builder);
}

/* ---- one upstream --------------------------------------------------------------------------- */

int
pc_dns_socket_new (int family, int type, GError **error)
{
  int fd = socket (family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  guint32 mark = PC_MARK_OWN;

  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "cannot make a socket: %s",
                   g_strerror (saved));
      return -1;
    }
  /* Needs CAP_NET_ADMIN: the helper has it; unit tests as a user go without, and nothing
   * intercepts them either. */
  if (setsockopt (fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) < 0)
    g_debug ("cannot mark upstream socket: %s", g_strerror (errno));
  return fd;
}

PcDnsUpstream *
pc_dns_upstream_new (const PcDnsUpstreamSpec *spec, gboolean system, GError **error)
{
  g_autoptr (PcDnsUpstream) self = g_new0 (PcDnsUpstream, 1);

  g_return_val_if_fail (spec->kind != PC_DNS_UPSTREAM_SYSTEM, NULL);
  self->spec = g_new0 (PcDnsUpstreamSpec, 1);
  *self->spec = *spec;
  self->spec->url = g_strdup (spec->url);
  self->spec->host = g_strdup (spec->host);
  self->spec->path = g_strdup (spec->path);
  self->spec->verify = g_strdup (spec->verify);
  self->spec->label = g_strdup (spec->label);
  self->spec->ca_file = g_strdup (spec->ca_file);
  self->system = system;
  self->context = g_main_context_ref_thread_default ();
  self->queries = g_hash_table_new (NULL, NULL);
  self->reachable = TRUE;
  /* a host name without ip=: the TLS side is made once its address is known */
  if ((spec->kind == PC_DNS_UPSTREAM_DOT || spec->kind == PC_DNS_UPSTREAM_DOH)
      && spec->addr.family != 0)
    {
      self->tls = pc_dns_tls_new (self, spec, error);
      if (self->tls == NULL)
        {
          g_prefix_error (error, "dns server %s: ", spec->url);
          return NULL;
        }
    }
  return g_steal_pointer (&self);
}

static void
query_stop_io (PcDnsQuery *q)
{
  if (q->io != NULL)
    {
      g_source_destroy (q->io);
      g_clear_pointer (&q->io, g_source_unref);
    }
  if (q->fd >= 0)
    {
      close (q->fd);
      q->fd = -1;
    }
}

static void upstream_forget_bootstrap (PcDnsUpstream *self);

void
pc_dns_upstream_free (PcDnsUpstream *self)
{
  if (self == NULL)
    return;
  upstream_forget_bootstrap (self);
  if (self->queries != NULL)
    {
      g_autoptr (GError) error
          = g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED, "the upstream was removed");

      while (g_hash_table_size (self->queries) > 0)
        {
          GHashTableIter iter;
          gpointer q;

          g_hash_table_iter_init (&iter, self->queries);
          g_hash_table_iter_next (&iter, &q, NULL);
          if (self->tls != NULL)
            pc_dns_tls_forget (self->tls, q);
          pc_dns_query_complete (q, NULL, error);
        }
      g_hash_table_unref (self->queries);
    }
  g_clear_pointer (&self->tls, pc_dns_tls_free);
  pc_dns_upstream_spec_free (self->spec);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_free (self->last_error);
  g_free (self);
}

void
pc_dns_upstream_note_connection (PcDnsUpstream *self, gboolean resumed)
{
  self->connections++;
  if (resumed)
    self->resumed++;
}

void
pc_dns_query_complete (PcDnsQuery *q, GBytes *reply, const GError *error)
{
  PcDnsUpstream *self = q->upstream;
  g_autoptr (GBytes) owned = reply;
  g_autoptr (GBytes) out = NULL;

  query_stop_io (q);
  if (q->timeout != NULL)
    {
      g_source_destroy (q->timeout);
      g_clear_pointer (&q->timeout, g_source_unref);
    }
  g_hash_table_remove (self->queries, q);

  if (reply != NULL)
    {
      gsize len;
      guint8 *copy = g_bytes_unref_to_data (g_steal_pointer (&owned), &len);
      guint64 us = (guint64)MAX (g_get_monotonic_time () - q->started, 1);

      copy[0] = (guint8)(q->client_id >> 8);
      copy[1] = (guint8)q->client_id;
      out = g_bytes_new_take (copy, len);
      self->reachable = TRUE;
      self->consecutive_failures = 0;
      self->latency_us = self->latency_us == 0 ? us : (self->latency_us * 7 + us) / 8;
    }
  else
    {
      self->reachable = FALSE;
      self->failures++;
      self->consecutive_failures++;
      self->last_failure = g_get_monotonic_time ();
      set_str (&self->last_error, error->message);
      g_debug ("%s: %s", self->spec->label, error->message);
    }
  q->func (out, out != NULL ? NULL : error, self, q->user_data);
  g_free (q->wire);
  g_clear_pointer (&q->buf, g_byte_array_unref);
  g_clear_pointer (&q->body, g_byte_array_unref);
  g_free (q);
}

static void query_fail (PcDnsQuery *q, GQuark domain, int code, const char *fmt, ...)
    G_GNUC_PRINTF (4, 5);

static void
query_fail (PcDnsQuery *q, GQuark domain, int code, const char *fmt, ...)
{
  g_autoptr (GError) error = NULL;
  va_list args;

  va_start (args, fmt);
  error = g_error_new_valist (domain, code, fmt, args);
  va_end (args);
  pc_dns_query_complete (q, NULL, error);
}

static void
query_fail_errno (PcDnsQuery *q, const char *what, int err)
{
  char addr[PC_ADDR_STRLEN];

  query_fail (q, G_IO_ERROR, g_io_error_from_errno (err), "%s %s port %u: %s", what,
              pc_addr_to_string (&q->upstream->spec->addr, addr), q->upstream->spec->port,
              g_strerror (err));
}

static gboolean
timeout_cb (gpointer user_data)
{
  PcDnsQuery *q = user_data;
  char addr[PC_ADDR_STRLEN];

  if (q->upstream->tls != NULL)
    pc_dns_tls_forget (q->upstream->tls, q);
  query_fail (q, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "no answer from %s port %u in time",
              pc_addr_to_string (&q->upstream->spec->addr, addr), q->upstream->spec->port);
  return G_SOURCE_REMOVE;
}

static socklen_t
make_sockaddr (const PcAddr *addr, guint16 port, struct sockaddr_storage *ss)
{
  memset (ss, 0, sizeof *ss);
  if (addr->family == AF_INET)
    {
      struct sockaddr_in *sin = (struct sockaddr_in *)ss;
      sin->sin_family = AF_INET;
      sin->sin_port = g_htons (port);
      sin->sin_addr = addr->v4;
      return sizeof *sin;
    }
  else
    {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = g_htons (port);
      sin6->sin6_addr = addr->v6;
      return sizeof *sin6;
    }
}

static void query_watch (PcDnsQuery *q, GIOCondition cond, GUnixFDSourceFunc func);

/* plain TCP (RFC 7766), one connection per query: only used when a UDP answer was truncated
 * or for `system` servers that refuse UDP, so keeping connections open would not pay */
static gboolean
tcp_io_cb (gint fd, GIOCondition cond, gpointer user_data)
{
  PcDnsQuery *q = user_data;

  if (q->done < q->len + 2)
    {
      guint8 frame[2] = { (guint8)(q->len >> 8), (guint8)q->len };
      struct iovec iov[2] = { { frame, 2 }, { q->wire, q->len } };
      struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
      ssize_t n;
      int soerr = 0;
      socklen_t sl = sizeof soerr;

      if (getsockopt (q->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr != 0)
        {
          query_fail_errno (q, "cannot connect over tcp to", soerr);
          return G_SOURCE_REMOVE;
        }
      /* skip what was written */
      for (gsize skip = q->done, i = 0; i < 2 && skip > 0; i++)
        {
          gsize s = MIN (skip, iov[i].iov_len);
          iov[i].iov_base = (guint8 *)iov[i].iov_base + s;
          iov[i].iov_len -= s;
          skip -= s;
        }
      n = sendmsg (q->fd, &mh, MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN && errno != EINTR)
        {
          query_fail_errno (q, "cannot send over tcp to", errno);
          return G_SOURCE_REMOVE;
        }
      if (n > 0)
        q->done += (gsize)n;
      if (q->done == q->len + 2)
        {
          query_watch (q, G_IO_IN, tcp_io_cb);
          return G_SOURCE_REMOVE;
        }
      return G_SOURCE_CONTINUE;
    }

  for (;;)
    {
      guint8 chunk[4096];
      ssize_t n = recv (q->fd, chunk, sizeof chunk, 0);
      gsize want;

      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return G_SOURCE_CONTINUE;
      if (n < 0)
        {
          query_fail_errno (q, "cannot read over tcp from", errno);
          return G_SOURCE_REMOVE;
        }
      if (n == 0)
        {
          query_fail (q, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                      "%s closed the tcp connection without an answer", q->upstream->spec->label);
          return G_SOURCE_REMOVE;
        }
      g_byte_array_append (q->buf, chunk, (guint)n);
      if (q->buf->len < 2)
        continue;
      want = (gsize)(q->buf->data[0] << 8 | q->buf->data[1]);
      if (q->buf->len < want + 2)
        continue;
      if (!pc_dns_reply_matches_query (q->buf->data + 2, want, q->wire, q->len))
        {
          query_fail (q, PC_ERROR, PC_ERROR_FAILED, "%s answered another question over tcp",
                      q->upstream->spec->label);
          return G_SOURCE_REMOVE;
        }
      pc_dns_query_complete (q, g_bytes_new (q->buf->data + 2, want), NULL);
      return G_SOURCE_REMOVE;
    }
}

static void
start_tcp (PcDnsQuery *q)
{
  g_autoptr (GError) error = NULL;
  struct sockaddr_storage ss;
  socklen_t sl = make_sockaddr (&q->upstream->spec->addr, q->upstream->spec->port, &ss);

  query_stop_io (q);
  q->tcp = TRUE;
  q->done = 0;
  q->buf = g_byte_array_new ();
  q->fd = pc_dns_socket_new (q->upstream->spec->addr.family, SOCK_STREAM, &error);
  if (q->fd < 0)
    {
      pc_dns_query_complete (q, NULL, error);
      return;
    }
  if (connect (q->fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS)
    {
      query_fail_errno (q, "cannot connect over tcp to", errno);
      return;
    }
  query_watch (q, G_IO_OUT, tcp_io_cb);
}

static gboolean
udp_io_cb (gint fd, GIOCondition cond, gpointer user_data)
{
  PcDnsQuery *q = user_data;

  for (;;)
    {
      guint8 buf[65536];
      ssize_t n = recv (q->fd, buf, sizeof buf, 0);

      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return G_SOURCE_CONTINUE;
      if (n < 0)
        {
          /* ECONNREFUSED: nothing listens there (ICMP port unreachable); fail over now */
          query_fail_errno (q, "no dns server at", errno);
          return G_SOURCE_REMOVE;
        }
      /* anything but the answer to our question from our server is ignored (the socket is
       * connected, so only that server's packets arrive; the id and question guard against
       * stray ones) */
      if (!pc_dns_reply_matches_query (buf, (gsize)n, q->wire, q->len))
        continue;
      if (buf[2] & (PC_DNS_FLAG_TC >> 8))
        {
          start_tcp (q);
          return G_SOURCE_REMOVE;
        }
      pc_dns_query_complete (q, g_bytes_new (buf, (gsize)n), NULL);
      return G_SOURCE_REMOVE;
    }
}

static void
query_watch (PcDnsQuery *q, GIOCondition cond, GUnixFDSourceFunc func)
{
  if (q->io != NULL)
    {
      g_source_destroy (q->io);
      g_clear_pointer (&q->io, g_source_unref);
    }
  q->io = g_unix_fd_source_new (q->fd, cond);
  g_source_set_callback (q->io, G_SOURCE_FUNC (func), q, NULL);
  g_source_attach (q->io, q->upstream->context);
}

static void
start_udp (PcDnsQuery *q)
{
  g_autoptr (GError) error = NULL;
  struct sockaddr_storage ss;
  socklen_t sl = make_sockaddr (&q->upstream->spec->addr, q->upstream->spec->port, &ss);

  q->fd = pc_dns_socket_new (q->upstream->spec->addr.family, SOCK_DGRAM, &error);
  if (q->fd < 0)
    {
      pc_dns_query_complete (q, NULL, error);
      return;
    }
  if (connect (q->fd, (struct sockaddr *)&ss, sl) < 0)
    {
      query_fail_errno (q, "cannot reach", errno);
      return;
    }
  if (send (q->fd, q->wire, q->len, 0) < 0)
    {
      query_fail_errno (q, "cannot send to", errno);
      return;
    }
  query_watch (q, G_IO_IN, udp_io_cb);
}

void
pc_dns_upstream_query (PcDnsUpstream *self,
                       GBytes *query,
                       guint timeout_ms,
                       PcDnsUpstreamFunc func,
                       gpointer user_data)
{
  PcDnsQuery *q = g_new0 (PcDnsQuery, 1);
  gsize len;
  const guint8 *data = g_bytes_get_data (query, &len);

  q->upstream = self;
  q->func = func;
  q->user_data = user_data;
  q->fd = -1;
  q->stream_id = -1;
  q->started = g_get_monotonic_time ();
  q->wire = g_memdup2 (data, len);
  q->len = len;
  q->client_id = len >= 2 ? (guint16)(data[0] << 8 | data[1]) : 0;
  self->queries_total++;
  g_hash_table_add (self->queries, q);

  if (len < PC_DNS_HEADER_LEN || len > 65535)
    {
      query_fail (q, PC_ERROR, PC_ERROR_INVALID_ARGS, "query of %" G_GSIZE_FORMAT " bytes", len);
      return;
    }
  if (self->spec->addr.family == 0)
    {
      query_fail (q, PC_ERROR, PC_ERROR_UNAVAILABLE, "the address of %s is not known",
                  self->spec->host);
      return;
    }
  q->timeout = g_timeout_source_new (timeout_ms > 0 ? timeout_ms : 2000);
  g_source_set_callback (q->timeout, timeout_cb, q, NULL);
  g_source_attach (q->timeout, self->context);

  if (self->tls != NULL)
    {
      pc_dns_tls_send (self->tls, q);
      return;
    }
  /* a random id per query: the other half of spoofing resistance with the random port */
  q->wire[0] = (guint8)g_random_int_range (0, 256);
  q->wire[1] = (guint8)g_random_int_range (0, 256);
  start_udp (q);
}

void
pc_dns_upstream_get_status (PcDnsUpstream *self, PcDnsUpstreamStatus *status)
{
  status->label = self->spec->label;
  status->url = self->spec->url;
  status->kind = self->spec->kind;
  status->system = self->system;
  status->reachable = self->reachable;
  status->latency_us = self->latency_us;
  status->queries = self->queries_total;
  status->failures = self->failures;
  status->consecutive_failures = self->consecutive_failures;
  status->connections = self->connections;
  status->resumed = self->resumed;
  status->last_error = self->last_error;
}

gboolean
pc_dns_upstream_is_system (PcDnsUpstream *self)
{
  return self->system;
}

static gboolean
upstream_is_down (PcDnsUpstream *self)
{
  return self->consecutive_failures >= DOWN_AFTER_FAILURES
         && g_get_monotonic_time () - self->last_failure < DOWN_FOR_US;
}

/* ---- the list ------------------------------------------------------------------------------- */

struct _PcDnsUpstreams
{
  GPtrArray *configured; /* PcDnsUpstream, owned */
  GPtrArray *system;     /* PcDnsUpstream, owned (also in configured where `system` was) */
  char **search;
  guint attempt_timeout_ms;
};

PcDnsUpstreams *
pc_dns_upstreams_new (const char *const *urls, const PcDnsUpstreamsConfig *config, GError **error)
{
  g_autoptr (PcDnsUpstreams) self = g_new0 (PcDnsUpstreams, 1);
  g_autoptr (GArray) servers = NULL;
  g_autoptr (GError) resolv_error = NULL;
  PcDnsUpstreamsConfig defaults = { 0 };

  if (config == NULL)
    config = &defaults;
  self->configured = g_ptr_array_new ();
  self->system = g_ptr_array_new_with_free_func ((GDestroyNotify)pc_dns_upstream_free);
  self->attempt_timeout_ms = config->attempt_timeout_ms > 0 ? config->attempt_timeout_ms : 2000;
  self->search = pc_dns_read_search_domains (config->resolv_conf);

  servers = pc_dns_read_resolv_conf (config->resolv_conf, config->exclude, config->n_exclude,
                                     &resolv_error);
  if (servers == NULL)
    g_warning ("no system dns servers: %s", resolv_error->message);
  for (guint i = 0; servers != NULL && i < servers->len; i++)
    {
      PcAddr *addr = &g_array_index (servers, PcAddr, i);
      char text[PC_ADDR_STRLEN];
      g_autofree char *url = g_strdup_printf (
          addr->family == AF_INET6 ? "dns://[%s]:%u" : "dns://%s:%u",
          pc_addr_to_string (addr, text), config->system_port > 0 ? config->system_port : 53);
      g_autoptr (PcDnsUpstreamSpec) spec = pc_dns_upstream_spec_parse (url, NULL);

      if (spec != NULL)
        {
          g_free (spec->label);
          spec->label = g_strdup_printf ("system %s", text);
          g_ptr_array_add (self->system, pc_dns_upstream_new (spec, TRUE, NULL));
        }
    }

  for (guint i = 0; urls != NULL && urls[i] != NULL; i++)
    {
      g_autoptr (PcDnsUpstreamSpec) spec = pc_dns_upstream_spec_parse (urls[i], error);
      PcDnsUpstream *up;

      if (spec == NULL)
        return NULL;
      if (spec->kind == PC_DNS_UPSTREAM_SYSTEM)
        {
          for (guint s = 0; s < self->system->len; s++)
            g_ptr_array_add (self->configured, self->system->pdata[s]);
          continue;
        }
      up = pc_dns_upstream_new (spec, FALSE, error);
      if (up == NULL)
        return NULL;
      g_ptr_array_add (self->configured, up);
    }
  return g_steal_pointer (&self);
}

void
pc_dns_upstreams_free (PcDnsUpstreams *self)
{
  if (self == NULL)
    return;
  if (self->configured != NULL)
    {
      for (guint i = 0; i < self->configured->len; i++)
        if (!pc_dns_upstream_is_system (self->configured->pdata[i]))
          pc_dns_upstream_free (self->configured->pdata[i]);
      g_ptr_array_unref (self->configured);
    }
  g_clear_pointer (&self->system, g_ptr_array_unref);
  g_strfreev (self->search);
  g_free (self);
}

typedef struct
{
  PcDnsUpstreams *owner;
  GBytes *query;
  GPtrArray *order; /* borrowed PcDnsUpstream */
  guint next;
  PcDnsUpstreamFunc func;
  gpointer user_data;
} Attempt;

static void attempt_next (Attempt *a, const GError *last_error);

static void
attempt_free (Attempt *a)
{
  g_bytes_unref (a->query);
  g_ptr_array_unref (a->order);
  g_free (a);
}

/* ---- host names of upstreams (dot://dns.example without ip=) --------------------------------- */

/* The address of an upstream's host name, asked of the `system` servers once (A, then AAAA) and
 * kept for the life of the upstream; queries for it wait meanwhile. After a failure they fail at
 * once (and go to the next upstream) for BOOTSTRAP_RETRY_US before it is asked again. */
#define BOOTSTRAP_RETRY_US (10 * G_USEC_PER_SEC)

typedef struct _Bootstrap
{
  PcDnsUpstreams *owner;
  PcDnsUpstream *upstream; /* NULL once the upstream is gone */
  guint16 qtype;
  GPtrArray *waiting; /* Attempt */
} Bootstrap;

static void
upstream_forget_bootstrap (PcDnsUpstream *self)
{
  if (self->bootstrap != NULL)
    self->bootstrap->upstream = NULL;
  self->bootstrap = NULL;
}

gboolean
pc_dns_upstream_set_address (PcDnsUpstream *self, const PcAddr *addr, GError **error)
{
  self->spec->addr = *addr;
  if (self->spec->kind != PC_DNS_UPSTREAM_DOT && self->spec->kind != PC_DNS_UPSTREAM_DOH)
    return TRUE;
  g_clear_pointer (&self->tls, pc_dns_tls_free);
  self->tls = pc_dns_tls_new (self, self->spec, error);
  if (self->tls == NULL)
    {
      memset (&self->spec->addr, 0, sizeof self->spec->addr);
      return FALSE;
    }
  return TRUE;
}

static void bootstrap_ask (Bootstrap *b);

/* Every waiting attempt goes on: to this upstream again (now with an address) or, on error, to
 * the next one. */
static void
bootstrap_finish (Bootstrap *b, const GError *error)
{
  g_autoptr (GPtrArray) waiting = g_steal_pointer (&b->waiting);

  if (b->upstream != NULL)
    b->upstream->bootstrap = NULL;
  for (guint i = 0; i < waiting->len; i++)
    {
      Attempt *a = waiting->pdata[i];

      if (b->upstream == NULL)
        {
          /* the list is being freed: nothing left to try */
          g_autoptr (GError) cancelled
              = g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED, "the upstream was removed");
          a->func (NULL, cancelled, NULL, a->user_data);
          attempt_free (a);
          continue;
        }
      if (error == NULL)
        a->next--; /* this upstream again */
      attempt_next (a, error);
    }
  g_free (b);
}

static void
bootstrap_cb (GBytes *reply, const GError *error, PcDnsUpstream *server, gpointer user_data)
{
  Bootstrap *b = user_data;
  PcDnsUpstream *up = b->upstream;
  g_autoptr (PcDnsMessage) msg = NULL;
  g_autoptr (GError) local_error = NULL;

  if (up == NULL)
    {
      bootstrap_finish (b, NULL);
      return;
    }
  if (reply != NULL)
    msg = pc_dns_message_parse (g_bytes_get_data (reply, NULL), g_bytes_get_size (reply), NULL);
  if (msg != NULL)
    {
      GArray *an = msg->sections[PC_DNS_SECTION_ANSWER];

      for (guint i = 0; i < an->len; i++)
        {
          PcDnsRecord *rec = &g_array_index (an, PcDnsRecord, i);
          PcAddr addr = { 0 };
          char text[PC_ADDR_STRLEN];

          if (rec->type != b->qtype || rec->rdlen != (b->qtype == PC_DNS_TYPE_A ? 4 : 16))
            continue;
          addr.family = b->qtype == PC_DNS_TYPE_A ? AF_INET : AF_INET6;
          memcpy (addr.b, rec->rdata, rec->rdlen);
          if (!pc_dns_upstream_set_address (up, &addr, &local_error))
            break;
          g_message ("dns server %s: %s is %s (asked the system servers)", up->spec->label,
                     up->spec->host, pc_addr_to_string (&addr, text));
          bootstrap_finish (b, NULL);
          return;
        }
      if (local_error == NULL && b->qtype == PC_DNS_TYPE_A)
        {
          b->qtype = PC_DNS_TYPE_AAAA; /* an IPv6-only server */
          bootstrap_ask (b);
          return;
        }
    }
  if (local_error == NULL)
    local_error = g_error_new (PC_ERROR, PC_ERROR_UNAVAILABLE,
                               "cannot find the address of %s through the system servers: %s",
                               up->spec->host,
                               error != NULL ? error->message
                               : msg == NULL ? "the answer does not parse"
                                             : "it has none");
  up->bootstrap_failed = g_get_monotonic_time ();
  up->reachable = FALSE;
  up->failures++;
  set_str (&up->last_error, local_error->message);
  g_message ("dns server %s: %s", up->spec->label, local_error->message);
  bootstrap_finish (b, local_error);
}

static void
bootstrap_ask (Bootstrap *b)
{
  g_autoptr (PcDnsMessage) q = pc_dns_message_new ();
  g_autoptr (GBytes) wire = NULL;

  q->id = (guint16)g_random_int_range (0, 65536);
  q->flags = PC_DNS_FLAG_RD;
  pc_dns_message_add_question (q, b->upstream->spec->host, b->qtype, PC_DNS_CLASS_IN);
  wire = pc_dns_message_build (q, 0, NULL);
  if (wire == NULL)
    {
      g_autoptr (GError) error = g_error_new (PC_ERROR, PC_ERROR_INVALID_SETTING,
                                              "%s is not a host name", b->upstream->spec->host);
      b->upstream->bootstrap_failed = g_get_monotonic_time ();
      set_str (&b->upstream->last_error, error->message);
      bootstrap_finish (b, error);
      return;
    }
  /* local: the system servers, never the configured upstreams (this one among them) */
  pc_dns_upstreams_query (b->owner, wire, TRUE, bootstrap_cb, b);
}

/* a waits until up has an address, or goes on to the next upstream */
static void
bootstrap_wait (PcDnsUpstreams *owner, PcDnsUpstream *up, Attempt *a)
{
  Bootstrap *b = up->bootstrap;

  if (b == NULL && up->bootstrap_failed != 0
      && g_get_monotonic_time () - up->bootstrap_failed < BOOTSTRAP_RETRY_US)
    {
      g_autoptr (GError) error
          = g_error_new (PC_ERROR, PC_ERROR_UNAVAILABLE, "%s",
                         up->last_error != NULL ? up->last_error : "no address");
      attempt_next (a, error);
      return;
    }
  if (b != NULL)
    {
      g_ptr_array_add (b->waiting, a);
      return;
    }
  b = g_new0 (Bootstrap, 1);
  b->owner = owner;
  b->upstream = up;
  b->qtype = PC_DNS_TYPE_A;
  b->waiting = g_ptr_array_new ();
  g_ptr_array_add (b->waiting, a);
  up->bootstrap = b;
  bootstrap_ask (b);
}

static void
attempt_cb (GBytes *reply, const GError *error, PcDnsUpstream *upstream, gpointer user_data)
{
  Attempt *a = user_data;

  if (reply == NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      attempt_next (a, error);
      return;
    }
  if (reply == NULL)
    {
      /* the list is being freed: no next upstream to try */
      a->func (NULL, error, upstream, a->user_data);
      g_bytes_unref (a->query);
      g_ptr_array_unref (a->order);
      g_free (a);
      return;
    }
  a->func (reply, NULL, upstream, a->user_data);
  g_bytes_unref (a->query);
  g_ptr_array_unref (a->order);
  g_free (a);
}

static void
attempt_next (Attempt *a, const GError *last_error)
{
  if (a->next < a->order->len)
    {
      PcDnsUpstream *up = a->order->pdata[a->next++];

      if (up->spec->addr.family == 0)
        bootstrap_wait (a->owner, up, a);
      else
        pc_dns_upstream_query (up, a->query, a->owner->attempt_timeout_ms, attempt_cb, a);
      return;
    }
  {
    g_autoptr (GError) error = NULL;

    if (last_error != NULL)
      error = g_error_new (PC_ERROR, PC_ERROR_UNAVAILABLE, "no dns server answered (last: %s)",
                           last_error->message);
    else
      error = g_error_new (PC_ERROR, PC_ERROR_UNAVAILABLE, "no dns server is configured");
    a->func (NULL, error, NULL, a->user_data);
    g_bytes_unref (a->query);
    g_ptr_array_unref (a->order);
    g_free (a);
  }
}

void
pc_dns_upstreams_query (
    PcDnsUpstreams *self, GBytes *query, gboolean local, PcDnsUpstreamFunc func, gpointer user_data)
{
  Attempt *a = g_new0 (Attempt, 1);
  GPtrArray *list = local ? self->system : self->configured;

  a->owner = self;
  a->query = g_bytes_ref (query);
  a->func = func;
  a->user_data = user_data;
  a->order = g_ptr_array_sized_new (list->len);
  /* the healthy ones in configured order, then the ones that are down (they may be back) */
  for (guint i = 0; i < list->len; i++)
    if (!upstream_is_down (list->pdata[i]))
      g_ptr_array_add (a->order, list->pdata[i]);
  for (guint i = 0; i < list->len; i++)
    if (upstream_is_down (list->pdata[i]))
      g_ptr_array_add (a->order, list->pdata[i]);
  attempt_next (a, NULL);
}

GArray *
pc_dns_upstreams_get_status (PcDnsUpstreams *self)
{
  GArray *out = g_array_new (FALSE, TRUE, sizeof (PcDnsUpstreamStatus));

  for (guint i = 0; i < self->configured->len; i++)
    {
      PcDnsUpstreamStatus st;
      pc_dns_upstream_get_status (self->configured->pdata[i], &st);
      g_array_append_val (out, st);
    }
  for (guint i = 0; i < self->system->len; i++)
    if (!g_ptr_array_find (self->configured, self->system->pdata[i], NULL))
      {
        PcDnsUpstreamStatus st;
        pc_dns_upstream_get_status (self->system->pdata[i], &st);
        g_array_append_val (out, st);
      }
  return out;
}

const char *const *
pc_dns_upstreams_get_search_domains (PcDnsUpstreams *self)
{
  return (const char *const *)self->search;
}
