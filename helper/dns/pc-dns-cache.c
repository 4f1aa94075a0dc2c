/* SPDX-License-Identifier: GPL-3.0-or-later */
/* An answer is stored as wire bytes with the offsets of its TTL fields, so a hit is a copy and a
 * few stores (id, question spelling, TTLs), not a parse and a build. */
#define G_LOG_DOMAIN "portcullis-dns"

#include "pc-dns-cache.h"

#include <string.h>

/* bookkeeping per entry counted against max_bytes besides the wire bytes */
#define ENTRY_OVERHEAD 160
#define KEY_LEN (PC_DNS_NAME_STRLEN + 24)

typedef struct
{
  char *key;
  GList link; /* in the LRU queue; data points to the entry */
  guint8 *wire;
  gsize len;
  gsize qend;   /* end of the question section */
  GArray *ttls; /* TtlSlot */
  gint64 stored_at;
  gint64 expires_at;
  guint32 ttl; /* clamped lifetime in seconds */
  guint hits;
  gboolean prefetch_reported;
} Entry;

typedef struct
{
  guint offset;
  guint32 ttl;
} TtlSlot;

typedef struct
{
  PcDnsCacheWaitFunc func;
  gpointer user_data;
} Waiter;

struct _PcDnsCache
{
  PcDnsCacheConfig config;
  PcDnsClockFunc clock;
  gpointer clock_data;
  GHashTable *entries; /* key -> Entry (owned) */
  GQueue lru;          /* most recent first */
  GHashTable *flights; /* key -> GArray of Waiter */
  PcDnsCacheStats stats;
};

void
pc_dns_cache_config_init (PcDnsCacheConfig *config)
{
  config->min_ttl = 5;
  config->max_ttl = 86400;
  config->neg_max_ttl = 900;
  config->neg_default_ttl = 60;
  config->max_bytes = 8 * 1024 * 1024;
  config->prefetch_min_hits = 2;
  config->prefetch_percent = 10;
}

static void
entry_free (gpointer p)
{
  Entry *e = p;

  g_free (e->key);
  g_free (e->wire);
  g_array_unref (e->ttls);
  g_free (e);
}

static gint64
now_us (PcDnsCache *self)
{
  return self->clock != NULL ? self->clock (self->clock_data) : g_get_monotonic_time ();
}

PcDnsCache *
pc_dns_cache_new (const PcDnsCacheConfig *config, PcDnsClockFunc clock, gpointer clock_data)
{
  PcDnsCache *self = g_new0 (PcDnsCache, 1);

  if (config != NULL)
    self->config = *config;
  else
    pc_dns_cache_config_init (&self->config);
  self->clock = clock;
  self->clock_data = clock_data;
  self->entries = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, entry_free);
  self->flights
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_array_unref);
  return self;
}

void
pc_dns_cache_free (PcDnsCache *self)
{
  if (self == NULL)
    return;
  /* waiters of unfinished flights are told it failed, so nobody waits forever */
  while (g_hash_table_size (self->flights) > 0)
    {
      GHashTableIter iter;
      gpointer key, value;
      g_autoptr (GArray) waiters = NULL;

      g_hash_table_iter_init (&iter, self->flights);
      g_hash_table_iter_next (&iter, &key, &value);
      g_hash_table_iter_steal (&iter);
      g_free (key);
      waiters = value;
      for (guint i = 0; i < waiters->len; i++)
        g_array_index (waiters, Waiter, i)
            .func (NULL, g_array_index (waiters, Waiter, i).user_data);
    }
  g_hash_table_unref (self->flights);
  /* the links live inside the entries: forget them, never g_queue_clear () */
  g_queue_init (&self->lru);
  g_hash_table_unref (self->entries);
  g_free (self);
}

/* "name/type/class/do" with the name in lower case; FALSE when query has no question */
static gboolean
make_key (const PcDnsMessage *query, char key[KEY_LEN])
{
  const PcDnsQuestion *q;
  gsize n;

  if (query->questions->len != 1)
    return FALSE;
  q = &g_array_index (query->questions, PcDnsQuestion, 0);
  n = g_strlcpy (key, q->name, KEY_LEN);
  for (gsize i = 0; i < n && i < KEY_LEN; i++)
    key[i] = g_ascii_tolower (key[i]);
  g_snprintf (key + MIN (n, KEY_LEN - 24), 24, "/%u/%u/%u", q->type, q->klass,
              query->has_edns && (query->edns_flags & 0x8000) ? 1 : 0);
  return TRUE;
}

static void
remove_entry (PcDnsCache *self, Entry *e)
{
  g_queue_unlink (&self->lru, &e->link);
  self->stats.bytes -= e->len + ENTRY_OVERHEAD;
  self->stats.entries--;
  g_hash_table_remove (self->entries, e->key);
}

