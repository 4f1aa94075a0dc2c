/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define PC_TYPE_HISTORY_PAGE (pc_history_page_get_type ())
G_DECLARE_FINAL_TYPE (PcHistoryPage, pc_history_page, PC, HISTORY_PAGE, GtkWidget)

/* Searches the helper's connection history (SearchHistory) with this text. */
void pc_history_page_search (PcHistoryPage *self, const char *text);
/* For the test hook, through the filters' drop-downs: key app (an app id of the history, "" for
 * all), verdict (allowed|blocked|""), direction (out|in|""), time (hour|day|week|month|""). */
gboolean pc_history_page_set_filter (PcHistoryPage *self, const char *key, const char *value);
/* For the test hook: a{sv} with "rows", "counts", "domain-counts", "app-choices",
 * "filter-app", "state". */
GVariant *pc_history_page_dump (PcHistoryPage *self);

G_END_DECLS
