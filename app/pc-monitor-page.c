/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis"

#include "config.h"

#include "pc-monitor-page.h"

#include "pc-application.h"
#include "pc-sparkline.h"
#include "pc-window.h"

#include <glib/gi18n.h>

struct _PcMonitorPage
{
  GtkWidget parent_instance;

  AdwLeaflet *leaflet;
  GtkListView *app_list;
  GtkWidget *content;
  GtkButton *back_button;
  GtkSearchEntry *search_entry;
  GtkDropDown *verdict_filter;
  GtkStack *content_stack;
  GtkColumnView *column_view;
  GtkColumnViewColumn *time_column;
  GtkColumnViewColumn *direction_column;
  GtkColumnViewColumn *endpoint_column;
  GtkColumnViewColumn *country_column;
  GtkColumnViewColumn *port_column;
  GtkColumnViewColumn *verdict_column;
  GtkColumnViewColumn *bytes_column;
  AdwStatusPage *empty_page;

  GtkSingleSelection *app_selection;
  GtkCustomFilter *filter;
  GtkFilterListModel *filtered;
  GtkSortListModel *sorted;
  GtkSingleSelection *selection;
  GtkPopover *menu;
  char *app_key; /* "" = all */
  char *needle;  /* casefolded search text */
  guint verdict; /* 0 all, 1 allowed, 2 blocked */
  gboolean held;
};

G_DEFINE_FINAL_TYPE (PcMonitorPage, pc_monitor_page, GTK_TYPE_WIDGET)

static PcApplication *
app (void)
{
  return PC_APPLICATION (g_application_get_default ());
}

static PcLiveModel *
model (void)
{
  return pc_application_get_live_model (app ());
}

static PcWindow *
window_of (PcMonitorPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  return PC_IS_WINDOW (root) ? PC_WINDOW (root) : NULL;
}

static void
toast (PcMonitorPage *self, const char *text)
{
  PcWindow *window = window_of (self);

  if (window != NULL)
    pc_window_toast (window, text);
}

/* ---- filtering ------------------------------------------------------------------------------ */

static gboolean
filter_func (gpointer item, gpointer user_data)
{
  PcMonitorPage *self = user_data;
  PcConnectionRow *row = item;

  if (self->app_key[0] != '\0' && !g_str_equal (pc_connection_row_get_app_key (row), self->app_key))
    return FALSE;
  if (self->verdict == 1 && pc_connection_row_is_blocked (row))
    return FALSE;
  if (self->verdict == 2 && !pc_connection_row_is_blocked (row))
    return FALSE;
  return pc_connection_row_matches (row, self->needle);
}

static void
update_empty (PcMonitorPage *self)
{
  gboolean empty = g_list_model_get_n_items (G_LIST_MODEL (self->filtered)) == 0;
  gboolean filtering = self->needle[0] != '\0' || self->verdict != 0;

  if (empty)
    {
      adw_status_page_set_title (self->empty_page,
                                 filtering ? _ ("No Matching Connections") : _ ("No Connections"));
      adw_status_page_set_description (
          self->empty_page, filtering ? _ ("Try a different search or verdict.")
                                      : _ ("Connections appear here as applications make them."));
      adw_status_page_set_icon_name (self->empty_page,
                                     filtering ? "edit-find-symbolic" : "network-idle-symbolic");
    }
  gtk_stack_set_visible_child_name (self->content_stack, empty ? "empty" : "table");
}

static void
refilter (PcMonitorPage *self, GtkFilterChange change)
{
  gtk_filter_changed (GTK_FILTER (self->filter), change);
  update_empty (self);
}

static void
search_changed_cb (GtkSearchEntry *entry, gpointer user_data)
{
  PcMonitorPage *self = user_data;
  g_autofree char *needle = g_utf8_casefold (gtk_editable_get_text (GTK_EDITABLE (entry)), -1);
  GtkFilterChange change = GTK_FILTER_CHANGE_DIFFERENT;

  if (g_str_has_prefix (needle, self->needle))
    change = GTK_FILTER_CHANGE_MORE_STRICT;
  else if (g_str_has_prefix (self->needle, needle))
    change = GTK_FILTER_CHANGE_LESS_STRICT;
  g_free (self->needle);
  self->needle = g_steal_pointer (&needle);
  refilter (self, change);
}

