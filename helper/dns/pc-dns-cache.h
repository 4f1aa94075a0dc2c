/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The answer cache of the local resolver. Used from the resolver thread only (not locked).
 *
 * TTLs: an answer lives for the smallest TTL of its answer and authority records, clamped to
 * [min_ttl, max_ttl] (defaults 5 s and 1 day: a zero TTL would defeat coalescing, a week-long
 * one would pin stale addresses). The TTLs handed out count down from the records' own values and
 * never go below 0. Negative answers (NXDOMAIN and NODATA, RFC 2308) live for min(SOA TTL, SOA
 * MINIMUM), clamped to [min_ttl, neg_max_ttl] (default 15 min), or neg_default_ttl without an
 * SOA. SERVFAIL, truncated and non-IN answers are not cached.
 *
 * Memory is bounded by max_bytes (the stored wire bytes plus a fixed overhead per entry); the
 * least recently used entries go first. Concurrent identical questions are coalesced: the first
 * asker leads (asks upstream), later ones wait for its answer. Entries asked at least
 * prefetch_min_hits times whose remaining life falls under prefetch_percent of their TTL are
 * reported once as PC_DNS_CACHE_HIT_PREFETCH so the caller refreshes them before they expire. */
#pragma once

#include <glib.h>

#include "pc-dns-message.h"

G_BEGIN_DECLS

typedef struct _PcDnsCache PcDnsCache;

typedef struct
{
  guint32 min_ttl;
  guint32 max_ttl;
  guint32 neg_max_ttl;
  guint32 neg_default_ttl;
  gsize max_bytes;
  guint prefetch_min_hits;
  guint prefetch_percent;
} PcDnsCacheConfig;

/* the documented defaults above */
void pc_dns_cache_config_init (PcDnsCacheConfig *config);

/* Monotonic clock in microseconds; g_get_monotonic_time () when NULL. Tests pass a fake one. */
typedef gint64 (*PcDnsClockFunc) (gpointer user_data);

typedef enum
{
  PC_DNS_CACHE_MISS,
  PC_DNS_CACHE_HIT,
  PC_DNS_CACHE_HIT_PREFETCH, /* a hit; also refresh it now (reported once per entry) */
} PcDnsCacheResult;

typedef struct
{
  guint64 hits;
  guint64 misses;
  guint64 coalesced; /* questions answered by another asker's upstream query */
  guint64 prefetches;
  guint64 evictions; /* entries dropped for space */
  guint entries;
  gsize bytes;
} PcDnsCacheStats;

/* Called with the upstream answer (NULL when the leader failed) for each waiting asker. The bytes
 * are the leader's answer as received: use pc_dns_reply_for_query() to give it the waiter's id. */
typedef void (*PcDnsCacheWaitFunc) (GBytes *reply, gpointer user_data);

PcDnsCache *
pc_dns_cache_new (const PcDnsCacheConfig *config, PcDnsClockFunc clock, gpointer clock_data);
void pc_dns_cache_free (PcDnsCache *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcDnsCache, pc_dns_cache_free)

/* Looks up the question of query (its first question, with its DO bit). On a hit, *reply is
 * the cached answer with query's id, query's spelling of the name and counted-down TTLs. */
PcDnsCacheResult pc_dns_cache_lookup (PcDnsCache *self,
                                      const PcDnsMessage *query,
                                      const guint8 *query_wire,
                                      gsize query_len,
                                      GBytes **reply);
/* Stores reply (a whole response message) as the answer to query's question. Returns FALSE when
 * it is not cacheable (see above). */
gboolean pc_dns_cache_insert (PcDnsCache *self, const PcDnsMessage *query, GBytes *reply);
/* Removes every entry; in-flight questions are kept. */
void pc_dns_cache_flush (PcDnsCache *self);

/* Coalescing. Returns FALSE when nobody is asking upstream for this question yet: the caller
 * now leads and must call pc_dns_cache_finish() exactly once. Returns TRUE when someone else
 * leads: func will be called once with the answer. */
gboolean pc_dns_cache_join (PcDnsCache *self,
                            const PcDnsMessage *query,
                            PcDnsCacheWaitFunc func,
                            gpointer user_data);
/* The leader's answer (NULL on failure): cached when cacheable, then passed to every waiter. */
void pc_dns_cache_finish (PcDnsCache *self, const PcDnsMessage *query, GBytes *reply);

void pc_dns_cache_get_stats (PcDnsCache *self, PcDnsCacheStats *stats);

/* A copy of reply with query's id and, when it is the same name, query's spelling of the
 * question (clients check both; some randomise the case, draft-vixie-dnsext-dns0x20). */
GBytes *pc_dns_reply_for_query (GBytes *reply, const guint8 *query_wire, gsize query_len);

G_END_DECLS
