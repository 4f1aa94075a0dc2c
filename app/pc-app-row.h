/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define PC_TYPE_APP_ROW (pc_app_row_get_type ())
G_DECLARE_FINAL_TYPE (PcAppRow, pc_app_row, PC, APP_ROW, GObject)

/* An application in the Monitor's list: its live and blocked connection counts and current
 * rate. key "" is the "All applications" row. */
PcAppRow *pc_app_row_new (const char *key, const char *profile, const char *name);

const char *pc_app_row_get_key (PcAppRow *self);
const char *pc_app_row_get_profile (PcAppRow *self);
const char *pc_app_row_get_name (PcAppRow *self);
void pc_app_row_set_name (PcAppRow *self, const char *name);
void pc_app_row_set_icon_name (PcAppRow *self, const char *icon_name);
guint pc_app_row_get_active (PcAppRow *self);
int pc_app_row_get_total (PcAppRow *self);
guint pc_app_row_get_blocked (PcAppRow *self);
/* counters change freely; pc_app_row_commit() notifies once per batch */
void pc_app_row_add_counts (PcAppRow *self, int active, int blocked, int total);
void pc_app_row_set_rate (PcAppRow *self, double bytes_per_second);
double pc_app_row_get_rate (PcAppRow *self);
void pc_app_row_commit (PcAppRow *self);

G_END_DECLS