static void
verdict_changed_cb (GObject *dropdown, GParamSpec *pspec, gpointer user_data)
{
  PcMonitorPage *self = user_data;

  self->verdict = gtk_drop_down_get_selected (GTK_DROP_DOWN (dropdown));
  refilter (self, GTK_FILTER_CHANGE_DIFFERENT);
}

static void
app_selected_cb (GObject *selection, GParamSpec *pspec, gpointer user_data)
{
  PcMonitorPage *self = user_data;
  PcAppRow *row = gtk_single_selection_get_selected_item (GTK_SINGLE_SELECTION (selection));
  const char *key = row != NULL ? pc_app_row_get_key (row) : "";

  if (g_strcmp0 (key, self->app_key) == 0)
    return;
  g_free (self->app_key);
  self->app_key = g_strdup (key);
  refilter (self, GTK_FILTER_CHANGE_DIFFERENT);
}

static void
app_activated_cb (GtkListView *list, guint position, gpointer user_data)
{
  PcMonitorPage *self = user_data;

  adw_leaflet_set_visible_child (self->leaflet, self->content);
}

static void
back_clicked_cb (GtkButton *button, gpointer user_data)
{
  PcMonitorPage *self = user_data;

  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
}

static void
filtered_changed_cb (GListModel *list, guint position, guint removed, guint added, gpointer data)
{
  PcMonitorPage *self = data;
  gboolean empty = g_list_model_get_n_items (list) == 0;

  if (empty != g_str_equal (gtk_stack_get_visible_child_name (self->content_stack), "empty"))
    update_empty (self);
}

/* ---- cells ---------------------------------------------------------------------------------- */

static void
verdict_style (GtkWidget *label, PcConnectionRow *row)
{
  if (pc_connection_row_is_blocked (row))
    gtk_widget_add_css_class (label, "error");
  else
    gtk_widget_remove_css_class (label, "error");
}

static void
verdict_notify_cb (PcConnectionRow *row, GParamSpec *pspec, GtkWidget *label)
{
  verdict_style (label, row);
}

