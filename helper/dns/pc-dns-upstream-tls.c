/* SPDX-License-Identifier: GPL-3.0-or-later */
/* DNS over TLS (RFC 7858) and DNS over HTTPS (RFC 8484, HTTP/2) on one kept-alive connection per
 * upstream. GnuTLS directly rather than GTlsConnection: we need TLS 1.2 as the floor whatever the
 * system priority says, the session data for resumption across reconnects, and ALPN "h2", all of
 * which glib-networking hides; the socket is a plain non-blocking fd watched in the upstream's
 * GMainContext. DoT pipelines queries (each gets its own id on the connection); DoH multiplexes
 * them as HTTP/2 streams with nghttp2 driven through its memory interface, and falls back to
 * HTTP/1.1 (one request at a time on a kept-alive connection) when the server's ALPN says so. */
#define G_LOG_DOMAIN "portcullis-dns"

#include "pc-dns-upstream-private.h"

#include <errno.h>
#include <glib-unix.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pc-dns-message.h"
#include "pc-error.h"

#define TLS_PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

typedef enum
{
  CONN_NONE,
  CONN_CONNECTING,
  CONN_HANDSHAKE,
  CONN_READY,
} ConnState;

struct _PcDnsTls
{
  PcDnsUpstream *upstream;
  gboolean http2;
  gnutls_certificate_credentials_t cred;
  PcAddr addr;
  guint16 port;
  char *verify;
  char *sni; /* NULL when the host is an address (RFC 6066: no literal addresses in SNI) */
  char *authority;
  char *path;
  char *label;
  gnutls_datum_t session_data;

  ConnState state;
  int fd;
  gnutls_session_t session;
  GSource *in_src;
  GSource *out_src;
  GQueue waiting;       /* PcDnsQuery not yet on this connection */
  GHashTable *inflight; /* DoT: id -> PcDnsQuery */
  GByteArray *out;      /* bytes to write through TLS */
  GByteArray *in;       /* DoT: bytes of incomplete frames */
  nghttp2_session *h2;
  guint16 next_id;
  gboolean saved_session;
  gboolean receiving; /* inside nghttp2_session_mem_recv: nghttp2 must not be asked to send */
  gboolean http1;     /* DoH over HTTP/1.1: the server did not select h2 */
  PcDnsQuery *h1_current;
  gboolean h1_discard; /* the request in flight timed out: drop its response */
  gboolean h1_close;   /* the server said Connection: close */
};

static void conn_close (PcDnsTls *self, const char *why);
static void conn_pump (PcDnsTls *self);
static void h1_received (PcDnsTls *self);
static void fail_query (PcDnsQuery *q, const char *msg);

static void
str_to_lower (char *s)
{
  for (; *s; s++)
    *s = g_ascii_tolower (*s);
}

PcDnsTls *
pc_dns_tls_new (PcDnsUpstream *upstream, const PcDnsUpstreamSpec *spec, GError **error)
{
  PcDnsTls *self = g_new0 (PcDnsTls, 1);
  PcAddr literal;
  char addr[PC_ADDR_STRLEN];
  int ret;

  self->upstream = upstream;
  self->http2 = spec->kind == PC_DNS_UPSTREAM_DOH;
  self->addr = spec->addr;
  self->port = spec->port;
  self->verify = g_strdup (spec->verify);
  str_to_lower (self->verify);
  self->sni = pc_addr_parse (spec->host, &literal) ? NULL : g_strdup (spec->host);
  if (spec->port == 443)
    self->authority = g_strdup (spec->host);
  else if (strchr (spec->host, ':') != NULL)
    self->authority = g_strdup_printf ("[%s]:%u", spec->host, spec->port);
  else
    self->authority = g_strdup_printf ("%s:%u", spec->host, spec->port);
  self->path = g_strdup (spec->path);
  self->label = g_strdup_printf ("%s (%s port %u)", spec->label,
                                 pc_addr_to_string (&spec->addr, addr), spec->port);
  self->fd = -1;
  self->inflight = g_hash_table_new (NULL, NULL);
  g_queue_init (&self->waiting);

  gnutls_certificate_allocate_credentials (&self->cred);
  ret = gnutls_certificate_set_x509_system_trust (self->cred);
  if (ret < 0)
    g_debug ("no system trust store: %s", gnutls_strerror (ret));
  if (spec->ca_file != NULL)
    {
      ret = gnutls_certificate_set_x509_trust_file (self->cred, spec->ca_file, GNUTLS_X509_FMT_PEM);
      if (ret <= 0)
        {
          g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING,
                       "ca file %s has no usable certificate: %s", spec->ca_file,
                       ret < 0 ? gnutls_strerror (ret) : "none found");
          pc_dns_tls_free (self);
          return NULL;
        }
    }
  return self;
}

