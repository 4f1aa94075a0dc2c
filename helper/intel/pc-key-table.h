/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The table under PcDomainSet and PcNetSet: open addressing with linear probing over 64-bit
 * keyed hashes, each with a 32-bit mask of categories. Keys are stored, never the names, so a
 * slot costs 12 bytes; the table is kept at most half full, so a miss usually probes one or two
 * neighbouring slots of one cache line. 0 marks an empty slot (a key that hashes to 0 is stored
 * as 1). Private to helper/intel. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  guint64 *keys;  /* capacity slots, 0 = empty */
  guint32 *masks; /* parallel to keys; only read when a key matched */
  gsize cap_mask; /* capacity - 1; capacity is a power of two */
  gsize n;        /* occupied slots */
  gsize bytes;    /* allocated bytes (keys + masks) */
} PcKeyTable;

void pc_key_table_init (PcKeyTable *t, gsize expected);
void pc_key_table_clear (PcKeyTable *t);
/* Adds key with mask, or ORs mask into an existing key's. */
void pc_key_table_add (PcKeyTable *t, guint64 key, guint32 mask);

/* 64-bit finaliser (MurmurHash3's fmix64): every input bit affects every output bit. */
static inline guint64
pc_key_mix (guint64 k)
{
  k ^= k >> 33;
  k *= G_GUINT64_CONSTANT (0xff51afd7ed558ccd);
  k ^= k >> 33;
  k *= G_GUINT64_CONSTANT (0xc4ceb9fe1a85ec53);
  k ^= k >> 33;
  return k != 0 ? k : 1;
}

static inline guint32
pc_key_table_get (const PcKeyTable *t, guint64 key)
{
  gsize i;

  if (t->n == 0)
    return 0;
  for (i = key & t->cap_mask; t->keys[i] != 0; i = (i + 1) & t->cap_mask)
    if (t->keys[i] == key)
      return t->masks[i];
  return 0;
}

/* A random 64-bit value from the kernel, to key the hashes (so nobody can pick names that
 * collide with listed ones). */
guint64 pc_key_random_seed (void);

G_END_DECLS
