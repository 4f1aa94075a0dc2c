/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define PC_TYPE_MONITOR_PAGE (pc_monitor_page_get_type ())
G_DECLARE_FINAL_TYPE (PcMonitorPage, pc_monitor_page, PC, MONITOR_PAGE, GtkWidget)

void pc_monitor_page_focus_search (PcMonitorPage *self);
/* Shows one app's connections ("" = all); FALSE when the app is not in the list. */
gboolean pc_monitor_page_select_app (PcMonitorPage *self, const char *key);
void pc_monitor_page_set_search (PcMonitorPage *self, const char *text);
/* What the page shows, for the test hook: a{sv} with "apps", "rows", "selected-app". */
GVariant *pc_monitor_page_dump (PcMonitorPage *self);
/* Opens the row's context menu (as a right click would). */
gboolean pc_monitor_page_popup_menu (PcMonitorPage *self, guint64 id);

G_END_DECLS
