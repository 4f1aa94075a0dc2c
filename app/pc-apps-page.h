/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

#include "pc-settings-view.h"

G_BEGIN_DECLS

#define PC_TYPE_APPS_PAGE (pc_apps_page_get_type ())
G_DECLARE_FINAL_TYPE (PcAppsPage, pc_apps_page, PC, APPS_PAGE, GtkWidget)

void pc_apps_page_focus_search (PcAppsPage *self);
/* Shows one profile's page. */
void pc_apps_page_select (PcAppsPage *self, const char *profile_id);
PcSettingsView *pc_apps_page_get_view (PcAppsPage *self);
/* For the test hook: a{sv} with "profiles" (ids shown) and "selected". */
GVariant *pc_apps_page_dump (PcAppsPage *self);

G_END_DECLS
