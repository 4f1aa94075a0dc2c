/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The history and bandwidth methods of the D-Bus service. Queries run in a worker thread, so
 * the main loop never waits on sqlite; replies may be sent from any thread. */
#pragma once

#include <gio/gio.h>

#include "pc-history.h"

G_BEGIN_DECLS

/* SearchHistory (a{sv} query) -> (aa{sv} rows) */
void pc_service_history_search (PcHistory *history,
                                GDBusMethodInvocation *invocation,
                                GVariant *parameters);
/* CountHistory (a{sv} query, s group_by) -> (a(st) counts) */
void pc_service_history_count (PcHistory *history,
                               GDBusMethodInvocation *invocation,
                               GVariant *parameters);
/* GetBandwidth (s app, x since, x until, u step) -> (a(xtt) series) */
void pc_service_history_bandwidth (PcHistory *history,
                                   GDBusMethodInvocation *invocation,
                                   GVariant *parameters);
/* DeleteHistory (s app, x since, x until) -> (x deleted) */
void pc_service_history_delete (PcHistory *history,
                                GDBusMethodInvocation *invocation,
                                GVariant *parameters);
/* ExportHistory (a{sv} query, s format) -> (ay data) */
void pc_service_history_export (PcHistory *history,
                                GDBusMethodInvocation *invocation,
                                GVariant *parameters);

/* Parses a query dictionary: text s, app s, verdict s ("allowed" | "blocked"), direction s
 * ("in" | "out"), protocol s ("tcp" | "udp" | "icmp" | number), country s, since x, until x
 * (µs since the epoch), offset u, limit u. Strings in the result point into dict. */
gboolean pc_service_history_parse_query (GVariant *dict, PcHistoryQuery *query, GError **error);

G_END_DECLS
