/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis"

#include "config.h"

#include "pc-history-page.h"

#include "pc-application.h"
#include "pc-connection-row.h"
#include "pc-window.h"

#include <glib/gi18n.h>
#include <string.h>

#define PC_HISTORY_LIMIT 1000

struct _PcHistoryPage
{
  GtkWidget parent_instance;

  GtkWidget *box;
  GtkSearchEntry *search_entry;
  GtkDropDown *verdict;
  GtkDropDown *app_filter;
  GtkDropDown *direction;
  GtkDropDown *protocol;
  GtkDropDown *period;
  GtkStringList *app_ids; /* the app filter's choices after "All Apps": history's app names */
  GtkLabel *counts;
  GtkLabel *domain_counts;
  gboolean filling_apps;
  GtkStack *stack;
  AdwStatusPage *status;
  GtkColumnView *view;
  GListStore *store;
  GCancellable *cancellable;
  GCancellable *apps_cancellable;
  char *state; /* "results", "empty", "unavailable", "error" */
  char *counts_text;
  char *domain_counts_text;
};

/* the time filter's choices: seconds back from now (0: any time) */
static const gint64 periods[] = { 0, 3600, 24 * 3600, 7 * 24 * 3600, 30 * 24 * 3600 };

G_DEFINE_FINAL_TYPE (PcHistoryPage, pc_history_page, GTK_TYPE_WIDGET)

static PcApplication *
app (void)
{
  return PC_APPLICATION (g_application_get_default ());
}

static void
set_state (PcHistoryPage *self, const char *state, const char *title, const char *description)
{
  g_free (self->state);
  self->state = g_strdup (state);
  if (g_str_equal (state, "results"))
    {
      gtk_stack_set_visible_child_name (self->stack, "results");
      return;
    }
  adw_status_page_set_title (self->status, title);
  adw_status_page_set_description (self->status, description);
  adw_status_page_set_icon_name (self->status, g_str_equal (state, "empty")
                                                   ? "edit-find-symbolic"
                                                   : "document-open-recent-symbolic");
  gtk_stack_set_visible_child_name (self->stack, "status");
}

/* The app chosen in the app filter ("" for all). */
static const char *
chosen_app (PcHistoryPage *self)
{
  guint selected = gtk_drop_down_get_selected (self->app_filter);

  if (selected == 0 || selected == GTK_INVALID_LIST_POSITION)
    return "";
  return gtk_string_list_get_string (self->app_ids, selected - 1);
}

static gint64
chosen_since (PcHistoryPage *self)
{
  guint selected = gtk_drop_down_get_selected (self->period);

  if (selected == 0 || selected >= G_N_ELEMENTS (periods))
    return 0;
  return g_get_real_time () - periods[selected] * G_USEC_PER_SEC;
}

/* what SearchHistory calls the choices of the protocol drop-down ("" = any) */
static const char *const protocol_ids[] = { "", "tcp", "udp", "icmp", NULL };

static GVariant *
query (PcHistoryPage *self, gboolean with_limit)
{
  GVariantBuilder b;
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));
  guint verdict = gtk_drop_down_get_selected (self->verdict);
  guint direction = gtk_drop_down_get_selected (self->direction);
  guint protocol = gtk_drop_down_get_selected (self->protocol);
  const char *app_id = chosen_app (self);
  gint64 since = chosen_since (self);

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  if (text[0] != '\0')
    g_variant_builder_add (&b, "{sv}", "text", g_variant_new_string (text));
  if (verdict == 1 || verdict == 2)
    g_variant_builder_add (&b, "{sv}", "verdict",
                           g_variant_new_string (verdict == 1 ? "allowed" : "blocked"));
  if (direction == 1 || direction == 2)
    g_variant_builder_add (&b, "{sv}", "direction",
                           g_variant_new_string (direction == 1 ? "out" : "in"));
  if (protocol > 0 && protocol < G_N_ELEMENTS (protocol_ids))
    g_variant_builder_add (&b, "{sv}", "protocol", g_variant_new_string (protocol_ids[protocol]));
  if (app_id[0] != '\0')
    g_variant_builder_add (&b, "{sv}", "app", g_variant_new_string (app_id));
  if (since != 0)
    g_variant_builder_add (&b, "{sv}", "since", g_variant_new_int64 (since));
  if (with_limit)
    g_variant_builder_add (&b, "{sv}", "limit", g_variant_new_uint32 (PC_HISTORY_LIMIT));
  return g_variant_builder_end (&b);
}

