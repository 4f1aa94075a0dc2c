/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis"

#include "config.h"

#include "pc-filter-lists-group.h"

#include "pc-application.h"
#include "pc-window.h"

#include <glib/gi18n.h>

#define POLL_MS 300

struct _PcFilterListsGroup
{
  AdwPreferencesGroup parent_instance;

  GCancellable *cancellable;
  GVariant *status; /* ListFilterLists' a{sv} */
  GStrv enabled;    /* the filter-lists setting */
  char *source;
  char *signature;      /* the categories the rows were made for */
  GHashTable *switches; /* category id -> GtkSwitch (owned by its row) */
  GPtrArray *category_rows;
  GtkWidget *status_row;
  GtkWidget *update_button;
  GtkWidget *progress_row;
  GtkWidget *progress;
  GtkWidget *error_label;
  char *error_text; /* the last update's failure, or the helper's last-error */
  char *result_text;
  GArray *seen_fractions; /* double, what the bar showed during the last update */
  GPtrArray *seen_phases;
  guint poll_id;
  gboolean loading;
  gboolean updating; /* our UpdateFilterLists call is in flight */
  gboolean building;
};

G_DEFINE_FINAL_TYPE (PcFilterListsGroup, pc_filter_lists_group, ADW_TYPE_PREFERENCES_GROUP)

static PcApplication *
app (void)
{
  return PC_APPLICATION (g_application_get_default ());
}

static void
toast (PcFilterListsGroup *self, const char *text)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (PC_IS_WINDOW (root))
    pc_window_toast (PC_WINDOW (root), text);
}

static GVariant *
update_dict (PcFilterListsGroup *self)
{
  if (self->status == NULL)
    return NULL;
  return g_variant_lookup_value (self->status, "update", G_VARIANT_TYPE_VARDICT);
}

static gboolean
helper_running_update (PcFilterListsGroup *self)
{
  g_autoptr (GVariant) update = update_dict (self);
  gboolean running = FALSE;

  if (update != NULL)
    g_variant_lookup (update, "running", "b", &running);
  return running;
}

/* ---- polling while an update runs ----------------------------------------------------------- */

static void reload (PcFilterListsGroup *self);

static gboolean
poll_cb (gpointer user_data)
{
  PcFilterListsGroup *self = user_data;

  reload (self);
  return G_SOURCE_CONTINUE;
}

static void
update_polling (PcFilterListsGroup *self)
{
  gboolean want = gtk_widget_get_mapped (GTK_WIDGET (self))
                  && (self->updating || helper_running_update (self));

  if (want && self->poll_id == 0)
    self->poll_id = g_timeout_add (POLL_MS, poll_cb, self);
  else if (!want)
    g_clear_handle_id (&self->poll_id, g_source_remove);
}

/* ---- showing the status ----------------------------------------------------------------------- */

/* update's last-attempt and last-success are seconds since the epoch */
static char *
format_time (gint64 seconds)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_local (seconds);

  return dt != NULL ? g_date_time_format (dt, "%Y-%m-%d %H:%M") : g_strdup ("?");
}

static const char *
phase_text (const char *phase)
{
  if (g_strcmp0 (phase, "index") == 0)
    return _ ("Fetching the index");
  if (g_strcmp0 (phase, "verifying") == 0)
    return _ ("Checking the signature");
  if (g_strcmp0 (phase, "downloading") == 0)
    return _ ("Downloading the lists");
  if (g_strcmp0 (phase, "swapping") == 0)
    return _ ("Loading the new lists");
  return _ ("Starting the update");
}

