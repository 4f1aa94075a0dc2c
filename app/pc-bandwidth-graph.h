/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

#include "pc-live-model.h"

G_BEGIN_DECLS

#define PC_TYPE_BANDWIDTH_GRAPH (pc_bandwidth_graph_get_type ())
G_DECLARE_FINAL_TYPE (PcBandwidthGraph, pc_bandwidth_graph, PC, BANDWIDTH_GRAPH, GtkWidget)

/* A line graph of received and sent bytes per second over the last 10 minutes, with axes,
 * units and the values under the pointer, drawn from PcLiveModel's per-app series. */
void pc_bandwidth_graph_set_model (PcBandwidthGraph *self, PcLiveModel *model);
/* "" = all applications */
void pc_bandwidth_graph_set_app (PcBandwidthGraph *self, const char *key);
/* Shows the live series again. */
void pc_bandwidth_graph_set_live (PcBandwidthGraph *self);
/* Shows a range of the helper's bandwidth history: GetBandwidth's a(xtt) from since, in
 * n_samples slots of step seconds. */
void pc_bandwidth_graph_set_history (
    PcBandwidthGraph *self, GVariant *series, gint64 since, guint step, guint n_samples);
/* For the test hook: a{sv} with "app", "peak" (bytes/s) and "total" (bytes in the window). */
GVariant *pc_bandwidth_graph_dump (PcBandwidthGraph *self);

G_END_DECLS