/* history names apps by profile, or by program path: a path shows as the program's name */
static const char *
app_display_name (const char *name)
{
  const char *slash = name[0] == '/' ? strrchr (name, '/') : NULL;

  if (name[0] == '\0')
    return _ ("system");
  return slash != NULL && slash[1] != '\0' ? slash + 1 : name;
}

static void
show_counts (PcHistoryPage *self, GVariant *counts, gboolean domains)
{
  g_autoptr (GString) text = g_string_new (NULL);
  GVariantIter iter;
  const char *name;
  guint64 n;
  guint shown = 0;
  GtkLabel *label = domains ? self->domain_counts : self->counts;
  char **stored = domains ? &self->domain_counts_text : &self->counts_text;

  g_variant_iter_init (&iter, counts);
  while (g_variant_iter_next (&iter, "(&st)", &name, &n) && shown++ < 6)
    {
      if (text->len == 0)
        /* TRANSLATORS: before the apps (or domains) with the most matching connections */
        g_string_append (text, domains ? _ ("Domains: ") : _ ("Apps: "));
      else
        g_string_append (text, " · ");
      /* TRANSLATORS: an app and how many of its connections match, e.g. "curl (12)" */
      g_string_append_printf (text, _ ("%s (%u)"),
                              domains ? (name[0] ? name : _ ("no domain"))
                                      : app_display_name (name),
                              (guint)MIN (n, G_MAXUINT));
    }
  g_free (*stored);
  *stored = g_strdup (text->str);
  gtk_label_set_text (label, text->str);
  gtk_widget_set_visible (GTK_WIDGET (label), text->len > 0);
}

/* user_data: the label to show them in (apps or domains) */
static void
counts_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  GtkWidget *label = user_data;
  g_autoptr (GVariant) counts = NULL;
  g_autoptr (GError) error = NULL;
  PcHistoryPage *self;

  /* a cancelled call (the page went) touches nothing */
  if (!pc_dbus_portcullis1_call_count_history_finish (PC_DBUS_PORTCULLIS1 (source), &counts, res,
                                                      &error))
    return;
  self = PC_HISTORY_PAGE (gtk_widget_get_ancestor (label, PC_TYPE_HISTORY_PAGE));
  show_counts (self, counts, label == GTK_WIDGET (self->domain_counts));
}

/* The app filter offers every app in the history (all of it, not only what matches). */
static void
apps_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  PcHistoryPage *self = user_data;
  g_autoptr (GVariant) counts = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *current = NULL;
  GtkStringList *names;
  GVariantIter iter;
  const char *name;
  guint64 n;
  guint selected = 0;

  if (!pc_dbus_portcullis1_call_count_history_finish (PC_DBUS_PORTCULLIS1 (source), &counts, res,
                                                      &error))
    return;
  current = g_strdup (chosen_app (self));
  g_variant_iter_init (&iter, counts);
  while (g_variant_iter_next (&iter, "(&st)", &name, &n))
    g_ptr_array_add (ids, g_strdup (name));
  g_ptr_array_sort (ids, (GCompareFunc)g_strcmp0);
  /* the chosen app stays chosen even when it has no rows now */
  if (current[0] != '\0' && !g_ptr_array_find_with_equal_func (ids, current, g_str_equal, NULL))
    g_ptr_array_add (ids, g_strdup (current));
  g_ptr_array_add (ids, NULL);
  if (g_list_model_get_n_items (G_LIST_MODEL (self->app_ids)) == ids->len - 1)
    {
      gboolean same = TRUE;

      for (guint i = 0; same && ids->pdata[i] != NULL; i++)
        same = g_str_equal (gtk_string_list_get_string (self->app_ids, i), ids->pdata[i]);
      /* unchanged: leave the drop-down alone (it may be open) */
      if (same)
        return;
    }
  names = gtk_string_list_new (NULL);
  gtk_string_list_append (names, _ ("All Apps"));
  for (guint i = 0; ids->pdata[i] != NULL; i++)
    {
      gtk_string_list_append (names, app_display_name (ids->pdata[i]));
      if (g_str_equal (ids->pdata[i], current))
        selected = i + 1;
    }
  self->filling_apps = TRUE;
  gtk_string_list_splice (self->app_ids, 0, g_list_model_get_n_items (G_LIST_MODEL (self->app_ids)),
                          (const char *const *)ids->pdata);
  gtk_drop_down_set_model (self->app_filter, G_LIST_MODEL (names));
  gtk_drop_down_set_selected (self->app_filter, selected);
  self->filling_apps = FALSE;
  g_object_unref (names);
}

