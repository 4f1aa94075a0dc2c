/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define PC_TYPE_SPARKLINE (pc_sparkline_get_type ())
G_DECLARE_FINAL_TYPE (PcSparkline, pc_sparkline, PC, SPARKLINE, GtkWidget)

/* A small line of an app's transfer rate over the last minute (PcLiveModel's series of the
 * app whose key it shows), redrawn every second while mapped. */
void pc_sparkline_set_key (PcSparkline *self, const char *key);

G_END_DECLS