/* Tooltips are made when asked for: setting one at every bind costs an X round trip. */
static gboolean
query_tooltip_cb (
    GtkWidget *label, int x, int y, gboolean keyboard, GtkTooltip *tooltip, gpointer user_data)
{
  const char *property = user_data;
  PcConnectionRow *row = g_object_get_data (G_OBJECT (label), "pc-row");
  g_autofree char *text = NULL;

  if (row == NULL)
    return FALSE;
  if (g_str_equal (property, "endpoint"))
    {
      const char *domain = pc_connection_row_get_domain (row);

      if (domain[0] == '\0')
        return FALSE;
      text = g_strdup_printf ("%s (%s)", domain, pc_connection_row_get_remote_address (row));
    }
  else
    g_object_get (row, "verdict-text", &text, NULL);
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

static void
cell_setup_cb (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
  const char *property = user_data;
  /* GtkInscription: its size does not depend on its text, so a changed cell needs no relayout */
  GtkWidget *label = gtk_inscription_new (NULL);
  guint chars = g_str_equal (property, "time")         ? 8
                : g_str_equal (property, "direction")  ? 4
                : g_str_equal (property, "port")       ? 9
                : g_str_equal (property, "country")    ? 4
                : g_str_equal (property, "bytes-text") ? 9
                : g_str_equal (property, "endpoint")   ? 24
                                                       : 28;

  gtk_inscription_set_xalign (GTK_INSCRIPTION (label),
                              g_str_equal (property, "bytes-text") ? 1.0f : 0.0f);
  gtk_inscription_set_text_overflow (GTK_INSCRIPTION (label),
                                     GTK_INSCRIPTION_OVERFLOW_ELLIPSIZE_END);
  gtk_inscription_set_min_chars (GTK_INSCRIPTION (label), MIN (chars, 8));
  gtk_inscription_set_nat_chars (GTK_INSCRIPTION (label), chars);
  if (g_str_equal (property, "bytes-text") || g_str_equal (property, "time"))
    gtk_widget_add_css_class (label, "numeric");
  if (g_str_equal (property, "endpoint") || g_str_equal (property, "verdict-text"))
    {
      gtk_widget_set_has_tooltip (label, TRUE);
      g_signal_connect (label, "query-tooltip", G_CALLBACK (query_tooltip_cb), (gpointer)property);
    }
  gtk_list_item_set_child (item, label);
}

static void
cell_bind_cb (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
  const char *property = user_data;
  GtkWidget *label = gtk_list_item_get_child (item);
  PcConnectionRow *row = gtk_list_item_get_item (item);
  GBinding *binding = g_object_bind_property (row, property, label, "text", G_BINDING_SYNC_CREATE);

  g_object_set_data (G_OBJECT (label), "pc-binding", binding);
  /* the row under the pointer, for the context menu */
  g_object_set_data (G_OBJECT (label), "pc-row", row);
  if (g_str_equal (property, "verdict-text"))
    {
      verdict_style (label, row);
      g_signal_connect_object (row, "notify::verdict", G_CALLBACK (verdict_notify_cb), label, 0);
    }
}

static void
cell_unbind_cb (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
  GtkWidget *label = gtk_list_item_get_child (item);
  GBinding *binding = g_object_get_data (G_OBJECT (label), "pc-binding");
  PcConnectionRow *row = gtk_list_item_get_item (item);

  if (binding != NULL)
    g_binding_unbind (binding);
  g_object_set_data (G_OBJECT (label), "pc-binding", NULL);
  g_object_set_data (G_OBJECT (label), "pc-row", NULL);
  if (row != NULL && g_str_equal ((const char *)user_data, "verdict-text"))
    g_signal_handlers_disconnect_by_func (row, verdict_notify_cb, label);
}

static void
set_cell_factory (GtkColumnViewColumn *column, const char *property)
{
  g_autoptr (GtkListItemFactory) factory = gtk_signal_list_item_factory_new ();

  g_signal_connect (factory, "setup", G_CALLBACK (cell_setup_cb), (gpointer)property);
  g_signal_connect (factory, "bind", G_CALLBACK (cell_bind_cb), (gpointer)property);
  g_signal_connect (factory, "unbind", G_CALLBACK (cell_unbind_cb), (gpointer)property);
  gtk_column_view_column_set_factory (column, factory);
}

/* ---- context menu and its actions ------------------------------------------------------------ */

static const char *
app_name (PcConnectionRow *row)
{
  PcAppRow *app_row = pc_live_model_lookup_app (model (), pc_connection_row_get_app_key (row));

  return app_row != NULL ? pc_app_row_get_name (app_row)
                         : pc_connection_row_get_fallback_name (row);
}

static const char *
entity_of (PcConnectionRow *row)
{
  const char *domain = pc_connection_row_get_domain (row);

  return domain[0] != '\0' ? domain : pc_connection_row_get_remote_address (row);
}

static void
popup_at (PcMonitorPage *self, PcConnectionRow *row, double x, double y)
{
  g_autoptr (GMenu) menu = g_menu_new ();
  g_autoptr (GMenu) rules = g_menu_new ();
  g_autoptr (GMenu) other = g_menu_new ();
  g_autofree char *block = NULL;
  g_autofree char *allow = NULL;
  GVariant *target = g_variant_new_uint64 (pc_connection_row_get_id (row));
  GdkRectangle rect = { (int)x, (int)y, 1, 1 };
  g_autoptr (GMenuItem) item = NULL;

  g_variant_ref_sink (target);
  if (pc_live_model_profile_for (model (), row) != NULL)
    {
      /* TRANSLATORS: "Block example.com for Firefox" */
      block = g_strdup_printf (_ ("_Block %s for %s"), entity_of (row), app_name (row));
      /* TRANSLATORS: "Allow example.com for Firefox" */
      allow = g_strdup_printf (_ ("_Allow %s for %s"), entity_of (row), app_name (row));
    }
  else
    {
      /* the program has no profile of its own: the rule is a global one */
      block = g_strdup_printf (_ ("_Block %s for All Apps"), entity_of (row));
      allow = g_strdup_printf (_ ("_Allow %s for All Apps"), entity_of (row));
    }
  item = g_menu_item_new (block, NULL);
  g_menu_item_set_action_and_target_value (item, "monitor.block", target);
  g_menu_append_item (rules, item);
  g_clear_object (&item);
  item = g_menu_item_new (allow, NULL);
  g_menu_item_set_action_and_target_value (item, "monitor.allow", target);
  g_menu_append_item (rules, item);
  g_clear_object (&item);
  item = g_menu_item_new (_ ("Open App _Settings"), NULL);
  g_menu_item_set_action_and_target_value (item, "monitor.open-settings", target);
  g_menu_append_item (other, item);
  g_menu_append_section (menu, NULL, G_MENU_MODEL (rules));
  g_menu_append_section (menu, NULL, G_MENU_MODEL (other));
  g_variant_unref (target);

  gtk_popover_menu_set_menu_model (GTK_POPOVER_MENU (self->menu), G_MENU_MODEL (menu));
  gtk_popover_set_pointing_to (self->menu, &rect);
  gtk_popover_popup (self->menu);
}

static PcConnectionRow *
row_at (PcMonitorPage *self, double x, double y)
{
  GtkWidget *picked = gtk_widget_pick (GTK_WIDGET (self->column_view), x, y, GTK_PICK_DEFAULT);

  for (GtkWidget *w = picked; w != NULL && w != GTK_WIDGET (self->column_view);
       w = gtk_widget_get_parent (w))
    {
      PcConnectionRow *row = g_object_get_data (G_OBJECT (w), "pc-row");

      if (row != NULL)
        return row;
      /* a cell: its label is the only child */
      if (gtk_widget_get_first_child (w) != NULL
          && g_object_get_data (G_OBJECT (gtk_widget_get_first_child (w)), "pc-row") != NULL)
        return g_object_get_data (G_OBJECT (gtk_widget_get_first_child (w)), "pc-row");
    }
  return NULL;
}

static void
right_click_cb (GtkGestureClick *gesture, int n_press, double x, double y, gpointer user_data)
{
  PcMonitorPage *self = user_data;
  PcConnectionRow *row = row_at (self, x, y);

  if (row == NULL)
    return;
  gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
  popup_at (self, row, x, y);
}

static void
long_press_cb (GtkGestureLongPress *gesture, double x, double y, gpointer user_data)
{
  PcMonitorPage *self = user_data;
  PcConnectionRow *row = row_at (self, x, y);

  if (row != NULL)
    popup_at (self, row, x, y);
}

static void
menu_key_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  PcMonitorPage *self = PC_MONITOR_PAGE (widget);
  PcConnectionRow *row = gtk_single_selection_get_selected_item (self->selection);

  if (row != NULL)
    popup_at (self, row, gtk_widget_get_width (GTK_WIDGET (self->column_view)) / 2.0,
              gtk_widget_get_height (GTK_WIDGET (self->column_view)) / 3.0);
}

