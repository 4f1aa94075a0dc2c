/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define PC_TYPE_SETTINGS_VIEW (pc_settings_view_get_type ())
G_DECLARE_FINAL_TYPE (PcSettingsView, pc_settings_view, PC, SETTINGS_VIEW, AdwPreferencesPage)

/* The helper's settings as preference rows: the global ones (profile NULL), or one profile's,
 * where each setting inherits the global value until it is overridden. */
void pc_settings_view_set_profile (PcSettingsView *self, const char *profile_id);
const char *pc_settings_view_get_profile (PcSettingsView *self);
void pc_settings_view_reload (PcSettingsView *self);
/* For the test hook, through the same widgets a person uses: sets a setting's row to text
 * ("inherit" picks the inherit choice), or adds a rule with key "add-rule"/"add-inbound-rule";
 * "filter-list:ID" true|false switches a filter list category, "dns:add" TEXT, "dns:remove" URL
 * and "dns:flush" edit the DNS servers, "scroll-to" filter-lists|dns shows that group. */
gboolean pc_settings_view_test_set (PcSettingsView *self, const char *key, const char *text);
/* What the view shows: a{sv} with "profile", "loaded", "settings" (key -> (shown value,
 * source)), "rules", "rule-error", "filter-lists" and "dns" (the global view's groups). */
GVariant *pc_settings_view_dump (PcSettingsView *self);

G_END_DECLS