static void
search_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  PcHistoryPage *self = user_data;
  g_autoptr (GVariant) rows = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
  GVariantIter iter;
  GVariant *row;

  if (!pc_dbus_portcullis1_call_search_history_finish (PC_DBUS_PORTCULLIS1 (source), &rows, res,
                                                       &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      if (g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD))
        {
          set_state (self, "unavailable", _ ("History Is Not Available"),
                     _ ("This version of the firewall service does not keep a connection "
                        "history."));
          return;
        }
      pc_client_fix_error (error);
      set_state (self, "error", _ ("Cannot Read the History"), error->message);
      return;
    }
  g_variant_iter_init (&iter, rows);
  while ((row = g_variant_iter_next_value (&iter)) != NULL)
    {
      PcRecord rec;
      gint64 id = 0;
      gboolean allowed = TRUE;
      g_autofree char *app_name = NULL, *direction = NULL, *remote = NULL;

      /* a history row is a connection record with a few other names */
      pc_record_parse (row, &rec);
      g_variant_lookup (row, "id", "x", &id);
      g_variant_lookup (row, "allowed", "b", &allowed);
      g_variant_lookup (row, "app", "s", &app_name);
      g_variant_lookup (row, "direction", "s", &direction);
      g_variant_lookup (row, "remote", "s", &remote);
      rec.id = (guint64)id;
      rec.profile = app_name ? app_name : "";
      rec.remote_address = remote ? remote : "";
      rec.verdict = allowed ? "allow" : "block";
      rec.direction = g_strcmp0 (direction, "in") == 0 ? "inbound" : "outbound";
      g_ptr_array_add (items, pc_connection_row_new (&rec, NULL));
      pc_record_clear (&rec);
      g_variant_unref (row);
    }
  g_list_store_splice (self->store, 0, g_list_model_get_n_items (G_LIST_MODEL (self->store)),
                       items->pdata, items->len);
  if (items->len > 0)
    set_state (self, "results", NULL, NULL);
  else
    set_state (self, "empty", _ ("No Connections Found"),
               gtk_editable_get_text (GTK_EDITABLE (self->search_entry))[0] != '\0'
                   ? _ ("Try other words: each one matches the start of an app, program, "
                        "domain or address.")
                   : _ ("Connections appear here once applications use the network."));
}

static void
refresh_apps (PcHistoryPage *self)
{
  PcClient *client = pc_application_get_client (app ());

  if (client == NULL || !pc_application_get_helper_available (app ()))
    return;
  g_cancellable_cancel (self->apps_cancellable);
  g_clear_object (&self->apps_cancellable);
  self->apps_cancellable = g_cancellable_new ();
  pc_dbus_portcullis1_call_count_history (pc_client_get_proxy (client),
                                          g_variant_new ("a{sv}", NULL), "app",
                                          self->apps_cancellable, apps_cb, self);
}