typedef struct
{
  PcMonitorPage *self;
  char *message;
  char *profile;
  gboolean inbound;
  char *rule;
} RuleCall;

static void
rule_call_free (RuleCall *call)
{
  g_object_unref (call->self);
  g_free (call->message);
  g_free (call->profile);
  g_free (call->rule);
  g_free (call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (RuleCall, rule_call_free)

static void
add_rule_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (RuleCall) call = user_data;
  g_autoptr (GError) error = NULL;

  if (!pc_application_call_configure_finish (app (), res, &error))
    {
      g_autofree char *text = g_strdup_printf (_ ("Could not add the rule: %s"), error->message);

      g_message ("AddRule %s: %s", call->rule, error->message);
      toast (call->self, text);
      return;
    }
  g_message ("rule added to '%s': %s", call->profile, call->rule);
  toast (call->self, call->message);
}

static void
remove_opposite_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  RuleCall *call = user_data;
  g_autoptr (GError) error = NULL;

  /* NotFound is the usual answer: there was no opposite rule */
  pc_application_call_configure_finish (app (), res, &error);
  pc_application_call_configure (app (), "AddRule",
                                 g_variant_new ("(sbs)", call->profile, call->inbound, call->rule),
                                 NULL, add_rule_cb, call);
}

static void
rule_action (PcMonitorPage *self, guint64 id, gboolean block)
{
  PcConnectionRow *row = pc_live_model_lookup (model (), id);
  RuleCall *call;
  const char *entity;
  g_autofree char *opposite = NULL;

  if (row == NULL)
    {
      toast (self, _ ("That connection is no longer listed"));
      return;
    }
  entity = entity_of (row);
  call = g_new0 (RuleCall, 1);
  call->self = g_object_ref (self);
  call->profile = g_strdup (pc_live_model_profile_for (model (), row) ?: "");
  call->inbound = pc_connection_row_is_inbound (row);
  call->rule = g_strdup_printf ("%c %s", block ? '-' : '+', entity);
  opposite = g_strdup_printf ("%c %s", block ? '+' : '-', entity);
  if (call->profile[0] == '\0')
    call->message = g_strdup_printf (
        block ? _ ("Blocked %s for all apps") : _ ("Allowed %s for all apps"), entity);
  else
    call->message = g_strdup_printf (block ? _ ("Blocked %s for %s") : _ ("Allowed %s for %s"),
                                     entity, app_name (row));
  pc_application_call_configure (app (), "RemoveRule",
                                 g_variant_new ("(sbs)", call->profile, call->inbound, opposite),
                                 NULL, remove_opposite_cb, call);
}

