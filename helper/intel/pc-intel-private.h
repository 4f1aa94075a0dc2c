/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The list index (index.json) shared by PcIntel and the signed updater. */
#pragma once

#include <glib.h>

#include "pc-list-parser.h"

G_BEGIN_DECLS

typedef struct
{
  char *id;   /* short name of the list, e.g. "ads" */
  char *file; /* plain file name in the same directory */
  PcListFormat format;
  guint32 categories; /* PcIntelCategoryBit mask, never 0 */
  guint64 size;
  char *sha256;      /* 64 lower-case hex digits */
  char *description; /* may be "" */
} PcIntelIndexEntry;

typedef struct
{
  gint64 serial;
  GPtrArray *entries; /* PcIntelIndexEntry */
} PcIntelIndex;

/* Largest list file and index accepted (a bound for downloads too). */
#define PC_INTEL_MAX_FILE_SIZE (G_GUINT64_CONSTANT (256) * 1024 * 1024)
#define PC_INTEL_MAX_INDEX_SIZE (1024 * 1024)

PcIntelIndex *pc_intel_index_parse (const char *data, gsize len, GError **error);
void pc_intel_index_free (PcIntelIndex *index);
/* Checks size and sha256 of data against entry. */
gboolean pc_intel_index_entry_check (const PcIntelIndexEntry *entry,
                                     const char *data,
                                     gsize len,
                                     GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcIntelIndex, pc_intel_index_free)

G_END_DECLS