static void
refresh (PcHistoryPage *self)
{
  PcClient *client = pc_application_get_client (app ());
  PcDBusPortcullis1 *proxy;

  if (client == NULL || !pc_application_get_helper_available (app ()))
    return;
  proxy = pc_client_get_proxy (client);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  pc_dbus_portcullis1_call_search_history (proxy, query (self, TRUE), self->cancellable, search_cb,
                                           self);
  pc_dbus_portcullis1_call_count_history (proxy, query (self, FALSE), "app", self->cancellable,
                                          counts_cb, self->counts);
  pc_dbus_portcullis1_call_count_history (proxy, query (self, FALSE), "domain", self->cancellable,
                                          counts_cb, self->domain_counts);
  /* new apps may have come into the history */
  refresh_apps (self);
}

static void
search_changed_cb (GtkSearchEntry *entry, gpointer user_data)
{
  refresh (user_data);
}

static void
filter_changed_cb (GObject *dropdown, GParamSpec *pspec, gpointer user_data)
{
  PcHistoryPage *self = user_data;

  if (!self->filling_apps)
    refresh (self);
}

static void
delete_done_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (PcHistoryPage) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) ret = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), res, &error);
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  g_autofree char *text = NULL;

  if (ret == NULL)
    {
      pc_client_fix_error (error);
      text = g_strdup_printf (_ ("Could not delete the history: %s"), error->message);
    }
  else
    {
      gint64 n = 0;

      g_variant_get (ret, "(x)", &n);
      text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u connection deleted",
                                           "%u connections deleted", (gulong)MAX (n, 0)),
                              (guint)CLAMP (n, 0, G_MAXUINT));
    }
  if (PC_IS_WINDOW (root))
    pc_window_toast (PC_WINDOW (root), text);
  refresh (self);
}

static void
delete_response_cb (AdwMessageDialog *dialog, const char *response, gpointer user_data)
{
  PcHistoryPage *self = user_data;
  PcClient *client = pc_application_get_client (app ());
  const char *app_id = g_object_get_data (G_OBJECT (dialog), "pc-app");
  gint64 since = *(gint64 *)g_object_get_data (G_OBJECT (dialog), "pc-since");

  if (!g_str_equal (response, "delete") || client == NULL)
    return;
  g_message ("deleting the history of '%s' since %" G_GINT64_FORMAT, app_id, since);
  /* polkit may ask for a password (manage): no timeout */
  g_dbus_proxy_call (G_DBUS_PROXY (pc_client_get_proxy (client)), "DeleteHistory",
                     g_variant_new ("(sxx)", app_id, since, (gint64)0),
                     G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, G_MAXINT, NULL,
                     delete_done_cb, g_object_ref (self));
}

/* Deletes what the app and time filters choose (DeleteHistory knows no other filters), after
 * the person confirmed exactly that. */
