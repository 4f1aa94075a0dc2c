/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-intel"

#include "pc-key-table.h"

#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>

#define MIN_CAPACITY 16

static gsize
capacity_for (gsize n)
{
  gsize cap = MIN_CAPACITY;

  /* at most half full */
  while (cap < n * 2)
    cap *= 2;
  return cap;
}

static void
alloc_slots (PcKeyTable *t, gsize cap)
{
  t->keys = g_new0 (guint64, cap);
  t->masks = g_new0 (guint32, cap);
  t->cap_mask = cap - 1;
  t->n = 0;
  t->bytes = cap * (sizeof (guint64) + sizeof (guint32));
#ifdef MADV_HUGEPAGE
  /* big tables are probed at random: huge pages save a TLB miss per probe where the kernel
   * offers them (transparent_hugepage=madvise); harmless elsewhere */
  if (cap * sizeof (guint64) >= 4 * 1024 * 1024)
    {
      gsize page = 2 * 1024 * 1024;
      guintptr start = ((guintptr)t->keys + page - 1) & ~(guintptr)(page - 1);
      guintptr end = ((guintptr)t->keys + cap * sizeof (guint64)) & ~(guintptr)(page - 1);

      if (end > start)
        madvise ((void *)start, end - start, MADV_HUGEPAGE);
    }
#endif
}

void
pc_key_table_init (PcKeyTable *t, gsize expected)
{
  memset (t, 0, sizeof *t);
  alloc_slots (t, capacity_for (expected));
}

void
pc_key_table_clear (PcKeyTable *t)
{
  g_clear_pointer (&t->keys, g_free);
  g_clear_pointer (&t->masks, g_free);
  t->n = 0;
  t->cap_mask = 0;
  t->bytes = 0;
}

static void
insert (PcKeyTable *t, guint64 key, guint32 mask)
{
  gsize i;

  for (i = key & t->cap_mask; t->keys[i] != 0; i = (i + 1) & t->cap_mask)
    if (t->keys[i] == key)
      {
        t->masks[i] |= mask;
        return;
      }
  t->keys[i] = key;
  t->masks[i] = mask;
  t->n++;
}

void
pc_key_table_add (PcKeyTable *t, guint64 key, guint32 mask)
{
  if (key == 0)
    key = 1;
  if ((t->n + 1) * 2 > t->cap_mask + 1)
    {
      PcKeyTable old = *t;

      alloc_slots (t, (old.cap_mask + 1) * 2);
      for (gsize i = 0; i <= old.cap_mask; i++)
        if (old.keys[i] != 0)
          insert (t, old.keys[i], old.masks[i]);
      pc_key_table_clear (&old);
    }
  insert (t, key, mask);
}

guint64
pc_key_random_seed (void)
{
  guint64 seed = 0;

  if (getrandom (&seed, sizeof seed, 0) != sizeof seed)
    seed = ((guint64)g_random_int () << 32) ^ g_random_int () ^ (guint64)g_get_monotonic_time ();
  return seed;
}