static void
show_progress (PcFilterListsGroup *self)
{
  g_autoptr (GVariant) update = update_dict (self);
  gboolean running = self->updating || helper_running_update (self);
  const char *phase = "", *url = "";
  double fraction = -1;

  if (update != NULL)
    g_variant_lookup (update, "url", "&s", &url);
  gtk_widget_set_visible (self->progress_row, running);
  /* nothing to update from without lists-url */
  gtk_widget_set_sensitive (self->update_button,
                            !running && self->status != NULL && url[0] != '\0');
  if (!running)
    return;
  if (update != NULL)
    {
      g_variant_lookup (update, "phase", "&s", &phase);
      /* an older helper has no fraction: pulse */
      if (!g_variant_lookup (update, "fraction", "d", &fraction))
        fraction = -1;
    }
  if (fraction >= 0)
    {
      g_autofree char *text = g_strdup_printf ("%s — %.0f %%", phase_text (phase), fraction * 100);

      gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), CLAMP (fraction, 0, 1));
      gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), text);
    }
  else
    {
      gtk_progress_bar_pulse (GTK_PROGRESS_BAR (self->progress));
      gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), phase_text (phase));
    }
  g_array_append_val (self->seen_fractions, fraction);
  if (phase[0] != '\0'
      && (self->seen_phases->len == 0
          || !g_str_equal (g_ptr_array_index (self->seen_phases, self->seen_phases->len - 1),
                           phase)))
    g_ptr_array_add (self->seen_phases, g_strdup (phase));
}

static void
show_status (PcFilterListsGroup *self)
{
  g_autoptr (GVariant) update = update_dict (self);
  const char *url = "", *result = "", *last_error = "";
  gint64 success = 0, attempt = 0;
  g_autofree char *subtitle = NULL;
  g_autofree char *helper_error = NULL;
  const char *error = self->error_text;

  if (update != NULL)
    {
      g_variant_lookup (update, "url", "&s", &url);
      g_variant_lookup (update, "last-result", "&s", &result);
      g_variant_lookup (update, "last-success", "x", &success);
      g_variant_lookup (update, "last-attempt", "x", &attempt);
    }
  if (self->status != NULL)
    g_variant_lookup (self->status, "last-error", "&s", &last_error);
  if (self->status == NULL)
    subtitle = g_strdup (_ ("The service does not say how the lists are"));
  else if (url[0] == '\0')
    subtitle = g_strdup (_ ("No update server is set (lists-url)"));
  else if (success > 0)
    {
      g_autofree char *when = format_time (success);

      /* TRANSLATORS: "Last updated 2026-12-06 02:30 · updated to serial 11" */
      subtitle = result[0] != '\0' ? g_strdup_printf (_ ("Last updated %s · %s"), when, result)
                                   : g_strdup_printf (_ ("Last updated %s"), when);
    }
  else if (attempt > 0)
    {
      g_autofree char *when = format_time (attempt);

      subtitle = g_strdup_printf (_ ("Not updated yet · last attempt %s"), when);
    }
  else
    subtitle = g_strdup (_ ("Not updated yet"));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->status_row), subtitle);
  if (error == NULL && last_error[0] != '\0')
    /* TRANSLATORS: the helper's reason follows */
    helper_error = g_strdup_printf (_ ("The lists could not be loaded: %s"), last_error);
  if (error == NULL)
    error = helper_error;
  /* a running update may end it */
  if (self->updating || helper_running_update (self))
    error = NULL;
  gtk_label_set_text (GTK_LABEL (self->error_label), error ? error : "");
  gtk_widget_set_visible (self->error_label, error != NULL);
}

static void switch_changed_cb (GtkSwitch *sw, GParamSpec *pspec, gpointer user_data);