static void
delete_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  PcHistoryPage *self = PC_HISTORY_PAGE (widget);
  const char *app_id = chosen_app (self);
  guint period = gtk_drop_down_get_selected (self->period);
  GtkStringObject *period_item = gtk_drop_down_get_selected_item (self->period);
  gint64 *since = g_new (gint64, 1);
  g_autofree char *heading = NULL;
  g_autofree char *body = NULL;
  GtkWidget *dialog;

  *since = chosen_since (self);
  if (app_id[0] == '\0' && period == 0)
    {
      heading = g_strdup (_ ("Delete the Whole History?"));
      body = g_strdup (_ ("Every recorded connection and its traffic is removed from the disk. "
                          "This cannot be undone."));
    }
  else if (period == 0)
    {
      /* TRANSLATORS: %s is an app, e.g. "Delete the History of curl?" */
      heading = g_strdup_printf (_ ("Delete the History of %s?"), app_display_name (app_id));
      body = g_strdup (_ ("Every recorded connection of this app and its traffic is removed from "
                          "the disk. This cannot be undone."));
    }
  else
    {
      const char *when = gtk_string_object_get_string (period_item);

      /* TRANSLATORS: e.g. "Delete the History of the Last Hour?" */
      heading = g_strdup_printf (_ ("Delete the History of the %s?"), when);
      body = app_id[0] == '\0'
                 ? g_strdup (_ ("Every connection recorded in that time and its traffic is "
                                "removed from the disk. This cannot be undone."))
                 /* TRANSLATORS: %s is an app */
                 : g_strdup_printf (_ ("Only the connections of %s in that time and their traffic "
                                       "are removed from the disk. This cannot be undone."),
                                    app_display_name (app_id));
    }
  dialog = adw_message_dialog_new (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))), heading,
                                   body);
  g_object_set_data_full (G_OBJECT (dialog), "pc-app", g_strdup (app_id), g_free);
  g_object_set_data_full (G_OBJECT (dialog), "pc-since", since, g_free);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _ ("_Cancel"), "delete",
                                    _ ("_Delete"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "delete",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (delete_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* history names apps by profile, or by program path: show a path as the program's name */
static gboolean
program_name (GBinding *binding, const GValue *from, GValue *to, gpointer user_data)
{
  const char *text = g_value_get_string (from);
  const char *slash = text != NULL && text[0] == '/' ? strrchr (text, '/') : NULL;

  g_value_set_string (to, slash != NULL && slash[1] != '\0' ? slash + 1 : text);
  return TRUE;
}

static void
cell_setup_cb (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
  GtkWidget *cell = gtk_inscription_new (NULL);

  gtk_inscription_set_text_overflow (GTK_INSCRIPTION (cell),
                                     GTK_INSCRIPTION_OVERFLOW_ELLIPSIZE_END);
  gtk_inscription_set_nat_chars (GTK_INSCRIPTION (cell), 12);
  if (g_str_equal ((const char *)user_data, "bytes-text"))
    gtk_inscription_set_xalign (GTK_INSCRIPTION (cell), 1.0f);
  gtk_list_item_set_child (item, cell);
}

static void
cell_bind_cb (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
  GtkWidget *cell = gtk_list_item_get_child (item);
  PcConnectionRow *row = gtk_list_item_get_item (item);

  g_object_set_data (G_OBJECT (cell), "pc-binding",
                     g_object_bind_property_full (row, user_data, cell, "text",
                                                  G_BINDING_SYNC_CREATE, program_name, NULL, NULL,
                                                  NULL));
  if (g_str_equal ((const char *)user_data, "verdict-text"))
    {
      if (pc_connection_row_is_blocked (row))
        gtk_widget_add_css_class (cell, "error");
      else
        gtk_widget_remove_css_class (cell, "error");
    }
}

static void
cell_unbind_cb (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
  GtkWidget *cell = gtk_list_item_get_child (item);
  GBinding *binding = g_object_get_data (G_OBJECT (cell), "pc-binding");

  if (binding != NULL)
    g_binding_unbind (binding);
  g_object_set_data (G_OBJECT (cell), "pc-binding", NULL);
}

static void
add_column (PcHistoryPage *self, const char *title, const char *property, gboolean expand)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  GtkColumnViewColumn *column;

  g_signal_connect (factory, "setup", G_CALLBACK (cell_setup_cb), (gpointer)property);
  g_signal_connect (factory, "bind", G_CALLBACK (cell_bind_cb), (gpointer)property);
  g_signal_connect (factory, "unbind", G_CALLBACK (cell_unbind_cb), (gpointer)property);
  column = gtk_column_view_column_new (title, factory);
  gtk_column_view_column_set_expand (column, expand);
  gtk_column_view_column_set_resizable (column, TRUE);
  gtk_column_view_append_column (self->view, column);
  g_object_unref (column);
}

static void
helper_changed_cb (gpointer user_data)
{
  PcHistoryPage *self = user_data;

  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    refresh (self);
}

static void
pc_history_page_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (pc_history_page_parent_class)->map (widget);
  refresh (PC_HISTORY_PAGE (widget));
}

static void
pc_history_page_dispose (GObject *object)
{
  PcHistoryPage *self = PC_HISTORY_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_cancellable_cancel (self->apps_cancellable);
  g_clear_object (&self->apps_cancellable);
  g_clear_pointer (&self->box, gtk_widget_unparent);
  g_clear_object (&self->store);
  g_clear_object (&self->app_ids);
  G_OBJECT_CLASS (pc_history_page_parent_class)->dispose (object);
}

