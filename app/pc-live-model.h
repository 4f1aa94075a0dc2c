/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "pc-app-row.h"
#include "pc-client.h"
#include "pc-connection-row.h"

G_BEGIN_DECLS

#define PC_LIVE_MODEL_SAMPLES 600 /* one per second: the last 10 minutes */

#define PC_TYPE_LIVE_MODEL (pc_live_model_get_type ())
G_DECLARE_FINAL_TYPE (PcLiveModel, pc_live_model, PC, LIVE_MODEL, GObject)

/* The live connections as the helper reports them: a GListStore of PcConnectionRow updated in
 * place from the batched ConnectionsChanged signal, the applications they belong to, and per-app
 * transfer rates. It subscribes only while someone holds it (a page that is mapped). */
PcLiveModel *pc_live_model_new (void);
void pc_live_model_set_client (PcLiveModel *self, PcClient *client);
/* The helper came (TRUE) or went (FALSE). */
void pc_live_model_set_helper_available (PcLiveModel *self, gboolean available);
void pc_live_model_hold (PcLiveModel *self);
void pc_live_model_release (PcLiveModel *self);
gboolean pc_live_model_is_subscribed (PcLiveModel *self);

GListModel *pc_live_model_get_connections (PcLiveModel *self);
GListModel *pc_live_model_get_apps (PcLiveModel *self);
PcConnectionRow *pc_live_model_lookup (PcLiveModel *self, guint64 id);
PcAppRow *pc_live_model_lookup_app (PcLiveModel *self, const char *key);
/* Names and icons of profiles (ListProfiles' records). */
void pc_live_model_set_profiles (PcLiveModel *self, GVariant *profiles);
/* Applies a batch of records as ConnectionsChanged carries them (also used by benchmarks). */
void pc_live_model_apply (PcLiveModel *self, GVariant *changes);
/* The row's profile, or the profile its program has by now (NULL: none). */
const char *pc_live_model_profile_for (PcLiveModel *self, PcConnectionRow *row);
void pc_live_model_set_keep_ended (PcLiveModel *self, guint seconds);

/* Rates in bytes/s of one app ("" = all), oldest first, PC_LIVE_MODEL_SAMPLES each; NULL when
 * the app has no series yet. */
gboolean pc_live_model_get_series (
    PcLiveModel *self, const char *key, const double **in, const double **out, guint *head);

G_END_DECLS
