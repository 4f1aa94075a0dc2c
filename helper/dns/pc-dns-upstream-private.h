/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Between the upstream core (pc-dns-upstream.c) and its TLS transports (pc-dns-upstream-tls.c). */
#pragma once

#include <gio/gio.h>

#include "pc-dns-upstream.h"

G_BEGIN_DECLS

typedef struct _PcDnsTls PcDnsTls;

/* One query to one upstream, from pc_dns_upstream_query() until its callback ran. */
typedef struct
{
  PcDnsUpstream *upstream;
  guint8 *wire; /* the query with the id the transport chose */
  gsize len;
  guint16 client_id;
  PcDnsUpstreamFunc func;
  gpointer user_data;
  gint64 started;
  GSource *timeout;
  gboolean retried; /* sent again on a new connection after the old one closed */
  /* plain transport */
  int fd;
  GSource *io;
  gboolean tcp;
  GByteArray *buf;
  gsize done; /* bytes written (TCP) */
  /* DoH */
  gint32 stream_id;
  gsize body_sent;
  guint status;
  GByteArray *body;
} PcDnsQuery;

/* Finishes q: restores the client's id, updates health, calls back, frees q. Takes reply. */
void pc_dns_query_complete (PcDnsQuery *q, GBytes *reply, const GError *error);
/* socket of the helper: non-blocking, close-on-exec, with the packet mark PC_MARK_OWN */
int pc_dns_socket_new (int family, int type, GError **error);
void pc_dns_upstream_note_connection (PcDnsUpstream *self, gboolean resumed);

PcDnsTls *pc_dns_tls_new (PcDnsUpstream *upstream, const PcDnsUpstreamSpec *spec, GError **error);
void pc_dns_tls_free (PcDnsTls *self);
/* Queues q: written at once on a ready connection, else after the (re)connect. */
void pc_dns_tls_send (PcDnsTls *self, PcDnsQuery *q);
/* Forgets q (timed out); it is completed by the caller. */
void pc_dns_tls_forget (PcDnsTls *self, PcDnsQuery *q);

G_END_DECLS
