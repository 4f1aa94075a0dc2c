/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Filter-list intelligence for the policy: categories, the loaded lists, the user's custom list,
 * and the question the decision asks on the packet and DNS paths.
 *
 * For the policy engine (DESIGN.md "Decision", step "filter lists", and rules "L:ID"):
 *
 *   pc_intel_match (intel, "TRAC", domain, cnames, &raddr)
 *
 * is TRUE when the flow's domain, or any of its parent domains, or any name of its CNAME chain
 * (or a parent of one) is on list TRAC, or the remote address is in one of TRAC's IP/CIDR
 * blocks - and the UNBREAK allow-list does not cover the flow's domain (UNBREAK on the domain
 * the program asked for, or on a parent of it, wins over every block; UNBREAK on a CNAME target
 * only clears that target). Any of domain, cnames, addr may be NULL. It is thread-safe, takes no
 * lock (it never waits, not even for a swap in progress) and does not allocate.
 *
 *   - as the rule matcher's callback: PcMatchInput.in_list = pc_intel_rule_in_list_cb,
 *     PcMatchInput.user_data = intel (it reads input->domain, ->cnames and ->key->raddr);
 *   - for the filter-lists step: for each id of the profile's effective `filter-lists`
 *     setting, pc_intel_match(); or, once per flow, mask = pc_intel_lookup() and
 *     pc_intel_mask_blocks (mask, enabled_mask) with enabled_mask from
 *     pc_intel_mask_from_ids (filter_lists). The verdict's reason names the list:
 *     pc_intel_first_category (mask & enabled) gives the id ("list TRAC").
 *
 * List ids are the category ids below, compared without regard to case. The user's custom list
 * (setting `custom-list`) is category CUSTOM: enable it by listing "CUSTOM" in filter-lists, as
 * the shipped default settings should. AdBlock exception rules ("@@||name^") in any list and in
 * the custom list go to UNBREAK.
 *
 * Loading (pc_intel_load_dir, the custom list, signed updates in pc-intel-update.h) builds new
 * sets off the hot path and swaps them in as a whole: a lookup sees either the old data or the
 * new, never a mixture. A load that fails keeps the previous data and says why (GError and
 * pc_intel_dup_status()). The object itself (file monitor, "changed" signal) belongs to the
 * thread whose main context was current when it was created. */
#pragma once

#include <gio/gio.h>

#include "pc-net.h"

G_BEGIN_DECLS

typedef struct _PcMatchInput PcMatchInput;

typedef enum
{
  PC_INTEL_ADS = 1u << 0,
  PC_INTEL_TRAC = 1u << 1,
  PC_INTEL_MAL = 1u << 2,
  PC_INTEL_PHISH = 1u << 3,
  PC_INTEL_CRYPTOMINING = 1u << 4,
  PC_INTEL_P2P = 1u << 5,
  PC_INTEL_DNS_BYPASS = 1u << 6,
  PC_INTEL_UNBREAK = 1u << 7,
  PC_INTEL_TEST = 1u << 8,
  PC_INTEL_CUSTOM = 1u << 9,
} PcIntelCategoryBit;

typedef struct
{
  const char *id;          /* "ADS", "TRAC", ... as used in L:ID and filter-lists */
  guint32 bit;             /* PcIntelCategoryBit */
  const char *name;        /* short, translatable English */
  const char *description; /* one sentence */
} PcIntelCategory;

/* All categories, in a fixed order. */
const PcIntelCategory *pc_intel_get_categories (guint *n_categories);
/* The category with this id (any case), or NULL. */
const PcIntelCategory *pc_intel_category_lookup (const char *id);
/* OR of the bits of the ids (unknown ids are ignored; *unknown, if given, gets the first). */
guint32 pc_intel_mask_from_ids (const char *const *ids, const char **unknown);
/* The id of the lowest category bit in mask (not UNBREAK), or NULL. */
const char *pc_intel_first_category (guint32 mask);
/* TRUE if a lookup mask blocks under the enabled categories: some enabled bit is set and
 * UNBREAK is not. */
static inline gboolean
pc_intel_mask_blocks (guint32 lookup_mask, guint32 enabled)
{
  return (lookup_mask & enabled & ~(guint32)PC_INTEL_UNBREAK) != 0
         && (lookup_mask & PC_INTEL_UNBREAK) == 0;
}

#define PC_TYPE_INTEL (pc_intel_get_type ())
G_DECLARE_FINAL_TYPE (PcIntel, pc_intel, PC, INTEL, GObject)

/* Empty: nothing is listed until data is loaded. */
PcIntel *pc_intel_new (void);

/* Loads a list directory: DIR/index.json names the list files with their categories, format,
 * size and sha256 (see pc-intel.c for the format); every file must match its size and sum.
 * All or nothing: on error the current data stays. Used for the shipped lists
 * (data/lists, installed to $datadir/portcullis/lists) and for verified updates. */
gboolean pc_intel_load_dir (PcIntel *self, const char *dir, GError **error);
/* Where the shipped lists are installed ($datadir/portcullis/lists). At start-up the helper
 * loads the last verified update (pc_intel_updater_load_installed) and, failing that, this. */
const char *pc_intel_get_shipped_dir (void);
/* The directory the current base data came from, or NULL. */
char *pc_intel_dup_data_dir (PcIntel *self);
/* The "serial" of the loaded index (0 when none). */
gint64 pc_intel_get_serial (PcIntel *self);

/* The user's custom list (any list format, one entry per line), category CUSTOM; NULL or ""
 * removes it. The file is watched and reloaded when it changes; a missing or unreadable file
 * is an empty list and reported in the status. Returns FALSE (and keeps the list empty) if the
 * file cannot be read now. */
gboolean pc_intel_set_custom_list (PcIntel *self, const char *path, GError **error);

/* The categories listing the domain (or a parent), any CNAME (or a parent) and the address;
 * UNBREAK set only when it covers the domain itself. Thread-safe, no allocation. */
guint32
pc_intel_lookup (PcIntel *self, const char *domain, const char *const *cnames, const PcAddr *addr);
/* See the top of this file. FALSE for an unknown list id. */
gboolean pc_intel_match (PcIntel *self,
                         const char *list_id,
                         const char *domain,
                         const char *const *cnames,
                         const PcAddr *addr);
/* PcListLookupFunc for PcMatchInput.in_list (user_data: the PcIntel). */
gboolean
pc_intel_rule_in_list_cb (const char *list_id, const PcMatchInput *input, gpointer user_data);

/* Status for D-Bus and portcullisctl, an a{sv}:
 *   data-dir s, serial x, domains t, networks t, memory t (bytes),
 *   lists aa{sv} (id s, file s, categories as, format s, domains u, networks u, rejected u,
 *                 first-rejected-line u, first-rejected-reason s),
 *   custom-list s, custom-domains u, custom-networks u, custom-rejected u, custom-error s,
 *   last-error s (the last failed load, "" if none). */
GVariant *pc_intel_dup_status (PcIntel *self);
/* Records why a load or update failed (shown as last-error); NULL clears it. */
void pc_intel_set_last_error (PcIntel *self, const char *message);

G_END_DECLS