static void
block_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  rule_action (PC_MONITOR_PAGE (widget), g_variant_get_uint64 (parameter), TRUE);
}

static void
allow_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  rule_action (PC_MONITOR_PAGE (widget), g_variant_get_uint64 (parameter), FALSE);
}

static void
open_settings_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  PcMonitorPage *self = PC_MONITOR_PAGE (widget);
  PcConnectionRow *row = pc_live_model_lookup (model (), g_variant_get_uint64 (parameter));

  if (row == NULL)
    return;
  if (pc_live_model_profile_for (model (), row) == NULL)
    gtk_widget_activate_action (widget, "win.show-page", "s", "settings");
  else
    gtk_widget_activate_action (widget, "win.open-profile", "s",
                                pc_live_model_profile_for (model (), row));
  (void)self;
}

/* ---- life cycle ----------------------------------------------------------------------------- */

static void
pc_monitor_page_map (GtkWidget *widget)
{
  PcMonitorPage *self = PC_MONITOR_PAGE (widget);

  GTK_WIDGET_CLASS (pc_monitor_page_parent_class)->map (widget);
  /* subscribe to the signal stream only while someone looks */
  if (!self->held)
    {
      self->held = TRUE;
      pc_live_model_hold (model ());
    }
}

static void
pc_monitor_page_unmap (GtkWidget *widget)
{
  PcMonitorPage *self = PC_MONITOR_PAGE (widget);

  if (self->held)
    {
      self->held = FALSE;
      pc_live_model_release (model ());
    }
  GTK_WIDGET_CLASS (pc_monitor_page_parent_class)->unmap (widget);
}

static void
pc_monitor_page_dispose (GObject *object)
{
  PcMonitorPage *self = PC_MONITOR_PAGE (object);

  if (self->menu != NULL)
    {
      gtk_widget_unparent (GTK_WIDGET (self->menu));
      self->menu = NULL;
    }
  if (self->leaflet != NULL)
    {
      gtk_widget_unparent (GTK_WIDGET (self->leaflet));
      self->leaflet = NULL;
    }
  g_clear_object (&self->app_selection);
  g_clear_object (&self->selection);
  g_clear_object (&self->filter);
  self->filtered = NULL;
  self->sorted = NULL;
  G_OBJECT_CLASS (pc_monitor_page_parent_class)->dispose (object);
}

static void
pc_monitor_page_finalize (GObject *object)
{
  PcMonitorPage *self = PC_MONITOR_PAGE (object);

  g_free (self->app_key);
  g_free (self->needle);
  G_OBJECT_CLASS (pc_monitor_page_parent_class)->finalize (object);
}

