/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The suffix hash: the name is read right to left, one byte at a time, through FNV-1a started
 * from a random key; at each label boundary the running state is finalised (fmix64 with a
 * second key) into the key of that suffix. Building and looking up use the same pass, so the
 * key of "example.com" is the same whether it was added as a name or reached as the parent of
 * "ads.example.com". */
#define G_LOG_DOMAIN "portcullis-intel"

#include "pc-domain-set.h"

#include <string.h>

#include "pc-key-table.h"

#define FNV_PRIME G_GUINT64_CONSTANT (0x100000001b3)

struct _PcDomainSet
{
  gatomicrefcount ref_count;
  guint64 seed;     /* FNV start state */
  guint64 fin_seed; /* mixed in when a suffix is finalised */
  PcKeyTable table;
};

struct _PcDomainSetBuilder
{
  PcDomainSet *set;
};

static const guint8 lower_table[256] = {
#define R(x) x, x + 1, x + 2, x + 3, x + 4, x + 5, x + 6, x + 7
  R (0x00), R (0x08), R (0x10), R (0x18), R (0x20), R (0x28), R (0x30), R (0x38), 0x40,
  'a',      'b',      'c',      'd',      'e',      'f',      'g',      'h',      'i',
  'j',      'k',      'l',      'm',      'n',      'o',      'p',      'q',      'r',
  's',      't',      'u',      'v',      'w',      'x',      'y',      'z',      0x5b,
  0x5c,     0x5d,     0x5e,     0x5f,     R (0x60), R (0x68), R (0x70), R (0x78), R (0x80),
  R (0x88), R (0x90), R (0x98), R (0xa0), R (0xa8), R (0xb0), R (0xb8), R (0xc0), R (0xc8),
  R (0xd0), R (0xd8), R (0xe0), R (0xe8), R (0xf0), R (0xf8),
#undef R
};

static inline guint64
finish_key (const PcDomainSet *self, guint64 h)
{
  return pc_key_mix (h ^ self->fin_seed);
}

static PcDomainSet *
domain_set_new (gsize expected)
{
  PcDomainSet *self = g_new0 (PcDomainSet, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->seed = pc_key_random_seed ();
  self->fin_seed = pc_key_random_seed ();
  pc_key_table_init (&self->table, expected);
  return self;
}

static inline gsize
name_length (const char *name, gssize len)
{
  gsize n = len < 0 ? strlen (name) : (gsize)len;

  if (n > 0 && name[n - 1] == '.')
    n--;
  return n;
}

static guint64
full_key (const PcDomainSet *self, const char *name, gsize len)
{
  guint64 h = self->seed;

  for (gsize i = len; i-- > 0;)
    h = (h ^ lower_table[(guint8)name[i]]) * FNV_PRIME;
  return finish_key (self, h);
}

PcDomainSetBuilder *
pc_domain_set_builder_new (gsize expected)
{
  PcDomainSetBuilder *builder = g_new0 (PcDomainSetBuilder, 1);

  builder->set = domain_set_new (expected);
  return builder;
}

void
pc_domain_set_builder_add (PcDomainSetBuilder *builder, const char *name, gssize len, guint32 mask)
{
  gsize n = name_length (name, len);

  if (n == 0 || mask == 0)
    return;
  pc_key_table_add (&builder->set->table, full_key (builder->set, name, n), mask);
}

PcDomainSet *
pc_domain_set_builder_finish (PcDomainSetBuilder *builder)
{
  PcDomainSet *set = g_steal_pointer (&builder->set);

  g_free (builder);
  return set;
}

void
pc_domain_set_builder_free (PcDomainSetBuilder *builder)
{
  if (builder == NULL)
    return;
  g_clear_pointer (&builder->set, pc_domain_set_unref);
  g_free (builder);
}

PcDomainSet *
pc_domain_set_new_empty (void)
{
  return domain_set_new (0);
}

PcDomainSet *
pc_domain_set_ref (PcDomainSet *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
pc_domain_set_unref (PcDomainSet *self)
{
  if (self == NULL || !g_atomic_ref_count_dec (&self->ref_count))
    return;
  pc_key_table_clear (&self->table);
  g_free (self);
}

gsize
pc_domain_set_get_size (const PcDomainSet *self)
{
  return self->table.n;
}

gsize
pc_domain_set_get_memory_size (const PcDomainSet *self)
{
  return sizeof *self + self->table.bytes;
}

/* Most suffixes of a name are not listed and each probe is a likely cache miss in a table of
 * tens of MiB, so all suffix keys are computed first and their slots prefetched: the misses
 * then overlap instead of queueing one behind the other. */
#define MAX_PREFETCH 16

guint32
pc_domain_set_lookup (const PcDomainSet *self, const char *name, gssize len)
{
  gsize n = name_length (name, len);
  guint64 h = self->seed;
  guint64 keys[MAX_PREFETCH];
  guint n_keys = 0;
  guint32 mask = 0;

  if (n == 0 || self->table.n == 0)
    return 0;
  for (gsize i = n; i-- > 0;)
    {
      guint8 c = lower_table[(guint8)name[i]];

      /* name[i + 1 .. n) is a complete, non-empty suffix */
      if (c == '.' && i + 1 < n)
        {
          guint64 k = finish_key (self, h);

          if (n_keys == MAX_PREFETCH)
            mask |= pc_key_table_get (&self->table, k);
          else
            {
              __builtin_prefetch (&self->table.keys[k & self->table.cap_mask]);
              keys[n_keys++] = k;
            }
        }
      h = (h ^ c) * FNV_PRIME;
    }
  mask |= pc_key_table_get (&self->table, finish_key (self, h));
  for (guint i = 0; i < n_keys; i++)
    mask |= pc_key_table_get (&self->table, keys[i]);
  return mask;
}

guint32
pc_domain_set_lookup_exact (const PcDomainSet *self, const char *name, gssize len)
{
  gsize n = name_length (name, len);

  if (n == 0)
    return 0;
  return pc_key_table_get (&self->table, full_key (self, name, n));
}