static void
pc_history_page_finalize (GObject *object)
{
  PcHistoryPage *self = PC_HISTORY_PAGE (object);

  g_free (self->state);
  g_free (self->counts_text);
  g_free (self->domain_counts_text);
  G_OBJECT_CLASS (pc_history_page_parent_class)->finalize (object);
}

static void
pc_history_page_class_init (PcHistoryPageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = pc_history_page_dispose;
  G_OBJECT_CLASS (klass)->finalize = pc_history_page_finalize;
  widget_class->map = pc_history_page_map;
  gtk_widget_class_install_action (widget_class, "history.delete", NULL, delete_action);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
pc_history_page_init (PcHistoryPage *self)
{
  GtkWidget *bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *del = gtk_button_new_with_mnemonic (_ ("_Delete History…"));
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  const char *verdicts[] = { _ ("All Verdicts"), _ ("Allowed"), _ ("Blocked"), NULL };
  const char *directions[] = { _ ("Both Directions"), _ ("Outgoing"), _ ("Incoming"), NULL };
  /* Translators: the protocol filter of the history; TCP, UDP and ICMP are protocol names */
  const char *protocols[] = { _ ("All Protocols"), _ ("TCP"), _ ("UDP"), _ ("ICMP"), NULL };
  const char *times[] = { _ ("Any Time"),    _ ("Last Hour"),    _ ("Last 24 Hours"),
                          _ ("Last 7 Days"), _ ("Last 30 Days"), NULL };
  const char *all_apps[] = { _ ("All Apps"), NULL };
  /* the filters wrap in a narrow window */
  GtkWidget *filters = gtk_flow_box_new ();

  G_STATIC_ASSERT (G_N_ELEMENTS (times) == G_N_ELEMENTS (periods) + 1);
  self->state = g_strdup ("");
  self->apps_cancellable = g_cancellable_new ();
  self->app_ids = gtk_string_list_new (NULL);
  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));

  gtk_widget_set_margin_top (bar, 6);
  gtk_widget_set_margin_bottom (bar, 6);
  gtk_widget_set_margin_start (bar, 6);
  gtk_widget_set_margin_end (bar, 6);
  self->search_entry = GTK_SEARCH_ENTRY (gtk_search_entry_new ());
  gtk_widget_set_hexpand (GTK_WIDGET (self->search_entry), TRUE);
  g_object_set (self->search_entry, "placeholder-text", _ ("Search the history"), NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->search_entry),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _ ("Search the history"), -1);
  g_signal_connect (self->search_entry, "search-changed", G_CALLBACK (search_changed_cb), self);
  self->verdict = GTK_DROP_DOWN (gtk_drop_down_new_from_strings (verdicts));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->verdict), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Verdict"), -1);
  g_signal_connect (self->verdict, "notify::selected", G_CALLBACK (filter_changed_cb), self);
  self->app_filter = GTK_DROP_DOWN (gtk_drop_down_new_from_strings (all_apps));
  gtk_drop_down_set_enable_search (self->app_filter, TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->app_filter), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("App"), -1);
  g_signal_connect (self->app_filter, "notify::selected", G_CALLBACK (filter_changed_cb), self);
  self->direction = GTK_DROP_DOWN (gtk_drop_down_new_from_strings (directions));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->direction), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Direction"), -1);
  g_signal_connect (self->direction, "notify::selected", G_CALLBACK (filter_changed_cb), self);
  G_STATIC_ASSERT (G_N_ELEMENTS (protocols) == G_N_ELEMENTS (protocol_ids));
  self->protocol = GTK_DROP_DOWN (gtk_drop_down_new_from_strings (protocols));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->protocol), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Protocol"), -1);
  g_signal_connect (self->protocol, "notify::selected", G_CALLBACK (filter_changed_cb), self);
  self->period = GTK_DROP_DOWN (gtk_drop_down_new_from_strings (times));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->period), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Time"), -1);
  g_signal_connect (self->period, "notify::selected", G_CALLBACK (filter_changed_cb), self);
  gtk_widget_add_css_class (del, "destructive-action");
  gtk_widget_set_tooltip_text (del, _ ("Delete the history of the chosen app and time"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (del), "history.delete");
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->search_entry));
  gtk_box_append (GTK_BOX (bar), del);
  gtk_box_append (GTK_BOX (self->box), bar);
  /* the filters on a line of their own: the page stays usable in a narrow window */
  gtk_widget_set_margin_start (filters, 6);
  gtk_widget_set_margin_end (filters, 6);
  gtk_widget_set_margin_bottom (filters, 6);
  gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (filters), GTK_SELECTION_NONE);
  gtk_flow_box_set_column_spacing (GTK_FLOW_BOX (filters), 6);
  gtk_flow_box_set_row_spacing (GTK_FLOW_BOX (filters), 6);
  gtk_flow_box_set_max_children_per_line (GTK_FLOW_BOX (filters), 5);
  {
    GtkWidget *dropdowns[]
        = { GTK_WIDGET (self->app_filter), GTK_WIDGET (self->verdict), GTK_WIDGET (self->direction),
            GTK_WIDGET (self->protocol), GTK_WIDGET (self->period) };

    for (guint i = 0; i < G_N_ELEMENTS (dropdowns); i++)
      {
        gtk_flow_box_append (GTK_FLOW_BOX (filters), dropdowns[i]);
        /* Tab goes to the drop-down, not to the flow box's cell around it */
        gtk_widget_set_focusable (gtk_widget_get_parent (dropdowns[i]), FALSE);
      }
  }
  gtk_box_append (GTK_BOX (self->box), filters);

  self->counts = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (self->counts, 0);
  gtk_label_set_ellipsize (self->counts, PANGO_ELLIPSIZE_END);
  gtk_widget_set_margin_start (GTK_WIDGET (self->counts), 12);
  gtk_widget_set_margin_bottom (GTK_WIDGET (self->counts), 6);
  gtk_widget_add_css_class (GTK_WIDGET (self->counts), "dim-label");
  gtk_widget_set_visible (GTK_WIDGET (self->counts), FALSE);
  gtk_box_append (GTK_BOX (self->box), GTK_WIDGET (self->counts));
  self->domain_counts = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (self->domain_counts, 0);
  gtk_label_set_ellipsize (self->domain_counts, PANGO_ELLIPSIZE_END);
  gtk_widget_set_margin_start (GTK_WIDGET (self->domain_counts), 12);
  gtk_widget_set_margin_bottom (GTK_WIDGET (self->domain_counts), 6);
  gtk_widget_add_css_class (GTK_WIDGET (self->domain_counts), "dim-label");
  gtk_widget_set_visible (GTK_WIDGET (self->domain_counts), FALSE);
  gtk_box_append (GTK_BOX (self->box), GTK_WIDGET (self->domain_counts));

  self->store = g_list_store_new (PC_TYPE_CONNECTION_ROW);
  self->view = GTK_COLUMN_VIEW (gtk_column_view_new (
      GTK_SELECTION_MODEL (gtk_no_selection_new (g_object_ref (G_LIST_MODEL (self->store))))));
  gtk_widget_add_css_class (GTK_WIDGET (self->view), "data-table");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->view), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Recorded connections"), -1);
  add_column (self, _ ("Time"), "time", FALSE);
  add_column (self, _ ("App"), "app-key", FALSE);
  add_column (self, _ ("Domain or Address"), "endpoint", TRUE);
  add_column (self, _ ("Port"), "port", FALSE);
  add_column (self, _ ("Verdict"), "verdict-text", TRUE);
  add_column (self, _ ("Data"), "bytes-text", FALSE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), GTK_WIDGET (self->view));

  self->status = ADW_STATUS_PAGE (adw_status_page_new ());
  self->stack = GTK_STACK (gtk_stack_new ());
  gtk_widget_set_vexpand (GTK_WIDGET (self->stack), TRUE);
  gtk_stack_add_named (self->stack, scrolled, "results");
  gtk_stack_add_named (self->stack, GTK_WIDGET (self->status), "status");
  set_state (self, "empty", _ ("No Connections Found"),
             _ ("Connections appear here once applications use the network."));
  gtk_box_append (GTK_BOX (self->box), GTK_WIDGET (self->stack));

  g_signal_connect_object (app (), "notify::helper-state", G_CALLBACK (helper_changed_cb), self,
                           G_CONNECT_SWAPPED);
}