static void
pc_monitor_page_class_init (PcMonitorPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pc_monitor_page_dispose;
  object_class->finalize = pc_monitor_page_finalize;
  widget_class->map = pc_monitor_page_map;
  widget_class->unmap = pc_monitor_page_unmap;

  g_type_ensure (PC_TYPE_APP_ROW);
  g_type_ensure (PC_TYPE_SPARKLINE);
  g_type_ensure (PC_TYPE_CONNECTION_ROW);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/portcullis/Portcullis/pc-monitor-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PcMonitorPage, leaflet);
  gtk_widget_class_bind_template_child (widget_class, PcMonitorPage, app_list);
  gtk_widget_class_bind_template_child (widget_class, PcMonitorPage, content);
  gtk_widget_class_bind_template_child (widget_class, PcMonitorPage, back_button);
  gtk_widget_class_bind_template_child (widget_class, PcMonitorPage, search_entry);
  gtk_widget_class_bind_template_child (widget_class, PcMonitorPage, verdict_filter);
  gtk_widget_class_bind_template_child (widget_class, PcMonitorPage, content_stack);
  gtk_widget_class_bind_template_child (widget_class, PcMonitorPage, column_view);
  gtk_widget_class_bind_template_child (widget_class, PcMonitorPage, time_column);
  gtk_widget_class_bind_template_child (widget_class, PcMonitorPage, direction_column);
  gtk_widget_class_bind_template_child (widget_class, PcMonitorPage, endpoint_column);
  gtk_widget_class_bind_template_child (widget_class, PcMonitorPage, country_column);
  gtk_widget_class_bind_template_child (widget_class, PcMonitorPage, port_column);
  gtk_widget_class_bind_template_child (widget_class, PcMonitorPage, verdict_column);
  gtk_widget_class_bind_template_child (widget_class, PcMonitorPage, bytes_column);
  gtk_widget_class_bind_template_child (widget_class, PcMonitorPage, empty_page);

  gtk_widget_class_install_action (widget_class, "monitor.block", "t", block_action);
  gtk_widget_class_install_action (widget_class, "monitor.allow", "t", allow_action);
  gtk_widget_class_install_action (widget_class, "monitor.open-settings", "t",
                                   open_settings_action);
  gtk_widget_class_install_action (widget_class, "monitor.menu", NULL, menu_key_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Menu, 0, "monitor.menu", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F10, GDK_SHIFT_MASK, "monitor.menu",
                                       NULL);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
pc_monitor_page_init (PcMonitorPage *self)
{
  PcLiveModel *live = model ();
  GtkGesture *click, *press;
  GtkSorter *sorter;

  self->app_key = g_strdup ("");
  self->needle = g_strdup ("");
  gtk_widget_init_template (GTK_WIDGET (self));

  self->app_selection = gtk_single_selection_new (g_object_ref (pc_live_model_get_apps (live)));
  gtk_list_view_set_model (self->app_list, GTK_SELECTION_MODEL (self->app_selection));
  g_signal_connect (self->app_selection, "notify::selected-item", G_CALLBACK (app_selected_cb),
                    self);
  g_signal_connect (self->app_list, "activate", G_CALLBACK (app_activated_cb), self);
  g_signal_connect (self->back_button, "clicked", G_CALLBACK (back_clicked_cb), self);

  set_cell_factory (self->time_column, "time");
  set_cell_factory (self->direction_column, "direction");
  set_cell_factory (self->endpoint_column, "endpoint");
  set_cell_factory (self->country_column, "country");
  set_cell_factory (self->port_column, "port");
  set_cell_factory (self->verdict_column, "verdict-text");
  set_cell_factory (self->bytes_column, "bytes-text");

  self->filter = gtk_custom_filter_new (filter_func, self, NULL);
  self->filtered = gtk_filter_list_model_new (g_object_ref (pc_live_model_get_connections (live)),
                                              GTK_FILTER (g_object_ref (self->filter)));
  /* filtering 10,000 rows takes a few ms: at once, so the sort model sees one change */
  sorter = gtk_column_view_get_sorter (self->column_view);
  self->sorted = gtk_sort_list_model_new (G_LIST_MODEL (self->filtered), g_object_ref (sorter));
  gtk_sort_list_model_set_incremental (self->sorted, TRUE);
  self->selection = gtk_single_selection_new (G_LIST_MODEL (self->sorted));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  gtk_column_view_set_model (self->column_view, GTK_SELECTION_MODEL (self->selection));
  /* oldest first, as in a log: new connections land below the visible rows, which then need no
   * rebinding; newest-first costs ~2x frame time at 200 events/s (tests/bench/bench-app.py) */
  gtk_column_view_sort_by_column (self->column_view, self->time_column, GTK_SORT_ASCENDING);
  g_signal_connect (self->filtered, "items-changed", G_CALLBACK (filtered_changed_cb), self);

  g_signal_connect (self->search_entry, "search-changed", G_CALLBACK (search_changed_cb), self);
  gtk_search_entry_set_key_capture_widget (self->search_entry, GTK_WIDGET (self->column_view));
  g_signal_connect (self->verdict_filter, "notify::selected", G_CALLBACK (verdict_changed_cb),
                    self);

  self->menu = GTK_POPOVER (gtk_popover_menu_new_from_model (NULL));
  gtk_popover_set_has_arrow (self->menu, FALSE);
  gtk_widget_set_halign (GTK_WIDGET (self->menu), GTK_ALIGN_START);
  gtk_widget_set_parent (GTK_WIDGET (self->menu), GTK_WIDGET (self->column_view));
  click = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_SECONDARY);
  g_signal_connect (click, "pressed", G_CALLBACK (right_click_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->column_view), GTK_EVENT_CONTROLLER (click));
  press = gtk_gesture_long_press_new ();
  gtk_gesture_single_set_touch_only (GTK_GESTURE_SINGLE (press), TRUE);
  g_signal_connect (press, "pressed", G_CALLBACK (long_press_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->column_view), GTK_EVENT_CONTROLLER (press));
  update_empty (self);
}