static void
put_u16 (guint8 *p, guint16 v)
{
  p[0] = (guint8)(v >> 8);
  p[1] = (guint8)v;
}

/* Copies the question bytes of query over those of out (both end at qend) when they spell the
 * same question; the only difference allowed is letter case. */
static void
copy_question_spelling (guint8 *out, gsize qend, const guint8 *query, gsize query_len)
{
  if (query_len < qend || pc_dns_question_end (query, query_len) != qend)
    return;
  for (gsize i = PC_DNS_HEADER_LEN; i < qend; i++)
    if (g_ascii_tolower (out[i]) != g_ascii_tolower (query[i]))
      return;
  memcpy (out + PC_DNS_HEADER_LEN, query + PC_DNS_HEADER_LEN, qend - PC_DNS_HEADER_LEN);
}

GBytes *
pc_dns_reply_for_query (GBytes *reply, const guint8 *query_wire, gsize query_len)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (reply, &len);
  guint8 *out;

  if (len < PC_DNS_HEADER_LEN || query_len < 2)
    return g_bytes_ref (reply);
  out = g_memdup2 (data, len);
  out[0] = query_wire[0];
  out[1] = query_wire[1];
  copy_question_spelling (out, pc_dns_question_end (out, len), query_wire, query_len);
  return g_bytes_new_take (out, len);
}

PcDnsCacheResult
pc_dns_cache_lookup (PcDnsCache *self,
                     const PcDnsMessage *query,
                     const guint8 *query_wire,
                     gsize query_len,
                     GBytes **reply)
{
  char key[KEY_LEN];
  Entry *e;
  gint64 now;
  guint32 elapsed;
  guint8 *out;
  PcDnsCacheResult result = PC_DNS_CACHE_HIT;

  *reply = NULL;
  if (!make_key (query, key) || (e = g_hash_table_lookup (self->entries, key)) == NULL)
    {
      self->stats.misses++;
      return PC_DNS_CACHE_MISS;
    }
  now = now_us (self);
  if (now >= e->expires_at)
    {
      remove_entry (self, e);
      self->stats.misses++;
      return PC_DNS_CACHE_MISS;
    }
  g_queue_unlink (&self->lru, &e->link);
  g_queue_push_head_link (&self->lru, &e->link);
  e->hits++;
  self->stats.hits++;

  elapsed = (guint32)((now - e->stored_at) / G_USEC_PER_SEC);
  out = g_memdup2 (e->wire, e->len);
  put_u16 (out, query->id);
  copy_question_spelling (out, e->qend, query_wire, query_len);
  for (guint i = 0; i < e->ttls->len; i++)
    {
      TtlSlot *slot = &g_array_index (e->ttls, TtlSlot, i);
      guint32 ttl = MIN (slot->ttl, e->ttl);

      ttl = ttl > elapsed ? ttl - elapsed : 0;
      out[slot->offset] = (guint8)(ttl >> 24);
      out[slot->offset + 1] = (guint8)(ttl >> 16);
      out[slot->offset + 2] = (guint8)(ttl >> 8);
      out[slot->offset + 3] = (guint8)ttl;
    }
  *reply = g_bytes_new_take (out, e->len);

  if (!e->prefetch_reported && e->hits >= self->config.prefetch_min_hits
      && (e->expires_at - now) * 100
             <= (gint64)e->ttl * G_USEC_PER_SEC * self->config.prefetch_percent
      && !g_hash_table_contains (self->flights, key))
    {
      e->prefetch_reported = TRUE;
      self->stats.prefetches++;
      result = PC_DNS_CACHE_HIT_PREFETCH;
    }
  return result;
}

static guint32
clamp_ttl (guint32 ttl, guint32 lo, guint32 hi)
{
  return CLAMP (ttl, lo, MAX (lo, hi));
}