static guint
category_size (GVariant *lists, const char *id)
{
  GVariantIter iter;
  GVariant *list;
  guint n = 0;

  if (lists == NULL)
    return 0;
  g_variant_iter_init (&iter, lists);
  while ((list = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autofree const char **categories = NULL;
      guint32 domains = 0, networks = 0;

      g_variant_lookup (list, "domains", "u", &domains);
      g_variant_lookup (list, "networks", "u", &networks);
      if (g_variant_lookup (list, "categories", "^a&s", &categories)
          && g_strv_contains (categories, id))
        n += domains + networks;
      g_variant_unref (list);
    }
  return n;
}

/* Entries of a category: its lists', and for CUSTOM the user's own list's */
static guint
category_entries (PcFilterListsGroup *self, GVariant *lists, const char *id)
{
  guint32 domains = 0, networks = 0;

  if (g_str_equal (id, "CUSTOM") && self->status != NULL)
    {
      g_variant_lookup (self->status, "custom-domains", "u", &domains);
      g_variant_lookup (self->status, "custom-networks", "u", &networks);
    }
  return category_size (lists, id) + domains + networks;
}

static gboolean
is_enabled (PcFilterListsGroup *self, const char *id)
{
  return self->enabled != NULL && g_strv_contains ((const char *const *)self->enabled, id);
}

/* Categories some loaded list has, the custom list when there is one, and enabled ones (so
 * they can be switched off); not every category the helper knows. */
static gboolean
category_shown (PcFilterListsGroup *self, GVariant *lists, const char *id)
{
  const char *custom = "";

  if (g_str_equal (id, "CUSTOM") && self->status != NULL
      && g_variant_lookup (self->status, "custom-list", "&s", &custom) && custom[0] != '\0')
    return TRUE;
  return category_size (lists, id) > 0 || is_enabled (self, id);
}

static void
sync_switches (PcFilterListsGroup *self)
{
  GHashTableIter iter;
  gpointer id, sw;

  self->building = TRUE;
  g_hash_table_iter_init (&iter, self->switches);
  while (g_hash_table_iter_next (&iter, &id, &sw))
    {
      gtk_switch_set_active (sw, is_enabled (self, id));
      /* the administrator's value cannot be changed here */
      gtk_widget_set_sensitive (sw, g_strcmp0 (self->source, "admin") != 0);
    }
  self->building = FALSE;
}

static void
show_categories (PcFilterListsGroup *self)
{
  g_autoptr (GVariant) categories = NULL;
  g_autoptr (GVariant) lists = NULL;
  g_autoptr (GString) signature = g_string_new (NULL);
  GVariantIter iter;
  GVariant *category;
  guint64 domains = 0, networks = 0;

  if (self->status == NULL)
    return;
  categories = g_variant_lookup_value (self->status, "categories", G_VARIANT_TYPE ("aa{sv}"));
  lists = g_variant_lookup_value (self->status, "lists", G_VARIANT_TYPE ("aa{sv}"));
  g_variant_lookup (self->status, "domains", "t", &domains);
  g_variant_lookup (self->status, "networks", "t", &networks);
  {
    g_autofree char *d = g_strdup_printf ("%" G_GUINT64_FORMAT, domains);
    g_autofree char *n = g_strdup_printf ("%" G_GUINT64_FORMAT, networks);
    g_autofree char *text = NULL;

    if (lists == NULL || g_variant_n_children (lists) == 0)
      text = g_strdup (_ ("No filter lists are installed yet."));
    else
      /* TRANSLATORS: "120000 domains and 300 networks in 5 lists" */
      text = g_strdup_printf (g_dngettext (NULL, "%s domains and %s networks in %u list",
                                           "%s domains and %s networks in %u lists",
                                           g_variant_n_children (lists)),
                              d, n, (guint)g_variant_n_children (lists));
    adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (self), text);
  }
  if (categories != NULL)
    {
      g_variant_iter_init (&iter, categories);
      while ((category = g_variant_iter_next_value (&iter)) != NULL)
        {
          const char *id = "";

          g_variant_lookup (category, "id", "&s", &id);
          if (category_shown (self, lists, id))
            g_string_append_printf (signature, "%s:%u;", id, category_entries (self, lists, id));
          g_variant_unref (category);
        }
    }
  if (g_strcmp0 (signature->str, self->signature) == 0)
    return;
  g_free (self->signature);
  self->signature = g_strdup (signature->str);
  for (guint i = 0; i < self->category_rows->len; i++)
    adw_preferences_group_remove (ADW_PREFERENCES_GROUP (self), self->category_rows->pdata[i]);
  g_ptr_array_set_size (self->category_rows, 0);
  g_hash_table_remove_all (self->switches);
  if (categories == NULL)
    return;
  g_variant_iter_init (&iter, categories);
  while ((category = g_variant_iter_next_value (&iter)) != NULL)
    {
      const char *id = "", *name = "", *description = "";
      GtkWidget *row, *sw;
      guint n;
      g_autofree char *subtitle = NULL;

      g_variant_lookup (category, "id", "&s", &id);
      g_variant_lookup (category, "name", "&s", &name);
      g_variant_lookup (category, "description", "&s", &description);
      /* the helper's names are English, marked for translation in helper/intel/pc-intel.c
       * (an empty string would translate to the catalog's header) */
      if (name[0] != '\0')
        name = _ (name);
      if (description[0] != '\0')
        description = _ (description);
      if (!category_shown (self, lists, id))
        {
          g_variant_unref (category);
          continue;
        }
      n = category_entries (self, lists, id);
      row = adw_action_row_new ();
      sw = gtk_switch_new ();
      /* TRANSLATORS: a filter list category: its description, the id rules name it by (L:MAL)
       * and its size */
      subtitle
          = g_strdup_printf (g_dngettext (NULL, "%s (L:%s, %u entry)", "%s (L:%s, %u entries)", n),
                             description, id, n);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name[0] ? name : id);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      gtk_widget_set_valign (sw, GTK_ALIGN_CENTER);
      g_object_set_data_full (G_OBJECT (sw), "pc-id", g_strdup (id), g_free);
      g_signal_connect (sw, "notify::active", G_CALLBACK (switch_changed_cb), self);
      gtk_accessible_update_property (GTK_ACCESSIBLE (sw), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      name[0] ? name : id, -1);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), sw);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), sw);
      g_object_set_data (G_OBJECT (row), "pc-switch", sw);
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (self), row);
      g_ptr_array_add (self->category_rows, row);
      g_hash_table_insert (self->switches, g_strdup (id), sw);
      g_variant_unref (category);
    }
  sync_switches (self);
}

