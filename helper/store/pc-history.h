/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Network history: every connection and per-app bandwidth, in sqlite (WAL) under the state dir.
 * A dedicated writer thread commits batches; recording never blocks the caller and never runs
 * on the packet path. Queries use their own read connection and may run in any thread. */
#pragma once

#include <gio/gio.h>

#include "pc-connection.h"

G_BEGIN_DECLS

typedef struct _PcHistory PcHistory;

typedef struct
{
  const char *text;    /* free text over app, exe, domain and address (FTS5 syntax); NULL: any */
  const char *app;     /* exact app (profile id or app identity); NULL: any */
  gint verdict;        /* 1 allowed, 0 blocked, -1 any */
  gint direction;      /* PcDirection, -1 any */
  gint proto;          /* IPPROTO_*, -1 any */
  const char *country; /* NULL: any */
  gint64 since;        /* µs since the epoch, inclusive; 0: no bound */
  gint64 until;        /* exclusive; 0: no bound */
  guint offset;
  guint limit; /* 0: 100 */
} PcHistoryQuery;

#define PC_HISTORY_QUERY_INIT                                                                      \
  {                                                                                                \
    NULL, NULL, -1, -1, -1, NULL, 0, 0, 0, 0                                                       \
  }

typedef struct
{
  guint backlog;      /* rows queued and not yet committed */
  guint64 written;    /* rows committed since start */
  guint64 dropped;    /* rows lost because the backlog was full (should stay 0) */
  gint64 last_commit; /* µs since the epoch */
} PcHistoryStatus;

/* Opens or creates the database; a corrupt file is moved aside to PATH.corrupt-TIMESTAMP and a
 * fresh one created (the reason is returned in *problem, to show in status). */
PcHistory *pc_history_new (const char *path, char **problem, GError **error);
void pc_history_free (PcHistory *self);

/* Queues a batch of connection changes (from pc_engine_add_changes_func). Never blocks. */
void pc_history_record (PcHistory *self, GArray *changes);
/* Waits until everything queued so far is committed (shutdown, tests). */
void pc_history_flush (PcHistory *self);
void pc_history_get_status (PcHistory *self, PcHistoryStatus *status);

/* Rows as aa{sv}, newest first: id x, app s, pid u, exe s, direction s, protocol s, local s,
 * remote s, local-port q, remote-port q, domain s, country s, allowed b, reason s, started x,
 * ended x, bytes-in t, bytes-out t. Bad FTS syntax fails with PC_ERROR_INVALID_ARGS. */
GVariant *pc_history_search (PcHistory *self, const PcHistoryQuery *query, GError **error);
/* a(st): group value -> number of connections, largest first; group_by is "app", "domain" or
 * "country". */
GVariant *pc_history_count (PcHistory *self,
                            const PcHistoryQuery *query,
                            const char *group_by,
                            GError **error);
/* a(xtt): (time µs, bytes in, bytes out) per step for one app (NULL: all apps). One-second
 * resolution is kept for the last hour, one minute after that. */
GVariant *pc_history_bandwidth (PcHistory *self,
                                const char *app,
                                gint64 since,
                                gint64 until,
                                guint step_seconds,
                                GError **error);

/* Deletes matching connections (app NULL: all; since/until 0: unbounded) and their bandwidth,
 * then compacts the file. Returns the number of connections deleted. */
gint64
pc_history_delete (PcHistory *self, const char *app, gint64 since, gint64 until, GError **error);
/* Retention: drops connections that started before cutoff (µs) and folds one-second bandwidth
 * older than an hour into minutes. Runs in the writer thread; returns at once. */
void pc_history_cleanup (PcHistory *self, gint64 cutoff);
/* Writes matching rows as "csv" or "json" to path (atomically: temp file then rename). */
gboolean pc_history_export (PcHistory *self,
                            const PcHistoryQuery *query,
                            const char *path,
                            const char *format,
                            GError **error);
/* The same document in memory (for the D-Bus service: the client writes its own file). */
char *pc_history_export_data (PcHistory *self,
                              const PcHistoryQuery *query,
                              const char *format,
                              gsize *length,
                              GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcHistory, pc_history_free)

G_END_DECLS
