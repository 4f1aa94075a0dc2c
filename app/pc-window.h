/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "pc-application.h"

G_BEGIN_DECLS

#define PC_TYPE_WINDOW (pc_window_get_type ())
G_DECLARE_FINAL_TYPE (PcWindow, pc_window, PC, WINDOW, AdwApplicationWindow)

PcWindow *pc_window_new (PcApplication *application);
void pc_window_show_page (PcWindow *self, const char *name);
const char *pc_window_get_page (PcWindow *self);
/* a toast at the bottom of the window */
void pc_window_toast (PcWindow *self, const char *text);
/* the Apps page, showing this profile */
void pc_window_open_profile (PcWindow *self, const char *profile_id);
/* Bandwidth page: 0 live 10 minutes, 1 last 24 hours, 2 last 30 days (from history) */
void pc_window_set_bandwidth_range (PcWindow *self, guint range);
void pc_window_refresh_bandwidth (PcWindow *self);
/* for the test hook: the banner's state and the pages */
gboolean pc_window_get_banner (PcWindow *self, const char **title, const char **detail);
GtkWidget *pc_window_get_page_widget (PcWindow *self, const char *name);

G_END_DECLS