/* ---- calls -------------------------------------------------------------------------------- */

static void
list_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  PcFilterListsGroup *self = user_data;
  g_autoptr (GVariant) status = NULL;
  g_autoptr (GError) error = NULL;

  if (!pc_dbus_portcullis1_call_list_filter_lists_finish (PC_DBUS_PORTCULLIS1 (source), &status,
                                                          res, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      self->loading = FALSE;
      pc_client_fix_error (error);
      g_message ("cannot list the filter lists: %s", error->message);
      update_polling (self);
      return;
    }
  self->loading = FALSE;
  g_clear_pointer (&self->status, g_variant_unref);
  self->status = g_steal_pointer (&status);
  show_categories (self);
  show_status (self);
  show_progress (self);
  update_polling (self);
}

static void
reload (PcFilterListsGroup *self)
{
  PcClient *client = pc_application_get_client (app ());

  /* one call at a time: a slow helper is not asked again before it answered */
  if (client == NULL || !pc_application_get_helper_available (app ()) || self->loading)
    return;
  self->loading = TRUE;
  pc_dbus_portcullis1_call_list_filter_lists (pc_client_get_proxy (client), self->cancellable,
                                              list_cb, self);
}

void
pc_filter_lists_group_reload (PcFilterListsGroup *self)
{
  reload (self);
}

