/* SPDX-License-Identifier: GPL-3.0-or-later */
/* An immutable set of domain names, each with a mask of up to 32 categories, answering "which
 * categories list this name or any of its parents" in a few hash probes.
 *
 * Only keyed 64-bit hashes of the names are stored (12 bytes per slot, at most half the slots
 * used: about 24 MiB for 1,000,000 names). A lookup makes one right-to-left pass over the
 * name and probes the table once per label suffix ("c.b.a", then "b.a", then "a"), ORing the
 * masks it finds. The hash key is random per set, so nobody can choose a name that collides
 * with a listed one on purpose; an accidental collision between two of 2^64 values is the only
 * way a name that is not listed could match.
 *
 * Build with a PcDomainSetBuilder off the hot path; the finished set never changes and can be
 * shared between threads (atomic refcount), so a new list is swapped in as a whole. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _PcDomainSet PcDomainSet;
typedef struct _PcDomainSetBuilder PcDomainSetBuilder;

/* expected: how many names will be added (a hint; the table grows as needed). */
PcDomainSetBuilder *pc_domain_set_builder_new (gsize expected);
/* Adds name (len bytes, or NUL-terminated when len is -1) with the categories in mask; adding a
 * name again ORs the masks. Case and one trailing dot are ignored; the caller validates names
 * (pc_list_normalize_domain) - the set stores whatever it is given. */
void
pc_domain_set_builder_add (PcDomainSetBuilder *builder, const char *name, gssize len, guint32 mask);
/* Frees the builder and returns the finished set (never NULL). */
PcDomainSet *pc_domain_set_builder_finish (PcDomainSetBuilder *builder);
void pc_domain_set_builder_free (PcDomainSetBuilder *builder);

/* An empty set. */
PcDomainSet *pc_domain_set_new_empty (void);
PcDomainSet *pc_domain_set_ref (PcDomainSet *self);
void pc_domain_set_unref (PcDomainSet *self);
gsize pc_domain_set_get_size (const PcDomainSet *self);        /* distinct names */
gsize pc_domain_set_get_memory_size (const PcDomainSet *self); /* bytes allocated */

/* OR of the masks of name and of each of its parent domains (0: not listed at all). name may be
 * in any case, with or without one trailing dot; len -1 means NUL-terminated. Lock-free, does
 * not allocate. */
guint32 pc_domain_set_lookup (const PcDomainSet *self, const char *name, gssize len);
/* The mask of exactly this name (no parents). */
guint32 pc_domain_set_lookup_exact (const PcDomainSet *self, const char *name, gssize len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcDomainSet, pc_domain_set_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcDomainSetBuilder, pc_domain_set_builder_free)

G_END_DECLS