void
pc_dns_tls_free (PcDnsTls *self)
{
  if (self == NULL)
    return;
  conn_close (self, NULL);
  g_hash_table_unref (self->inflight);
  gnutls_certificate_free_credentials (self->cred);
  gnutls_free (self->session_data.data);
  g_free (self->verify);
  g_free (self->sni);
  g_free (self->authority);
  g_free (self->path);
  g_free (self->label);
  g_free (self);
}

/* ---- watching the socket -------------------------------------------------------------------- */

static gboolean in_cb (gint fd, GIOCondition cond, gpointer user_data);
static gboolean out_cb (gint fd, GIOCondition cond, gpointer user_data);

static void
watch (PcDnsTls *self, GSource **slot, GIOCondition cond, GUnixFDSourceFunc func)
{
  if (*slot != NULL)
    return;
  *slot = g_unix_fd_source_new (self->fd, cond);
  g_source_set_callback (*slot, G_SOURCE_FUNC (func), self, NULL);
  g_source_attach (*slot, g_main_context_get_thread_default ());
}

static void
unwatch (GSource **slot)
{
  if (*slot == NULL)
    return;
  g_source_destroy (*slot);
  g_clear_pointer (slot, g_source_unref);
}

/* ---- the connection ------------------------------------------------------------------------- */

static void
fail_query (PcDnsQuery *q, const char *msg)
{
  g_autoptr (GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, msg);

  pc_dns_query_complete (q, NULL, error);
}

/* Closes the connection. Queries on it go back to the waiting queue once (the server may close
 * an idle connection just as we write); with why != NULL, when nothing can be retried, or on
 * their second time, they fail with why. */
static void
conn_close (PcDnsTls *self, const char *why)
{
  g_autoptr (GPtrArray) victims = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;
  gboolean was_ready = self->state == CONN_READY;

  unwatch (&self->in_src);
  unwatch (&self->out_src);
  g_clear_pointer (&self->h2, nghttp2_session_del);
  if (self->session != NULL)
    {
      gnutls_deinit (self->session);
      self->session = NULL;
    }
  if (self->fd >= 0)
    {
      close (self->fd);
      self->fd = -1;
    }
  g_clear_pointer (&self->out, g_byte_array_unref);
  g_clear_pointer (&self->in, g_byte_array_unref);
  self->state = CONN_NONE;
  self->http1 = FALSE;
  self->h1_current = NULL;
  self->h1_discard = FALSE;
  self->h1_close = FALSE;

  g_hash_table_iter_init (&iter, self->inflight);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (victims, value);
  g_hash_table_remove_all (self->inflight);
  if (why == NULL)
    {
      /* freeing: the upstream completes every query it still knows about */
      g_queue_clear (&self->waiting);
      return;
    }
  for (guint i = 0; i < victims->len; i++)
    {
      PcDnsQuery *q = victims->pdata[i];

      q->stream_id = -1;
      q->body_sent = 0;
      g_clear_pointer (&q->body, g_byte_array_unref);
      if (was_ready && !q->retried)
        {
          q->retried = TRUE;
          g_queue_push_tail (&self->waiting, q);
        }
      else
        fail_query (q, why);
    }
  if (!was_ready)
    {
      /* the connection never worked: everyone waiting fails now and fails over */
      while (!g_queue_is_empty (&self->waiting))
        fail_query (g_queue_pop_head (&self->waiting), why);
    }
  else if (!g_queue_is_empty (&self->waiting))
    conn_pump (self);
}