static void
update_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  PcFilterListsGroup *self = user_data;
  g_autoptr (GVariant) ret = NULL;
  g_autoptr (GError) error = NULL;
  gboolean updated = FALSE;

  ret = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), res, &error);
  if (ret == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->updating = FALSE;
  g_clear_pointer (&self->result_text, g_free);
  g_clear_pointer (&self->error_text, g_free);
  if (ret == NULL)
    {
      pc_client_fix_error (error);
      g_message ("UpdateFilterLists: %s", error->message);
      /* TRANSLATORS: shown under the filter lists when "Update Now" failed */
      self->error_text = g_strdup_printf (_ ("The update failed: %s"), error->message);
      self->result_text = g_strdup (self->error_text);
    }
  else
    {
      g_variant_get (ret, "(b)", &updated);
      self->result_text = g_strdup (updated ? _ ("The filter lists were updated")
                                            : _ ("The filter lists are up to date"));
      toast (self, self->result_text);
    }
  show_status (self);
  show_progress (self);
  self->loading = FALSE; /* a read from before the end would show the update running */
  reload (self);
}

void
pc_filter_lists_group_update (PcFilterListsGroup *self)
{
  PcClient *client = pc_application_get_client (app ());

  if (client == NULL || self->updating)
    return;
  self->updating = TRUE;
  g_array_set_size (self->seen_fractions, 0);
  g_ptr_array_set_size (self->seen_phases, 0);
  g_clear_pointer (&self->error_text, g_free);
  g_clear_pointer (&self->result_text, g_free);
  show_status (self);
  show_progress (self);
  /* polkit may ask for a password, and a big download takes a while: no D-Bus timeout */
  g_dbus_proxy_call (G_DBUS_PROXY (pc_client_get_proxy (client)), "UpdateFilterLists", NULL,
                     G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, G_MAXINT, self->cancellable,
                     update_cb, self);
  update_polling (self);
}

static void
set_lists_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (PcFilterListsGroup) self = user_data;
  g_autoptr (GError) error = NULL;

  if (pc_application_call_configure_finish (app (), res, &error))
    return; /* the settings view re-reads on SettingsChanged */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  {
    g_autofree char *text
        = g_strdup_printf (_ ("Could not change the filter lists: %s"), error->message);
    toast (self, text);
  }
  /* show what the helper has */
  sync_switches (self);
}

static void
switch_changed_cb (GtkSwitch *sw, GParamSpec *pspec, gpointer user_data)
{
  PcFilterListsGroup *self = user_data;
  const char *id = g_object_get_data (G_OBJECT (sw), "pc-id");
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) value = NULL;
  gboolean on = gtk_switch_get_active (sw);

  if (self->building)
    return;
  /* ids that are not categories (a list's own id, CUSTOM) stay as they are */
  for (guint i = 0; self->enabled != NULL && self->enabled[i] != NULL; i++)
    if (!g_str_equal (self->enabled[i], id))
      g_strv_builder_add (builder, self->enabled[i]);
  if (on)
    g_strv_builder_add (builder, id);
  value = g_strv_builder_end (builder);
  pc_application_call_configure (
      app (), "SetSetting",
      g_variant_new ("(sv)", "filter-lists", g_variant_new_strv ((const char *const *)value, -1)),
      self->cancellable, set_lists_cb, g_object_ref (self));
}

void
pc_filter_lists_group_set_setting (PcFilterListsGroup *self, GVariant *value, const char *source)
{
  g_strfreev (self->enabled);
  self->enabled = value != NULL && g_variant_is_of_type (value, G_VARIANT_TYPE_STRING_ARRAY)
                      ? g_variant_dup_strv (value, NULL)
                      : NULL;
  g_free (self->source);
  self->source = g_strdup (source);
  show_categories (self);
  sync_switches (self);
  /* settings changed: the lists may have too (custom-list, lists-url) */
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    reload (self);
}

gboolean
pc_filter_lists_group_test_set (PcFilterListsGroup *self, const char *id, gboolean on)
{
  GtkSwitch *sw = g_hash_table_lookup (self->switches, id);

  if (sw == NULL)
    return FALSE;
  gtk_switch_set_active (sw, on);
  return TRUE;
}