gboolean
pc_dns_cache_insert (PcDnsCache *self, const PcDnsMessage *query, GBytes *reply)
{
  char key[KEY_LEN];
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (reply, &len);
  g_autoptr (PcDnsMessage) msg = NULL;
  g_autoptr (GArray) ttls = NULL;
  guint rcode;
  guint32 ttl = G_MAXUINT32;
  gboolean negative;
  Entry *e, *old;
  guint hits = 0;

  if (!make_key (query, key) || g_array_index (query->questions, PcDnsQuestion, 0).klass != 1)
    return FALSE;
  msg = pc_dns_message_parse (data, len, NULL);
  if (msg == NULL || (msg->flags & PC_DNS_FLAG_TC) || msg->questions->len != 1)
    return FALSE;
  rcode = PC_DNS_RCODE (msg->flags);
  if (rcode != PC_DNS_RCODE_NOERROR && rcode != PC_DNS_RCODE_NXDOMAIN)
    return FALSE;
  if (len + ENTRY_OVERHEAD > self->config.max_bytes)
    return FALSE;

  ttls = g_array_new (FALSE, FALSE, sizeof (TtlSlot));
  for (guint s = 0; s < PC_DNS_N_SECTIONS; s++)
    for (guint i = 0; i < msg->sections[s]->len; i++)
      {
        PcDnsRecord *rec = &g_array_index (msg->sections[s], PcDnsRecord, i);
        TtlSlot slot = { rec->ttl_offset, rec->ttl };

        g_array_append_val (ttls, slot);
        if (s != PC_DNS_SECTION_ADDITIONAL)
          ttl = MIN (ttl, rec->ttl);
      }

  negative = rcode == PC_DNS_RCODE_NXDOMAIN || msg->sections[PC_DNS_SECTION_ANSWER]->len == 0;
  if (negative)
    {
      guint32 neg;

      if (pc_dns_message_negative_ttl (msg, &neg))
        ttl = clamp_ttl (neg, self->config.min_ttl, self->config.neg_max_ttl);
      else
        ttl = self->config.neg_default_ttl;
    }
  else
    ttl = clamp_ttl (ttl, self->config.min_ttl, self->config.max_ttl);

  old = g_hash_table_lookup (self->entries, key);
  if (old != NULL)
    {
      hits = old->hits;
      remove_entry (self, old);
    }

  e = g_new0 (Entry, 1);
  e->key = g_strdup (key);
  e->link.data = e;
  e->len = len;
  e->wire = g_memdup2 (data, len);
  e->qend = pc_dns_question_end (data, len);
  e->ttls = g_steal_pointer (&ttls);
  e->stored_at = now_us (self);
  e->ttl = ttl;
  e->expires_at = e->stored_at + (gint64)ttl * G_USEC_PER_SEC;
  /* the hit count survives a refresh, so a popular name stays prefetched */
  e->hits = hits;
  g_hash_table_insert (self->entries, e->key, e);
  g_queue_push_head_link (&self->lru, &e->link);
  self->stats.entries++;
  self->stats.bytes += len + ENTRY_OVERHEAD;

  while (self->stats.bytes > self->config.max_bytes && self->lru.tail != NULL)
    {
      remove_entry (self, self->lru.tail->data);
      self->stats.evictions++;
    }
  return TRUE;
}

void
pc_dns_cache_flush (PcDnsCache *self)
{
  g_queue_init (&self->lru);
  g_hash_table_remove_all (self->entries);
  self->stats.entries = 0;
  self->stats.bytes = 0;
}

gboolean
pc_dns_cache_join (PcDnsCache *self,
                   const PcDnsMessage *query,
                   PcDnsCacheWaitFunc func,
                   gpointer user_data)
{
  char key[KEY_LEN];
  GArray *waiters;
  Waiter w = { func, user_data };

  if (!make_key (query, key))
    return FALSE; /* nothing to share: the caller asks alone and never calls finish */
  waiters = g_hash_table_lookup (self->flights, key);
  if (waiters == NULL)
    {
      g_hash_table_insert (self->flights, g_strdup (key),
                           g_array_new (FALSE, FALSE, sizeof (Waiter)));
      return FALSE;
    }
  g_array_append_val (waiters, w);
  self->stats.coalesced++;
  return TRUE;
}

void
pc_dns_cache_finish (PcDnsCache *self, const PcDnsMessage *query, GBytes *reply)
{
  char key[KEY_LEN];
  gpointer orig_key = NULL, value = NULL;
  g_autoptr (GArray) waiters = NULL;
  g_autofree char *owned_key = NULL;

  if (!make_key (query, key))
    return;
  if (reply != NULL)
    pc_dns_cache_insert (self, query, reply);
  else
    {
      /* a failed refresh must not leave the entry marked as being prefetched */
      Entry *e = g_hash_table_lookup (self->entries, key);
      if (e != NULL)
        e->prefetch_reported = FALSE;
    }
  if (!g_hash_table_steal_extended (self->flights, key, &orig_key, &value))
    return;
  owned_key = orig_key;
  waiters = value;
  for (guint i = 0; i < waiters->len; i++)
    g_array_index (waiters, Waiter, i).func (reply, g_array_index (waiters, Waiter, i).user_data);
}

void
pc_dns_cache_get_stats (PcDnsCache *self, PcDnsCacheStats *stats)
{
  *stats = self->stats;
}