void
pc_history_page_search (PcHistoryPage *self, const char *text)
{
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), text);
  refresh (self);
}

gboolean
pc_history_page_set_filter (PcHistoryPage *self, const char *key, const char *value)
{
  GtkDropDown *dropdown = NULL;
  guint choice = GTK_INVALID_LIST_POSITION;

  if (g_str_equal (key, "app"))
    {
      dropdown = self->app_filter;
      if (value[0] == '\0')
        choice = 0;
      for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->app_ids)); i++)
        if (g_str_equal (gtk_string_list_get_string (self->app_ids, i), value))
          choice = i + 1;
    }
  else
    {
      static const char *const verdict_choices[] = { "", "allowed", "blocked", NULL };
      static const char *const direction_choices[] = { "", "out", "in", NULL };
      static const char *const period_choices[] = { "", "hour", "day", "week", "month", NULL };
      const char *const *choices = NULL;

      if (g_str_equal (key, "verdict"))
        dropdown = self->verdict, choices = verdict_choices;
      else if (g_str_equal (key, "direction"))
        dropdown = self->direction, choices = direction_choices;
      else if (g_str_equal (key, "protocol"))
        dropdown = self->protocol, choices = protocol_ids;
      else if (g_str_equal (key, "time"))
        dropdown = self->period, choices = period_choices;
      for (guint i = 0; choices != NULL && choices[i] != NULL; i++)
        if (g_str_equal (choices[i], value))
          choice = i;
    }
  if (dropdown == NULL || choice == GTK_INVALID_LIST_POSITION)
    return FALSE;
  gtk_drop_down_set_selected (dropdown, choice);
  return TRUE;
}