GVariant *
pc_filter_lists_group_dump (PcFilterListsGroup *self)
{
  GVariantBuilder b, categories, fractions;
  g_autoptr (GStrvBuilder) phases = g_strv_builder_new ();
  g_auto (GStrv) seen_phases = NULL;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_init (&categories, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < self->category_rows->len; i++)
    {
      GtkWidget *row = self->category_rows->pdata[i];
      GtkSwitch *sw = g_object_get_data (G_OBJECT (row), "pc-switch");

      g_variant_builder_add_parsed (
          &categories, "{'id': <%s>, 'title': <%s>, 'subtitle': <%s>, 'enabled': <%b>}",
          (const char *)g_object_get_data (G_OBJECT (sw), "pc-id"),
          adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)),
          adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), gtk_switch_get_active (sw));
    }
  g_variant_builder_init (&fractions, G_VARIANT_TYPE ("ad"));
  for (guint i = 0; i < self->seen_fractions->len; i++)
    g_variant_builder_add (&fractions, "d", g_array_index (self->seen_fractions, double, i));
  for (guint i = 0; i < self->seen_phases->len; i++)
    g_strv_builder_add (phases, self->seen_phases->pdata[i]);
  seen_phases = g_strv_builder_end (phases);
  g_variant_builder_add (&b, "{sv}", "categories", g_variant_builder_end (&categories));
  g_variant_builder_add (
      &b, "{sv}", "description",
      g_variant_new_string (adw_preferences_group_get_description (ADW_PREFERENCES_GROUP (self))
                                ?: ""));
  g_variant_builder_add (
      &b, "{sv}", "status",
      g_variant_new_string (adw_action_row_get_subtitle (ADW_ACTION_ROW (self->status_row)) ?: ""));
  g_variant_builder_add (
      &b, "{sv}", "error",
      g_variant_new_string (gtk_widget_get_visible (self->error_label)
                                ? gtk_label_get_text (GTK_LABEL (self->error_label))
                                : ""));
  g_variant_builder_add (&b, "{sv}", "result",
                         g_variant_new_string (self->result_text ? self->result_text : ""));
  g_variant_builder_add (&b, "{sv}", "updating",
                         g_variant_new_boolean (self->updating || helper_running_update (self)));
  g_variant_builder_add (&b, "{sv}", "button-sensitive",
                         g_variant_new_boolean (gtk_widget_get_sensitive (self->update_button)));
  g_variant_builder_add_parsed (
      &b, "{'progress', <{'visible': <%b>, 'fraction': <%d>, 'text': <%s>}>}",
      gtk_widget_get_visible (self->progress_row),
      gtk_progress_bar_get_fraction (GTK_PROGRESS_BAR (self->progress)),
      gtk_progress_bar_get_text (GTK_PROGRESS_BAR (self->progress)) ?: "");
  g_variant_builder_add (&b, "{sv}", "seen-fractions", g_variant_builder_end (&fractions));
  g_variant_builder_add (&b, "{sv}", "seen-phases",
                         g_variant_new_strv ((const char *const *)seen_phases, -1));
  return g_variant_builder_end (&b);
}

/* ---- life cycle ------------------------------------------------------------------------------ */

static void
update_clicked_cb (GtkButton *button, gpointer user_data)
{
  pc_filter_lists_group_update (user_data);
}

static void
pc_filter_lists_group_map (GtkWidget *widget)
{
  PcFilterListsGroup *self = PC_FILTER_LISTS_GROUP (widget);

  GTK_WIDGET_CLASS (pc_filter_lists_group_parent_class)->map (widget);
  reload (self);
}

static void
pc_filter_lists_group_unmap (GtkWidget *widget)
{
  PcFilterListsGroup *self = PC_FILTER_LISTS_GROUP (widget);

  g_clear_handle_id (&self->poll_id, g_source_remove);
  GTK_WIDGET_CLASS (pc_filter_lists_group_parent_class)->unmap (widget);
}

