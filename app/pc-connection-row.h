/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* One record of ListConnections/ConnectionsChanged, parsed in one pass; the strings belong to
 * values the record holds until pc_record_clear(). */
typedef struct
{
  guint64 id;
  guint64 bytes_in;
  guint64 bytes_out;
  gint64 started;
  gint64 ended;
  guint16 remote_port;
  const char *profile;
  const char *app_kind;
  const char *app_id;
  const char *exe;
  const char *comm;
  const char *protocol;
  const char *domain;
  const char *country;
  const char *remote_address;
  const char *direction;
  const char *verdict;
  const char *reason;
  gboolean has_bytes;
  gboolean has_ended;
  GVariant *keep[24];
  guint n_keep;
} PcRecord;

void pc_record_parse (GVariant *record, PcRecord *out);
void pc_record_clear (PcRecord *record);

#define PC_TYPE_CONNECTION_ROW (pc_connection_row_get_type ())
G_DECLARE_FINAL_TYPE (PcConnectionRow, pc_connection_row, PC, CONNECTION_ROW, GObject)

/* One connection of the Monitor table, made from a record of ListConnections or
 * ConnectionsChanged and updated in place by later records of the same id. profile_hint is the
 * profile to show when the record has none (found by the program's fingerprint). */
PcConnectionRow *pc_connection_row_new (const PcRecord *record, const char *profile_hint);
/* a record's program, to find its profile by fingerprint */
const char *pc_connection_row_get_exe (PcConnectionRow *self);
const char *pc_connection_row_get_app_id (PcConnectionRow *self);
/* Applies a newer record; returns TRUE when something visible changed (notifies per property).
 * *bytes_delta_in/out get the traffic since the previous record. */
gboolean pc_connection_row_update (PcConnectionRow *self,
                                   const PcRecord *record,
                                   guint64 *bytes_delta_in,
                                   guint64 *bytes_delta_out);

guint64 pc_connection_row_get_id (PcConnectionRow *self);
/* the profile the helper made for the program after its first connections */
void pc_connection_row_set_profile (PcConnectionRow *self, const char *profile);
/* the id's address, a key for g_int64_hash tables that lives as long as the row */
const guint64 *pc_connection_row_peek_id (PcConnectionRow *self);
const char *pc_connection_row_get_app_key (PcConnectionRow *self);
const char *pc_connection_row_get_profile (PcConnectionRow *self);
const char *pc_connection_row_get_fallback_name (PcConnectionRow *self);
const char *pc_connection_row_get_endpoint (PcConnectionRow *self);
const char *pc_connection_row_get_domain (PcConnectionRow *self);
const char *pc_connection_row_get_remote_address (PcConnectionRow *self);
const char *pc_connection_row_get_port (PcConnectionRow *self);
const char *pc_connection_row_get_verdict (PcConnectionRow *self);
const char *pc_connection_row_get_reason (PcConnectionRow *self);
gboolean pc_connection_row_is_blocked (PcConnectionRow *self);
gboolean pc_connection_row_is_inbound (PcConnectionRow *self);
gboolean pc_connection_row_is_live (PcConnectionRow *self);
gint64 pc_connection_row_get_ended (PcConnectionRow *self);
guint64 pc_connection_row_get_bytes (PcConnectionRow *self);
guint64 pc_connection_row_get_bytes_in (PcConnectionRow *self);
guint64 pc_connection_row_get_bytes_out (PcConnectionRow *self);
/* For the search entry: does any shown text contain needle (already casefolded)? */
gboolean pc_connection_row_matches (PcConnectionRow *self, const char *needle);

/* "1.2 kB"-style sizes and "1.2 kB/s" rates as the app shows them */
char *pc_format_bytes (guint64 bytes);

G_END_DECLS