static void conn_fail (PcDnsTls *self, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static void
conn_fail (PcDnsTls *self, const char *fmt, ...)
{
  va_list args;
  g_autofree char *msg = NULL;
  g_autofree char *full = NULL;

  va_start (args, fmt);
  msg = g_strdup_vprintf (fmt, args);
  va_end (args);
  full = g_strdup_printf ("%s: %s", self->label, msg);
  g_debug ("%s", full);
  conn_close (self, full);
}

static void
conn_connect (PcDnsTls *self)
{
  g_autoptr (GError) error = NULL;
  struct sockaddr_storage ss = { 0 };
  socklen_t sl;

  self->fd = pc_dns_socket_new (self->addr.family, SOCK_STREAM, &error);
  if (self->fd < 0)
    {
      conn_fail (self, "%s", error->message);
      return;
    }
  if (self->addr.family == AF_INET)
    {
      struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
      sin->sin_family = AF_INET;
      sin->sin_port = g_htons (self->port);
      sin->sin_addr = self->addr.v4;
      sl = sizeof *sin;
    }
  else
    {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = g_htons (self->port);
      sin6->sin6_addr = self->addr.v6;
      sl = sizeof *sin6;
    }
  self->state = CONN_CONNECTING;
  self->out = g_byte_array_new ();
  self->in = g_byte_array_new ();
  self->saved_session = FALSE;
  if (connect (self->fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS)
    {
      conn_fail (self, "cannot connect: %s", g_strerror (errno));
      return;
    }
  watch (self, &self->out_src, G_IO_OUT, out_cb);
}

static gboolean h2_start (PcDnsTls *self);

static void
conn_handshake (PcDnsTls *self)
{
  int ret = gnutls_handshake (self->session);

  if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
    {
      if (gnutls_record_get_direction (self->session) == 1)
        watch (self, &self->out_src, G_IO_OUT, out_cb);
      else
        unwatch (&self->out_src);
      watch (self, &self->in_src, G_IO_IN, in_cb);
      return;
    }
  if (ret < 0)
    {
      if (ret == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR)
        {
          gnutls_datum_t text = { 0 };
          guint status = gnutls_session_get_verify_cert_status (self->session);

          gnutls_certificate_verification_status_print (status, GNUTLS_CRT_X509, &text, 0);
          conn_fail (self, "certificate refused for %s: %s", self->verify,
                     text.data != NULL ? (const char *)text.data : "unknown reason");
          gnutls_free (text.data);
        }
      else
        conn_fail (self, "tls handshake failed: %s", gnutls_strerror (ret));
      return;
    }

  self->state = CONN_READY;
  unwatch (&self->out_src);
  watch (self, &self->in_src, G_IO_IN, in_cb);
  pc_dns_upstream_note_connection (self->upstream, gnutls_session_is_resumed (self->session));
  g_debug ("%s: %s connected%s", self->label,
           gnutls_protocol_get_name (gnutls_protocol_get_version (self->session)),
           gnutls_session_is_resumed (self->session) ? ", session resumed" : "");
  if (self->http2)
    {
      gnutls_datum_t alpn = { 0 };

      if (gnutls_alpn_get_selected_protocol (self->session, &alpn) == 0 && alpn.size == 2
          && memcmp (alpn.data, "h2", 2) == 0)
        {
          if (!h2_start (self))
            return;
        }
      else
        {
          /* RFC 8484 recommends HTTP/2, but some servers speak only HTTP/1.1 */
          g_debug ("%s: HTTP/1.1 (the server did not select h2)", self->label);
          self->http1 = TRUE;
        }
    }
  conn_pump (self);
}

static void
conn_start_tls (PcDnsTls *self)
{
  int ret;

  gnutls_init (&self->session, GNUTLS_CLIENT | GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL);
  ret = gnutls_priority_set_direct (self->session, TLS_PRIORITY, NULL);
  if (ret < 0)
    {
      conn_fail (self, "tls priority: %s", gnutls_strerror (ret));
      return;
    }
  gnutls_credentials_set (self->session, GNUTLS_CRD_CERTIFICATE, self->cred);
  /* the certificate must chain to a trusted CA and carry the verify name */
  gnutls_session_set_verify_cert (self->session, self->verify, 0);
  if (self->sni != NULL)
    gnutls_server_name_set (self->session, GNUTLS_NAME_DNS, self->sni, strlen (self->sni));
  if (self->http2)
    {
      gnutls_datum_t protos[]
          = { { (unsigned char *)"h2", 2 }, { (unsigned char *)"http/1.1", 8 } };
      gnutls_alpn_set_protocols (self->session, protos, G_N_ELEMENTS (protos), 0);
    }
  if (self->session_data.data != NULL)
    gnutls_session_set_data (self->session, self->session_data.data, self->session_data.size);
  gnutls_transport_set_int (self->session, self->fd);
  gnutls_handshake_set_timeout (self->session, 0);
  self->state = CONN_HANDSHAKE;
  conn_handshake (self);
}

/* ---- writing -------------------------------------------------------------------------------- */

static gboolean
conn_flush (PcDnsTls *self)
{
  while (self->out != NULL && self->out->len > 0)
    {
      /* after GNUTLS_E_AGAIN the same data is offered again: the head of the buffer */
      ssize_t n = gnutls_record_send (self->session, self->out->data, MIN (self->out->len, 16384));

      if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
        {
          watch (self, &self->out_src, G_IO_OUT, out_cb);
          return TRUE;
        }
      if (n < 0)
        {
          conn_fail (self, "cannot send: %s", gnutls_strerror ((int)n));
          return FALSE;
        }
      g_byte_array_remove_range (self->out, 0, (guint)n);
    }
  unwatch (&self->out_src);
  return TRUE;
}

static guint16
dot_free_id (PcDnsTls *self)
{
  while (g_hash_table_contains (self->inflight, GUINT_TO_POINTER ((guint)self->next_id + 1)))
    self->next_id++;
  return self->next_id++;
}

static void h2_submit (PcDnsTls *self, PcDnsQuery *q);
static gboolean h2_send (PcDnsTls *self);
static void h1_submit (PcDnsTls *self, PcDnsQuery *q);

/* Moves waiting queries onto the connection (connecting first if there is none) and writes. */
static void
conn_pump (PcDnsTls *self)
{
  if (self->state == CONN_NONE)
    {
      if (!g_queue_is_empty (&self->waiting))
        conn_connect (self);
      return;
    }
  if (self->state != CONN_READY)
    return;
  while (!g_queue_is_empty (&self->waiting))
    {
      PcDnsQuery *q;

      if (self->http1 && (self->h1_current != NULL || self->h1_discard))
        break; /* one request at a time: HTTP/1.1 pipelining is not dependable */
      q = g_queue_pop_head (&self->waiting);
      if (self->http1)
        {
          h1_submit (self, q);
          continue;
        }
      if (self->http2)
        {
          h2_submit (self, q);
          continue;
        }
      if (g_hash_table_size (self->inflight) >= 65535)
        {
          g_queue_push_head (&self->waiting, q);
          break;
        }
      {
        guint16 id = dot_free_id (self);
        guint8 frame[2] = { (guint8)(q->len >> 8), (guint8)q->len };

        q->wire[0] = (guint8)(id >> 8);
        q->wire[1] = (guint8)id;
        /* keyed by id + 1 so id 0 is not a NULL key */
        g_hash_table_insert (self->inflight, GUINT_TO_POINTER ((guint)id + 1), q);
        g_byte_array_append (self->out, frame, 2);
        g_byte_array_append (self->out, q->wire, (guint)q->len);
      }
    }
  if (self->receiving)
    return; /* in_cb writes when nghttp2 is done with the received bytes */
  if (self->h2 != NULL && !h2_send (self))
    return;
  conn_flush (self);
}

void
pc_dns_tls_send (PcDnsTls *self, PcDnsQuery *q)
{
  /* RFC 8484 section 4.1: id 0 over HTTP keeps answers cacheable */
  if (self->http2)
    q->wire[0] = q->wire[1] = 0;
  g_queue_push_tail (&self->waiting, q);
  conn_pump (self);
}

void
pc_dns_tls_forget (PcDnsTls *self, PcDnsQuery *q)
{
  GHashTableIter iter;
  gpointer value;

  g_queue_remove (&self->waiting, q);
  g_hash_table_iter_init (&iter, self->inflight);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (value == q)
      {
        g_hash_table_iter_remove (&iter);
        break;
      }
  if (self->http1 && q == self->h1_current)
    {
      g_hash_table_remove (self->inflight, GINT_TO_POINTER (1));
      self->h1_current = NULL;
      self->h1_discard = TRUE;
    }
  if (self->h2 != NULL && q->stream_id > 0)
    {
      nghttp2_session_set_stream_user_data (self->h2, q->stream_id, NULL);
      nghttp2_submit_rst_stream (self->h2, NGHTTP2_FLAG_NONE, q->stream_id, NGHTTP2_CANCEL);
      q->stream_id = -1;
    }
}

/* ---- reading -------------------------------------------------------------------------------- */

static void
dot_received (PcDnsTls *self)
{
  while (self->in->len >= 2)
    {
      gsize len = (gsize)(self->in->data[0] << 8 | self->in->data[1]);
      PcDnsQuery *q;
      guint16 id;

      if (self->in->len < len + 2)
        return;
      if (len >= PC_DNS_HEADER_LEN)
        {
          id = (guint16)(self->in->data[2] << 8 | self->in->data[3]);
          q = g_hash_table_lookup (self->inflight, GUINT_TO_POINTER ((guint)id + 1));
          if (q != NULL && pc_dns_reply_matches_query (self->in->data + 2, len, q->wire, q->len))
            {
              g_hash_table_remove (self->inflight, GUINT_TO_POINTER ((guint)id + 1));
              pc_dns_query_complete (q, g_bytes_new (self->in->data + 2, len), NULL);
            }
        }
      g_byte_array_remove_range (self->in, 0, (guint)len + 2);
    }
}

/* ---- HTTP/1.1 ------------------------------------------------------------------------------
 * By hand: nghttp2 speaks only HTTP/2, and a general HTTP client (libcurl) would bring its own
 * sockets and TLS. What we need is one request shape and Content-Length responses. */

static void
h1_submit (PcDnsTls *self, PcDnsQuery *q)
{
  g_autofree char *head = g_strdup_printf ("POST %s HTTP/1.1\r\nHost: %s\r\n"
                                           "Content-Type: application/dns-message\r\n"
                                           "Accept: application/dns-message\r\n"
                                           "Content-Length: %" G_GSIZE_FORMAT "\r\n\r\n",
                                           self->path, self->authority, q->len);

  self->h1_current = q;
  g_hash_table_insert (self->inflight, GINT_TO_POINTER (1), q);
  g_byte_array_append (self->out, (const guint8 *)head, (guint)strlen (head));
  g_byte_array_append (self->out, q->wire, (guint)q->len);
}

/* Parses complete responses in self->in. */
static void
h1_received (PcDnsTls *self)
{
  while (self->in != NULL && self->in->len > 0)
    {
      const char *data = (const char *)self->in->data;
      const char *end = g_strstr_len (data, self->in->len, "\r\n\r\n");
      g_autofree char *head = NULL;
      g_auto (GStrv) lines = NULL;
      gsize head_len, clen = 0;
      gboolean have_len = FALSE;
      guint status = 0;
      PcDnsQuery *q;

      if (end == NULL)
        {
          if (self->in->len > 16384)
            conn_fail (self, "http/1.1 response headers too long");
          return;
        }
      head_len = (gsize)(end - data) + 4;
      head = g_strndup (data, head_len - 4);
      lines = g_strsplit (head, "\r\n", -1);
      if (sscanf (lines[0], "HTTP/1.%*u %u", &status) != 1)
        {
          conn_fail (self, "not an http/1.1 response");
          return;
        }
      for (guint i = 1; lines[i] != NULL; i++)
        {
          char *colon = strchr (lines[i], ':');

          if (colon == NULL)
            continue;
          *colon = '\0';
          g_strstrip (colon + 1);
          if (g_ascii_strcasecmp (lines[i], "content-length") == 0)
            {
              guint64 v = 0;

              have_len = g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &v, NULL);
              clen = (gsize)v;
            }
          else if (g_ascii_strcasecmp (lines[i], "transfer-encoding") == 0)
            {
              conn_fail (self, "chunked http/1.1 answers are not supported");
              return;
            }
          else if (g_ascii_strcasecmp (lines[i], "connection") == 0
                   && g_ascii_strcasecmp (colon + 1, "close") == 0)
            self->h1_close = TRUE;
        }
      if (!have_len)
        {
          conn_fail (self, "http/1.1 answer without content-length");
          return;
        }
      if (self->in->len < head_len + clen)
        return;

      q = self->h1_current;
      self->h1_current = NULL;
      g_hash_table_remove (self->inflight, GINT_TO_POINTER (1));
      if (self->h1_discard || q == NULL)
        self->h1_discard = FALSE;
      else if (status != 200)
        {
          g_autofree char *msg = g_strdup_printf ("%s: http status %u", self->label, status);
          fail_query (q, msg);
        }
      else if (!pc_dns_reply_matches_query (self->in->data + head_len, clen, q->wire, q->len))
        {
          g_autofree char *msg = g_strdup_printf (
              "%s: the http answer is not the dns answer to the question", self->label);
          fail_query (q, msg);
        }
      else
        pc_dns_query_complete (q, g_bytes_new (self->in->data + head_len, clen), NULL);
      if (self->in == NULL)
        return; /* a callback closed the connection */
      g_byte_array_remove_range (self->in, 0, (guint)(head_len + clen));
      if (self->h1_close)
        {
          conn_close (self, "the server closed the connection");
          return;
        }
      conn_pump (self);
    }
}

static void
save_session (PcDnsTls *self)
{
  gnutls_datum_t data = { 0 };

  /* TLS 1.3 tickets come after the handshake, with the first data: save then */
  if (self->saved_session || gnutls_session_get_data2 (self->session, &data) < 0)
    return;
  gnutls_free (self->session_data.data);
  self->session_data = data;
  self->saved_session = TRUE;
}

static gboolean
in_cb (gint fd, GIOCondition cond, gpointer user_data)
{
  PcDnsTls *self = user_data;

  if (self->state == CONN_HANDSHAKE)
    {
      conn_handshake (self);
      return G_SOURCE_CONTINUE;
    }
  for (;;)
    {
      guint8 buf[16384];
      ssize_t n = gnutls_record_recv (self->session, buf, sizeof buf);

      if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
        break;
      if (n == 0 || n == GNUTLS_E_PREMATURE_TERMINATION)
        {
          g_debug ("%s: connection closed by the server", self->label);
          conn_close (self, "the server closed the connection");
          return G_SOURCE_CONTINUE; /* in_src was destroyed with the connection */
        }
      if (n < 0)
        {
          if (gnutls_error_is_fatal ((int)n) == 0)
            continue;
          conn_fail (self, "cannot receive: %s", gnutls_strerror ((int)n));
          return G_SOURCE_CONTINUE;
        }
      save_session (self);
      if (self->http1)
        {
          g_byte_array_append (self->in, buf, (guint)n);
          h1_received (self);
        }
      else if (self->h2 != NULL)
        {
          ssize_t used;

          self->receiving = TRUE;
          used = nghttp2_session_mem_recv (self->h2, buf, (size_t)n);
          self->receiving = FALSE;
          if (used < 0)
            {
              conn_fail (self, "http/2 error: %s", nghttp2_strerror ((int)used));
              return G_SOURCE_CONTINUE;
            }
        }
      else
        {
          g_byte_array_append (self->in, buf, (guint)n);
          dot_received (self);
        }
      if (self->state != CONN_READY)
        return G_SOURCE_CONTINUE;
    }
  if (self->h2 != NULL && !nghttp2_session_want_read (self->h2)
      && !nghttp2_session_want_write (self->h2))
    {
      conn_close (self, "the server ended the http/2 session");
      return G_SOURCE_CONTINUE;
    }
  /* retried streams go out again, and whatever nghttp2 has to say (acks, window updates) */
  conn_pump (self);
  return G_SOURCE_CONTINUE;
}

static gboolean
out_cb (gint fd, GIOCondition cond, gpointer user_data)
{
  PcDnsTls *self = user_data;

  if (self->state == CONN_CONNECTING)
    {
      int soerr = 0;
      socklen_t sl = sizeof soerr;

      unwatch (&self->out_src);
      if (getsockopt (self->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0)
        {
          conn_fail (self, "cannot connect: %s", g_strerror (soerr != 0 ? soerr : errno));
          return G_SOURCE_REMOVE;
        }
      conn_start_tls (self);
      return G_SOURCE_REMOVE;
    }
  if (self->state == CONN_HANDSHAKE)
    {
      unwatch (&self->out_src);
      conn_handshake (self);
      return G_SOURCE_REMOVE;
    }
  /* conn_flush removes or keeps out_src itself */
  {
    GSource *src = g_source_ref (self->out_src);
    gboolean keep;

    conn_flush (self);
    keep = self->out_src == src;
    g_source_unref (src);
    return keep ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
  }
}

/* ---- HTTP/2 --------------------------------------------------------------------------------- */

static ssize_t
h2_body_read_cb (nghttp2_session *session,
                 int32_t stream_id,
                 uint8_t *buf,
                 size_t length,
                 uint32_t *data_flags,
                 nghttp2_data_source *source,
                 void *user_data)
{
  PcDnsQuery *q = source->ptr;
  size_t n = MIN (length, q->len - q->body_sent);

  memcpy (buf, q->wire + q->body_sent, n);
  q->body_sent += n;
  if (q->body_sent == q->len)
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  return (ssize_t)n;
}

static int
h2_header_cb (nghttp2_session *session,
              const nghttp2_frame *frame,
              const uint8_t *name,
              size_t namelen,
              const uint8_t *value,
              size_t valuelen,
              uint8_t flags,
              void *user_data)
{
  PcDnsQuery *q = nghttp2_session_get_stream_user_data (session, frame->hd.stream_id);

  if (q != NULL && namelen == 7 && memcmp (name, ":status", 7) == 0)
    {
      char status[4] = { 0 };
      memcpy (status, value, MIN (valuelen, 3));
      q->status = (guint)g_ascii_strtoull (status, NULL, 10);
    }
  return 0;
}

static int
h2_data_cb (nghttp2_session *session,
            uint8_t flags,
            int32_t stream_id,
            const uint8_t *data,
            size_t len,
            void *user_data)
{
  PcDnsQuery *q = nghttp2_session_get_stream_user_data (session, stream_id);

  if (q == NULL)
    return 0;
  if (q->body == NULL)
    q->body = g_byte_array_new ();
  if (q->body->len + len > 65535)
    return nghttp2_submit_rst_stream (session, NGHTTP2_FLAG_NONE, stream_id,
                                      NGHTTP2_REFUSED_STREAM);
  g_byte_array_append (q->body, data, (guint)len);
  return 0;
}

static int
h2_stream_close_cb (nghttp2_session *session,
                    int32_t stream_id,
                    uint32_t error_code,
                    void *user_data)
{
  PcDnsTls *self = user_data;
  PcDnsQuery *q = nghttp2_session_get_stream_user_data (session, stream_id);
  g_autofree char *msg = NULL;

  if (q == NULL)
    return 0;
  g_hash_table_remove (self->inflight, GINT_TO_POINTER (stream_id));
  q->stream_id = -1;
  if (error_code == NGHTTP2_REFUSED_STREAM && !q->retried)
    {
      /* the server did not process it (RFC 7540 8.1.4): safe to send again */
      q->retried = TRUE;
      g_queue_push_tail (&self->waiting, q);
      return 0;
    }
  if (error_code != NGHTTP2_NO_ERROR)
    msg = g_strdup_printf ("%s: http/2 stream reset (%s)", self->label,
                           nghttp2_http2_strerror (error_code));
  else if (q->status != 200)
    msg = g_strdup_printf ("%s: http status %u", self->label, q->status);
  else if (q->body == NULL
           || !pc_dns_reply_matches_query (q->body->data, q->body->len, q->wire, q->len))
    msg = g_strdup_printf ("%s: the http answer is not the dns answer to the question",
                           self->label);
  if (msg != NULL)
    fail_query (q, msg);
  else
    pc_dns_query_complete (q, g_bytes_new (q->body->data, q->body->len), NULL);
  return 0;
}

static gboolean
h2_start (PcDnsTls *self)
{
  nghttp2_session_callbacks *cbs;
  nghttp2_settings_entry settings[] = {
    { NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100 },
    { NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
  };
  int ret;

  nghttp2_session_callbacks_new (&cbs);
  nghttp2_session_callbacks_set_on_header_callback (cbs, h2_header_cb);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback (cbs, h2_data_cb);
  nghttp2_session_callbacks_set_on_stream_close_callback (cbs, h2_stream_close_cb);
  ret = nghttp2_session_client_new (&self->h2, cbs, self);
  nghttp2_session_callbacks_del (cbs);
  if (ret == 0)
    ret = nghttp2_submit_settings (self->h2, NGHTTP2_FLAG_NONE, settings, G_N_ELEMENTS (settings));
  if (ret != 0)
    {
      conn_fail (self, "http/2 session: %s", nghttp2_strerror (ret));
      return FALSE;
    }
  return TRUE;
}

static void
h2_submit (PcDnsTls *self, PcDnsQuery *q)
{
  g_autofree char *length = g_strdup_printf ("%" G_GSIZE_FORMAT, q->len);
#define NV(n, v) { (uint8_t *)(n), (uint8_t *)(v), strlen (n), strlen (v), NGHTTP2_NV_FLAG_NONE }
  nghttp2_nv headers[] = {
    NV (":method", "POST"),
    NV (":scheme", "https"),
    NV (":authority", self->authority),
    NV (":path", self->path),
    NV ("content-type", "application/dns-message"),
    NV ("accept", "application/dns-message"),
    NV ("content-length", length),
  };
#undef NV
  nghttp2_data_provider body = { .source.ptr = q, .read_callback = h2_body_read_cb };
  int32_t id;

  q->body_sent = 0;
  q->status = 0;
  id = nghttp2_submit_request (self->h2, NULL, headers, G_N_ELEMENTS (headers), &body, q);
  if (id < 0)
    {
      g_autofree char *msg = g_strdup_printf ("%s: cannot make an http/2 request: %s", self->label,
                                              nghttp2_strerror (id));
      fail_query (q, msg);
      return;
    }
  q->stream_id = id;
  g_hash_table_insert (self->inflight, GINT_TO_POINTER (id), q);
}

/* nghttp2's pending output into our TLS write buffer */
static gboolean
h2_send (PcDnsTls *self)
{
  for (;;)
    {
      const uint8_t *data;
      ssize_t n = nghttp2_session_mem_send (self->h2, &data);

      if (n < 0)
        {
          conn_fail (self, "http/2 error: %s", nghttp2_strerror ((int)n));
          return FALSE;
        }
      if (n == 0)
        return TRUE;
      g_byte_array_append (self->out, data, (guint)n);
    }
}