void
pc_monitor_page_focus_search (PcMonitorPage *self)
{
  adw_leaflet_set_visible_child (self->leaflet, self->content);
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

gboolean
pc_monitor_page_select_app (PcMonitorPage *self, const char *key)
{
  GListModel *apps = pc_live_model_get_apps (model ());

  for (guint i = 0; i < g_list_model_get_n_items (apps); i++)
    {
      g_autoptr (PcAppRow) row = g_list_model_get_item (apps, i);

      if (g_str_equal (pc_app_row_get_key (row), key))
        {
          gtk_single_selection_set_selected (self->app_selection, i);
          return TRUE;
        }
    }
  return FALSE;
}

void
pc_monitor_page_set_search (PcMonitorPage *self, const char *text)
{
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), text);
  /* apply now rather than after the entry's delay */
  search_changed_cb (self->search_entry, self);
}

gboolean
pc_monitor_page_popup_menu (PcMonitorPage *self, guint64 id)
{
  PcConnectionRow *row = pc_live_model_lookup (model (), id);

  if (row == NULL)
    return FALSE;
  popup_at (self, row, 200, 80);
  return TRUE;
}

GVariant *
pc_monitor_page_dump (PcMonitorPage *self)
{
  GListModel *apps = pc_live_model_get_apps (model ());
  GVariantBuilder b, list;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_init (&list, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < g_list_model_get_n_items (apps); i++)
    {
      g_autoptr (PcAppRow) row = g_list_model_get_item (apps, i);
      g_autofree char *summary = NULL;

      g_object_get (row, "summary", &summary, NULL);
      g_variant_builder_add_parsed (&list,
                                    "{'key': <%s>, 'name': <%s>, 'active': <%u>, "
                                    "'blocked': <%u>, 'summary': <%s>}",
                                    pc_app_row_get_key (row), pc_app_row_get_name (row),
                                    pc_app_row_get_active (row), pc_app_row_get_blocked (row),
                                    summary);
    }
  g_variant_builder_add (&b, "{sv}", "apps", g_variant_builder_end (&list));
  g_variant_builder_init (&list, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < MIN (g_list_model_get_n_items (G_LIST_MODEL (self->sorted)), 1000); i++)
    {
      g_autoptr (PcConnectionRow) row = g_list_model_get_item (G_LIST_MODEL (self->sorted), i);
      g_autofree char *verdict_text = NULL;

      g_object_get (row, "verdict-text", &verdict_text, NULL);
      g_variant_builder_add_parsed (
          &list,
          "{'id': <%t>, 'app': <%s>, 'app-name': <%s>, 'endpoint': <%s>, 'port': <%s>, "
          "'verdict': <%s>, 'verdict-text': <%s>, 'bytes': <%t>, 'live': <%b>}",
          pc_connection_row_get_id (row), pc_connection_row_get_app_key (row), app_name (row),
          pc_connection_row_get_endpoint (row), pc_connection_row_get_port (row),
          pc_connection_row_get_verdict (row), verdict_text, pc_connection_row_get_bytes (row),
          pc_connection_row_is_live (row));
    }
  g_variant_builder_add (&b, "{sv}", "rows", g_variant_builder_end (&list));
  g_variant_builder_add (&b, "{sv}", "selected-app", g_variant_new_string (self->app_key));
  g_variant_builder_add (
      &b, "{sv}", "shown",
      g_variant_new_uint32 (g_list_model_get_n_items (G_LIST_MODEL (self->sorted))));
  g_variant_builder_add (&b, "{sv}", "subscribed",
                         g_variant_new_boolean (pc_live_model_is_subscribed (model ())));
  return g_variant_builder_end (&b);
}
