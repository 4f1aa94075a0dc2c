/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Upstream DNS servers: their URLs, the transports (plain UDP/TCP, DNS over TLS, DNS over HTTPS)
 * and the ordered list with failover and health.
 *
 * Everything runs in the GMainContext that was thread-default when the upstream was made; the
 * resolver gives them a thread of their own (see pc-dns-server.h). Callbacks are plain functions,
 * not GTask, because every query of the machine passes here. Every upstream socket carries the
 * packet mark PC_MARK_OWN so the firewall does not intercept (or redirect) it.
 *
 * URLs (dns-servers setting):
 *   dot://HOST[:PORT]?ip=ADDR&verify=NAME&name=LABEL&ca=FILE      DNS over TLS, port 853
 *   doh://HOST[:PORT]/PATH?ip=ADDR&verify=NAME&name=LABEL&ca=FILE DNS over HTTPS (HTTP/2), port 443
 *   dns://ADDR[:PORT]                                              plain UDP (TCP when truncated)
 *   system                                                         the nameservers of resolv.conf
 * HOST may be an address (IPv6 in brackets) or a name: without ip= the name is asked of the
 * `system` servers once (A, else AAAA), when the upstream is first used, and kept for its life
 * (the resolver never resolves its own upstreams through itself). verify defaults to HOST and is
 * the name the certificate must carry; ca adds a PEM CA file to the system trust store for that
 * server. */
#pragma once

#include <glib.h>

#include "pc-dns-url.h"
#include "pc-net.h"

G_BEGIN_DECLS

/* Nameservers of a resolv.conf-format file ("nameserver ADDR" lines, at most 3, as glibc),
 * without any address in exclude (the resolver's own listeners: asking ourselves would loop). */
GArray *
pc_dns_read_resolv_conf (const char *path, const PcAddr *exclude, guint n_exclude, GError **error);
/* "search" and "domain" names of a resolv.conf-format file (NULL-terminated, maybe empty). */
char **pc_dns_read_search_domains (const char *path);

typedef struct _PcDnsUpstream PcDnsUpstream;

typedef struct
{
  const char *label;
  const char *url;
  PcDnsUpstreamKind kind;
  gboolean system;    /* one of the `system` servers */
  gboolean reachable; /* the last query got an answer */
  guint64 latency_us; /* smoothed (EWMA 1/8) round trip of answered queries, 0 before the first */
  guint64 queries;
  guint64 failures;
  guint consecutive_failures;
  guint64 connections;    /* TCP/TLS connections made */
  guint64 resumed;        /* of which TLS resumed an earlier session */
  const char *last_error; /* NULL if none yet */
} PcDnsUpstreamStatus;

/* Called once per query: reply (with the query's id) or error. */
typedef void (*PcDnsUpstreamFunc) (GBytes *reply,
                                   const GError *error,
                                   PcDnsUpstream *upstream,
                                   gpointer user_data);

/* spec->kind must not be SYSTEM (use PcDnsUpstreams for that). */
PcDnsUpstream *pc_dns_upstream_new (const PcDnsUpstreamSpec *spec, gboolean system, GError **error);
void pc_dns_upstream_free (PcDnsUpstream *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcDnsUpstream, pc_dns_upstream_free)
void pc_dns_upstream_query (PcDnsUpstream *self,
                            GBytes *query,
                            guint timeout_ms,
                            PcDnsUpstreamFunc func,
                            gpointer user_data);
void pc_dns_upstream_get_status (PcDnsUpstream *self, PcDnsUpstreamStatus *status);
/* The address to connect to, for an upstream whose URL named a host without ip=. */
gboolean pc_dns_upstream_set_address (PcDnsUpstream *self, const PcAddr *addr, GError **error);
gboolean pc_dns_upstream_is_system (PcDnsUpstream *self);

/* The configured list. `system` expands in place to the resolv.conf servers; those servers
 * also answer local names (pc_dns_upstreams_query with local = TRUE) even when `system` is not
 * in the list. */
typedef struct _PcDnsUpstreams PcDnsUpstreams;

typedef struct
{
  const char *resolv_conf; /* NULL: /etc/resolv.conf */
  const PcAddr *exclude;   /* our own listen addresses */
  guint n_exclude;
  guint attempt_timeout_ms; /* per upstream before trying the next; 0: 2000 */
  guint16 system_port;      /* port of the resolv.conf servers; 0: 53 (tests use others) */
} PcDnsUpstreamsConfig;

PcDnsUpstreams *
pc_dns_upstreams_new (const char *const *urls, const PcDnsUpstreamsConfig *config, GError **error);
void pc_dns_upstreams_free (PcDnsUpstreams *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcDnsUpstreams, pc_dns_upstreams_free)

/* Tries the upstreams in order (local: the system servers) until one answers. An upstream that
 * failed 3 times in a row is tried last for 30 s. The reply is any answer the server gave,
 * SERVFAIL included; only transport failures fail over. */
void pc_dns_upstreams_query (PcDnsUpstreams *self,
                             GBytes *query,
                             gboolean local,
                             PcDnsUpstreamFunc func,
                             gpointer user_data);
/* Status of every upstream, configured order, system ones last if not configured. */
GArray *pc_dns_upstreams_get_status (PcDnsUpstreams *self);
/* the search domains of resolv.conf, for split horizon */
const char *const *pc_dns_upstreams_get_search_domains (PcDnsUpstreams *self);

G_END_DECLS
