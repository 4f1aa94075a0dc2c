/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define PC_TYPE_FILTER_LISTS_GROUP (pc_filter_lists_group_get_type ())
G_DECLARE_FINAL_TYPE (
    PcFilterListsGroup, pc_filter_lists_group, PC, FILTER_LISTS_GROUP, AdwPreferencesGroup)

/* The Settings page's filter lists: one switch per category (the filter-lists setting), the
 * loaded lists' sizes, the update status and "Update Now" with its progress (ListFilterLists,
 * polled while an update runs and the group is shown). */
GtkWidget *pc_filter_lists_group_new (void);
/* The filter-lists setting as the helper has it, and where it comes from ("admin", ...). */
void
pc_filter_lists_group_set_setting (PcFilterListsGroup *self, GVariant *value, const char *source);
void pc_filter_lists_group_reload (PcFilterListsGroup *self);
/* Starts UpdateFilterLists (what "Update Now" does). */
void pc_filter_lists_group_update (PcFilterListsGroup *self);
/* For the test hook: switches a category on or off through its row. */
gboolean pc_filter_lists_group_test_set (PcFilterListsGroup *self, const char *id, gboolean on);
/* What the group shows: categories (id, title, subtitle, enabled), status, error, progress
 * (visible, fraction, pulsing, text), updating, button-sensitive, progress-seen (the
 * fractions shown during the last update). */
GVariant *pc_filter_lists_group_dump (PcFilterListsGroup *self);

G_END_DECLS
