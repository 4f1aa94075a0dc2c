/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PcStore: the policy database (sqlite, WAL, synchronous=FULL). Items are GVariants stored by
 * (kind, id), e.g. ("global", "block-lan") or ("profile", "curl"); changes are durable when a
 * call (or pc_store_commit) returns TRUE. A database that sqlite reports corrupt, or that is
 * not a database at all, is renamed aside and a fresh one created; the caller gets the reason
 * and the new name as a problem to show, never a silent wipe. Main thread only. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _PcStore PcStore;

/* Opens or creates PATH. *problem (may be NULL) receives a message when a corrupt database was
 * moved aside. Fails only when no database can be created at PATH. */
PcStore *pc_store_open (const char *path, char **problem, GError **error);
void pc_store_free (PcStore *self);

/* Transactions group several puts/deletes into one durable change (nesting not supported). */
gboolean pc_store_begin (PcStore *self, GError **error);
gboolean pc_store_commit (PcStore *self, GError **error);
void pc_store_rollback (PcStore *self);

/* Outside a transaction each of these is its own transaction. */
gboolean
pc_store_put (PcStore *self, const char *kind, const char *id, GVariant *value, GError **error);
gboolean pc_store_delete (PcStore *self, const char *kind, const char *id, GError **error);
gboolean pc_store_delete_kind (PcStore *self, const char *kind, GError **error);
/* id -> GVariant of every item of KIND. Items that do not parse are left out and reported
 * in *problems (a GPtrArray of char*, may be NULL). */
GHashTable *pc_store_load (PcStore *self, const char *kind, GPtrArray *problems, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcStore, pc_store_free)

G_END_DECLS
