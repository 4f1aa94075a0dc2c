/* SPDX-License-Identifier: GPL-3.0-or-later */
/* What the packet path tells the rest of the helper about connections: an immutable record per
 * event, handed from the packet thread to the main thread in batches. */
#pragma once

#include <glib.h>

#include "pc-net.h"

G_BEGIN_DECLS

typedef enum
{
  PC_CONNECTION_ADDED,   /* a new flow was decided */
  PC_CONNECTION_CHANGED, /* its verdict changed (settings/rule change) */
  PC_CONNECTION_ENDED,   /* conntrack forgot it */
} PcConnectionEvent;

typedef struct
{
  gint ref_count;
  guint64 id;       /* unique for the helper's lifetime, never reused */
  PcFlowKey key;    /* key.direction: who opened it */
  pid_t pid;        /* 0 when no owner was found */
  uid_t uid;        /* (uid_t) -1 when unknown */
  char *comm;       /* never NULL ("" when unknown) */
  char *exe;        /* may be NULL */
  char *cmdline;    /* may be NULL */
  char *app_kind;   /* "native", "flatpak", ...; "" when unknown */
  char *app_id;     /* identity per kind; "" when unknown */
  char *profile_id; /* profile that decided it; "" when none (global settings) */
  char *domain;     /* "" when not known */
  char *country;    /* ISO code of the remote address, "" when unknown */
  gboolean allowed;
  char *reason;
  gint64 started; /* wall clock, µs since the epoch */
  gint64 ended;   /* 0 while live */
  guint64 bytes_in;
  guint64 bytes_out;
  guint64 rate_in; /* bytes per second over the last sample (about a second) */
  guint64 rate_out;
  gsize packed_size; /* > 0: made by pc_connection_new_packed, strings inside its allocation */
} PcConnection;

/* A new record (reference count 1) with the fields of template and copies of its strings, all
 * in one allocation: the packet path makes one for every new flow. */
PcConnection *pc_connection_new_packed (const PcConnection *template);
PcConnection *pc_connection_ref (PcConnection *self);
void pc_connection_unref (PcConnection *self);
/* A copy with fields changed by the caller afterwards (records are immutable once shared). */
PcConnection *pc_connection_copy (const PcConnection *self);

typedef struct
{
  PcConnectionEvent event;
  PcConnection *connection; /* owned */
} PcConnectionChange;

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcConnection, pc_connection_unref)

G_END_DECLS
