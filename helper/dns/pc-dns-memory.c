/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-dns"

#include "pc-dns-memory.h"

#include <string.h>

typedef struct
{
  pid_t pid; /* 0 for the global entry */
  PcAddr addr;
} Key;

typedef struct
{
  Key key;
  char *domain;
  gint64 expires_at;
} Entry;

struct _PcDnsMemory
{
  GMutex lock;
  GHashTable *entries; /* Key -> Entry (the entry holds its key) */
  guint max_entries;
  PcDnsMemoryClockFunc clock;
  gpointer clock_data;
};

static guint
key_hash (gconstpointer p)
{
  const Key *k = p;
  guint h = (guint)k->pid * 2654435761u ^ k->addr.family;

  for (guint i = 0; i < (k->addr.family == AF_INET ? 4u : 16u); i++)
    h = h * 31 + k->addr.b[i];
  return h;
}

static gboolean
key_equal (gconstpointer a, gconstpointer b)
{
  const Key *x = a, *y = b;

  return x->pid == y->pid && pc_addr_equal (&x->addr, &y->addr);
}

static void
entry_free (gpointer p)
{
  Entry *e = p;

  g_free (e->domain);
  g_free (e);
}

static gint64
now_us (PcDnsMemory *self)
{
  return self->clock != NULL ? self->clock (self->clock_data) : g_get_monotonic_time ();
}

PcDnsMemory *
pc_dns_memory_new (guint max_entries, PcDnsMemoryClockFunc clock, gpointer clock_data)
{
  PcDnsMemory *self = g_new0 (PcDnsMemory, 1);

  g_mutex_init (&self->lock);
  self->entries = g_hash_table_new_full (key_hash, key_equal, NULL, entry_free);
  self->max_entries = MAX (max_entries, 16);
  self->clock = clock;
  self->clock_data = clock_data;
  return self;
}

void
pc_dns_memory_free (PcDnsMemory *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->entries);
  g_mutex_clear (&self->lock);
  g_free (self);
}

/* Makes room: drops every expired entry, and if that was not enough the one closest to
 * expiry. A full scan, but only when the table is full: amortised over max_entries inserts
 * unless everything is fresh. */
static void
make_room (PcDnsMemory *self, gint64 now)
{
  GHashTableIter iter;
  gpointer value;
  Entry *soonest = NULL;

  g_hash_table_iter_init (&iter, self->entries);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Entry *e = value;

      if (e->expires_at <= now)
        g_hash_table_iter_remove (&iter);
      else if (soonest == NULL || e->expires_at < soonest->expires_at)
        soonest = e;
    }
  if (g_hash_table_size (self->entries) >= self->max_entries && soonest != NULL)
    g_hash_table_remove (self->entries, &soonest->key);
}

static void
put (PcDnsMemory *self,
     pid_t pid,
     const PcAddr *addr,
     const char *domain,
     gint64 expires_at,
     gint64 now)
{
  Key k = { .pid = pid };
  Entry *e;

  k.addr.family = addr->family;
  memcpy (k.addr.b, addr->b, addr->family == AF_INET ? 4 : 16);
  e = g_hash_table_lookup (self->entries, &k);
  if (e == NULL)
    {
      if (g_hash_table_size (self->entries) >= self->max_entries)
        make_room (self, now);
      e = g_new0 (Entry, 1);
      e->key = k;
      g_hash_table_insert (self->entries, &e->key, e);
    }
  if (e->domain == NULL || strcmp (e->domain, domain) != 0)
    {
      g_free (e->domain);
      e->domain = g_strdup (domain);
    }
  e->expires_at = expires_at;
}

void
pc_dns_memory_add (
    PcDnsMemory *self, pid_t pid, const PcAddr *addr, const char *domain, guint32 ttl)
{
  gint64 now;
  gint64 expires_at;

  g_mutex_lock (&self->lock);
  now = now_us (self);
  expires_at = now + (gint64)MAX (ttl, PC_DNS_MEMORY_MIN_TTL) * G_USEC_PER_SEC;
  if (pid > 0)
    put (self, pid, addr, domain, expires_at, now);
  put (self, 0, addr, domain, expires_at, now);
  g_mutex_unlock (&self->lock);
}

gboolean
pc_dns_memory_lookup (PcDnsMemory *self, pid_t pid, const PcAddr *addr, char *domain_out, gsize len)
{
  Key k = { .pid = pid };
  Entry *e = NULL;
  gboolean found = FALSE;
  gint64 now;

  k.addr.family = addr->family;
  memcpy (k.addr.b, addr->b, addr->family == AF_INET ? 4 : 16);
  g_mutex_lock (&self->lock);
  now = now_us (self);
  if (pid > 0)
    e = g_hash_table_lookup (self->entries, &k);
  if (e == NULL || e->expires_at <= now)
    {
      k.pid = 0;
      e = g_hash_table_lookup (self->entries, &k);
    }
  if (e != NULL && e->expires_at > now)
    {
      g_strlcpy (domain_out, e->domain, len);
      found = TRUE;
    }
  g_mutex_unlock (&self->lock);
  return found;
}

guint
pc_dns_memory_get_size (PcDnsMemory *self)
{
  guint n;

  g_mutex_lock (&self->lock);
  n = g_hash_table_size (self->entries);
  g_mutex_unlock (&self->lock);
  return n;
}

void
pc_dns_memory_clear (PcDnsMemory *self)
{
  g_mutex_lock (&self->lock);
  g_hash_table_remove_all (self->entries);
  g_mutex_unlock (&self->lock);
}