GVariant *
pc_history_page_dump (PcHistoryPage *self)
{
  GVariantBuilder b, rows;
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->store));

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_init (&rows, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < MIN (n, 200); i++)
    {
      g_autoptr (PcConnectionRow) row = g_list_model_get_item (G_LIST_MODEL (self->store), i);

      g_variant_builder_add_parsed (
          &rows,
          "{'app': <%s>, 'endpoint': <%s>, 'port': <%s>, "
          "'verdict': <%s>, 'bytes': <%t>}",
          pc_connection_row_get_app_key (row), pc_connection_row_get_endpoint (row),
          pc_connection_row_get_port (row), pc_connection_row_get_verdict (row),
          pc_connection_row_get_bytes (row));
    }
  g_variant_builder_add (&b, "{sv}", "rows", g_variant_builder_end (&rows));
  g_variant_builder_add (&b, "{sv}", "state", g_variant_new_string (self->state));
  g_variant_builder_add (&b, "{sv}", "counts",
                         g_variant_new_string (self->counts_text ? self->counts_text : ""));
  g_variant_builder_add (
      &b, "{sv}", "domain-counts",
      g_variant_new_string (self->domain_counts_text ? self->domain_counts_text : ""));
  {
    GVariantBuilder choices;

    g_variant_builder_init (&choices, G_VARIANT_TYPE_STRING_ARRAY);
    for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->app_ids)); i++)
      g_variant_builder_add (&choices, "s", gtk_string_list_get_string (self->app_ids, i));
    g_variant_builder_add (&b, "{sv}", "app-choices", g_variant_builder_end (&choices));
  }
  g_variant_builder_add (&b, "{sv}", "filter-app", g_variant_new_string (chosen_app (self)));
  return g_variant_builder_end (&b);
}