static void
pc_filter_lists_group_dispose (GObject *object)
{
  PcFilterListsGroup *self = PC_FILTER_LISTS_GROUP (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_handle_id (&self->poll_id, g_source_remove);
  g_clear_pointer (&self->status, g_variant_unref);
  g_clear_pointer (&self->switches, g_hash_table_unref);
  g_clear_pointer (&self->category_rows, g_ptr_array_unref);
  g_clear_pointer (&self->seen_fractions, g_array_unref);
  g_clear_pointer (&self->seen_phases, g_ptr_array_unref);
  G_OBJECT_CLASS (pc_filter_lists_group_parent_class)->dispose (object);
}

static void
pc_filter_lists_group_finalize (GObject *object)
{
  PcFilterListsGroup *self = PC_FILTER_LISTS_GROUP (object);

  g_strfreev (self->enabled);
  g_free (self->source);
  g_free (self->signature);
  g_free (self->error_text);
  g_free (self->result_text);
  G_OBJECT_CLASS (pc_filter_lists_group_parent_class)->finalize (object);
}

static void
pc_filter_lists_group_class_init (PcFilterListsGroupClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = pc_filter_lists_group_dispose;
  G_OBJECT_CLASS (klass)->finalize = pc_filter_lists_group_finalize;
  GTK_WIDGET_CLASS (klass)->map = pc_filter_lists_group_map;
  GTK_WIDGET_CLASS (klass)->unmap = pc_filter_lists_group_unmap;
}

static void
pc_filter_lists_group_init (PcFilterListsGroup *self)
{
  GtkWidget *box;

  self->cancellable = g_cancellable_new ();
  self->switches = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->category_rows = g_ptr_array_new ();
  self->seen_fractions = g_array_new (FALSE, FALSE, sizeof (double));
  self->seen_phases = g_ptr_array_new_with_free_func (g_free);
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (self), _ ("Filter Lists"));

  self->status_row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->status_row), _ ("Updates"));
  self->update_button = gtk_button_new_with_mnemonic (_ ("_Update Now"));
  gtk_widget_set_valign (self->update_button, GTK_ALIGN_CENTER);
  g_signal_connect (self->update_button, "clicked", G_CALLBACK (update_clicked_cb), self);
  adw_action_row_add_suffix (ADW_ACTION_ROW (self->status_row), self->update_button);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (self), self->status_row);

  /* the progress of a running update, in a row of its own under the status */
  self->progress_row = adw_preferences_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->progress_row), _ ("Update Progress"));
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (self->progress_row), FALSE);
  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  self->progress = gtk_progress_bar_new ();
  gtk_progress_bar_set_show_text (GTK_PROGRESS_BAR (self->progress), TRUE);
  gtk_progress_bar_set_pulse_step (GTK_PROGRESS_BAR (self->progress), 0.1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->progress), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Update Progress"), -1);
  gtk_box_append (GTK_BOX (box), self->progress);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (self->progress_row), box);
  gtk_widget_set_visible (self->progress_row, FALSE);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (self), self->progress_row);

  self->error_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->error_label), 0);
  gtk_label_set_wrap (GTK_LABEL (self->error_label), TRUE);
  gtk_widget_set_margin_top (self->error_label, 6);
  gtk_widget_add_css_class (self->error_label, "error");
  gtk_widget_set_visible (self->error_label, FALSE);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (self->status_row),
                                  GTK_ACCESSIBLE_RELATION_DESCRIBED_BY, self->error_label, NULL,
                                  -1);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (self), self->error_label);
  show_status (self);
  show_progress (self);
}

GtkWidget *
pc_filter_lists_group_new (void)
{
  return g_object_new (PC_TYPE_FILTER_LISTS_GROUP, NULL);
}
