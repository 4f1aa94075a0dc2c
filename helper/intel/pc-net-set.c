/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-intel"

#include "pc-net-set.h"

#include <string.h>

#include "pc-key-table.h"

struct _PcNetSet
{
  gatomicrefcount ref_count;
  guint64 seed;
  guint64 v4_lengths;    /* bit p: some IPv4 block has prefix length p (0-32) */
  guint64 v6_lengths[3]; /* bit p: some IPv6 block has prefix length p (0-128) */
  PcKeyTable table;
};

struct _PcNetSetBuilder
{
  PcNetSet *set;
};

static inline guint64
load_be64 (const guint8 *b)
{
  guint64 v;

  memcpy (&v, b, sizeof v);
  return GUINT64_FROM_BE (v);
}

static inline guint64
prefix_mask64 (guint bits)
{
  if (bits == 0)
    return 0;
  if (bits >= 64)
    return G_MAXUINT64;
  return G_MAXUINT64 << (64 - bits);
}

static inline guint64
v4_key (const PcNetSet *self, guint32 host_order, guint prefix_len)
{
  guint32 net = prefix_len == 0 ? 0 : host_order & (G_MAXUINT32 << (32 - prefix_len));

  return pc_key_mix (((guint64)net << 8 | prefix_len | G_GUINT64_CONSTANT (4) << 40) ^ self->seed);
}

static inline guint64
v6_key (const PcNetSet *self, guint64 hi, guint64 lo, guint prefix_len)
{
  hi &= prefix_mask64 (prefix_len);
  lo &= prefix_len > 64 ? prefix_mask64 (prefix_len - 64) : 0;
  return pc_key_mix (pc_key_mix (hi ^ self->seed) ^ lo ^ ((guint64)prefix_len << 56 | 6));
}

static PcNetSet *
net_set_new (void)
{
  PcNetSet *self = g_new0 (PcNetSet, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->seed = pc_key_random_seed ();
  pc_key_table_init (&self->table, 0);
  return self;
}

PcNetSetBuilder *
pc_net_set_builder_new (void)
{
  PcNetSetBuilder *builder = g_new0 (PcNetSetBuilder, 1);

  builder->set = net_set_new ();
  return builder;
}

gboolean
pc_net_set_builder_add (PcNetSetBuilder *builder,
                        const PcAddr *addr,
                        guint prefix_len,
                        guint32 mask)
{
  PcNetSet *self = builder->set;
  PcAddr a = *addr;

  if (a.family == AF_INET6 && IN6_IS_ADDR_V4MAPPED (&a.v6) && prefix_len >= 96 && prefix_len <= 128)
    {
      pc_addr_unmap (&a);
      prefix_len -= 96;
    }
  if (a.family == AF_INET)
    {
      if (prefix_len > 32)
        return FALSE;
      pc_key_table_add (&self->table, v4_key (self, g_ntohl (a.v4.s_addr), prefix_len), mask);
      self->v4_lengths |= G_GUINT64_CONSTANT (1) << prefix_len;
      return TRUE;
    }
  if (a.family == AF_INET6)
    {
      if (prefix_len > 128)
        return FALSE;
      pc_key_table_add (&self->table,
                        v6_key (self, load_be64 (a.b), load_be64 (a.b + 8), prefix_len), mask);
      self->v6_lengths[prefix_len / 64] |= G_GUINT64_CONSTANT (1) << (prefix_len % 64);
      return TRUE;
    }
  return FALSE;
}

PcNetSet *
pc_net_set_builder_finish (PcNetSetBuilder *builder)
{
  PcNetSet *set = g_steal_pointer (&builder->set);

  g_free (builder);
  return set;
}

void
pc_net_set_builder_free (PcNetSetBuilder *builder)
{
  if (builder == NULL)
    return;
  g_clear_pointer (&builder->set, pc_net_set_unref);
  g_free (builder);
}

PcNetSet *
pc_net_set_new_empty (void)
{
  return net_set_new ();
}

PcNetSet *
pc_net_set_ref (PcNetSet *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
pc_net_set_unref (PcNetSet *self)
{
  if (self == NULL || !g_atomic_ref_count_dec (&self->ref_count))
    return;
  pc_key_table_clear (&self->table);
  g_free (self);
}

gsize
pc_net_set_get_size (const PcNetSet *self)
{
  return self->table.n;
}

gsize
pc_net_set_get_memory_size (const PcNetSet *self)
{
  return sizeof *self + self->table.bytes;
}

guint32
pc_net_set_lookup (const PcNetSet *self, const PcAddr *addr)
{
  PcAddr a = *addr;
  guint32 mask = 0;

  if (self->table.n == 0)
    return 0;
  pc_addr_unmap (&a);
  if (a.family == AF_INET)
    {
      guint32 host = g_ntohl (a.v4.s_addr);

      for (guint64 bits = self->v4_lengths; bits != 0; bits &= bits - 1)
        mask |= pc_key_table_get (&self->table, v4_key (self, host, (guint)__builtin_ctzll (bits)));
    }
  else if (a.family == AF_INET6)
    {
      guint64 hi = load_be64 (a.b);
      guint64 lo = load_be64 (a.b + 8);

      for (guint w = 0; w < 3; w++)
        for (guint64 bits = self->v6_lengths[w]; bits != 0; bits &= bits - 1)
          mask |= pc_key_table_get (&self->table,
                                    v6_key (self, hi, lo, w * 64 + (guint)__builtin_ctzll (bits)));
    }
  return mask;
}
