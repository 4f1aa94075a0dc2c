/* SPDX-License-Identifier: GPL-3.0-or-later */
/* An immutable set of IPv4/IPv6 addresses and CIDR blocks, each with a mask of up to 32
 * categories: "which categories list a block containing this address". One keyed hash table of
 * (family, prefix length, network) and, per family, the set of prefix lengths that occur; a
 * lookup probes once per prefix length present (lists use few: /32, /24, /128, ...).
 * Build with a PcNetSetBuilder; the finished set is shared between threads read-only. */
#pragma once

#include <glib.h>

#include "pc-net.h"

G_BEGIN_DECLS

typedef struct _PcNetSet PcNetSet;
typedef struct _PcNetSetBuilder PcNetSetBuilder;

PcNetSetBuilder *pc_net_set_builder_new (void);
/* Adds addr/prefix_len (host bits are cleared; IPv4-mapped IPv6 with prefix >= 96 is stored
 * as IPv4). Returns FALSE, adding nothing, if prefix_len is too long for the family. */
gboolean pc_net_set_builder_add (PcNetSetBuilder *builder,
                                 const PcAddr *addr,
                                 guint prefix_len,
                                 guint32 mask);
PcNetSet *pc_net_set_builder_finish (PcNetSetBuilder *builder);
void pc_net_set_builder_free (PcNetSetBuilder *builder);

PcNetSet *pc_net_set_new_empty (void);
PcNetSet *pc_net_set_ref (PcNetSet *self);
void pc_net_set_unref (PcNetSet *self);
gsize pc_net_set_get_size (const PcNetSet *self);
gsize pc_net_set_get_memory_size (const PcNetSet *self);

/* OR of the masks of every listed block that contains addr (an IPv4-mapped IPv6 address is
 * looked up as IPv4). Lock-free, does not allocate. */
guint32 pc_net_set_lookup (const PcNetSet *self, const PcAddr *addr);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcNetSet, pc_net_set_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcNetSetBuilder, pc_net_set_builder_free)

G_END_DECLS
