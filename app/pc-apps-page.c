/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis"

#include "config.h"

#include "pc-apps-page.h"

#include "pc-application.h"

#include <glib/gi18n.h>
#include <string.h>

struct _PcAppsPage
{
  GtkWidget parent_instance;

  AdwLeaflet *leaflet;
  GtkWidget *content;
  GtkSearchEntry *search_entry;
  GtkListBox *list;
  GtkButton *back_button;
  GtkStack *stack;
  AdwStatusPage *empty_page;
  PcSettingsView *view;

  GCancellable *cancellable;
  char *needle;
  char *selected;
  gboolean filling;
};

G_DEFINE_FINAL_TYPE (PcAppsPage, pc_apps_page, GTK_TYPE_WIDGET)

static PcApplication *
app (void)
{
  return PC_APPLICATION (g_application_get_default ());
}

static gboolean
filter_func (GtkListBoxRow *row, gpointer user_data)
{
  PcAppsPage *self = user_data;
  const char *text = g_object_get_data (G_OBJECT (row), "pc-search");

  return self->needle == NULL || self->needle[0] == '\0' || strstr (text, self->needle) != NULL;
}

/* a profile's name as shown (and sorted): the helper's own profiles have names marked for
 * translation there; one without a name shows its id */
static const char *
display_name (GVariant *profile)
{
  const char *id = "", *name = NULL;
  gboolean special = FALSE;

  g_variant_lookup (profile, "id", "&s", &id);
  g_variant_lookup (profile, "name", "&s", &name);
  g_variant_lookup (profile, "special", "b", &special);
  if (name == NULL || name[0] == '\0')
    return id;
  return special ? _ (name) : name;
}

static GtkWidget *
make_row (GVariant *profile)
{
  const char *id = "", *name = NULL, *icon = NULL;
  g_autoptr (GVariant) overrides = NULL;
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *image;
  g_autofree char *search = NULL;
  g_autofree char *joined = NULL;
  g_autofree char *subtitle = NULL;
  gsize n_overrides = 0;
  gboolean special = FALSE;

  g_variant_lookup (profile, "id", "&s", &id);
  name = display_name (profile);
  g_variant_lookup (profile, "icon", "&s", &icon);
  g_variant_lookup (profile, "special", "b", &special);
  overrides = g_variant_lookup_value (profile, "overrides", G_VARIANT_TYPE_VARDICT);
  if (overrides != NULL)
    n_overrides = g_variant_n_children (overrides);
  /* a profile named after its executable: the program's name, the path below */
  if (name[0] == '/' && strrchr (name, '/')[1] != '\0')
    name = strrchr (name, '/') + 1;
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  if (n_overrides > 0)
    subtitle = g_strdup_printf (
        g_dngettext (GETTEXT_PACKAGE, "%u own setting", "%u own settings", n_overrides),
        (guint)n_overrides);
  else
    subtitle = g_strdup (special ? _ ("System") : _ ("Global settings"));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  image
      = gtk_image_new_from_icon_name (icon && icon[0] ? icon : "application-x-executable-symbolic");
  gtk_image_set_pixel_size (GTK_IMAGE (image), 32);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), image);
  joined = g_strjoin (" ", id, name, NULL);
  search = g_utf8_casefold (joined, -1);
  g_object_set_data_full (G_OBJECT (row), "pc-search", g_steal_pointer (&search), g_free);
  g_object_set_data_full (G_OBJECT (row), "pc-id", g_strdup (id), g_free);
  return row;
}

static int
compare_profiles (gconstpointer a, gconstpointer b)
{
  return g_utf8_collate (display_name (*(GVariant **)a), display_name (*(GVariant **)b));
}

static void
select_row (PcAppsPage *self, const char *id)
{
  for (GtkWidget *w = gtk_widget_get_first_child (GTK_WIDGET (self->list)); w != NULL;
       w = gtk_widget_get_next_sibling (w))
    if (g_strcmp0 (g_object_get_data (G_OBJECT (w), "pc-id"), id) == 0)
      {
        gtk_list_box_select_row (self->list, GTK_LIST_BOX_ROW (w));
        return;
      }
}

static void
list_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  PcAppsPage *self = user_data;
  g_autoptr (GVariant) profiles = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) sorted = g_ptr_array_new_with_free_func ((GDestroyNotify)g_variant_unref);
  GVariantIter iter;
  GVariant *profile;
  GtkWidget *child;
  gboolean found = FALSE;

  if (!pc_dbus_portcullis1_call_list_profiles_finish (PC_DBUS_PORTCULLIS1 (source), &profiles, res,
                                                      &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          pc_client_fix_error (error);
          g_message ("cannot list profiles: %s", error->message);
        }
      return;
    }
  pc_live_model_set_profiles (pc_application_get_live_model (app ()), profiles);
  g_variant_iter_init (&iter, profiles);
  while ((profile = g_variant_iter_next_value (&iter)) != NULL)
    g_ptr_array_add (sorted, profile);
  g_ptr_array_sort (sorted, compare_profiles);

  self->filling = TRUE;
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->list))) != NULL)
    gtk_list_box_remove (self->list, child);
  for (guint i = 0; i < sorted->len; i++)
    {
      const char *id = "";

      g_variant_lookup (sorted->pdata[i], "id", "&s", &id);
      found |= g_strcmp0 (id, self->selected) == 0;
      gtk_list_box_append (self->list, make_row (sorted->pdata[i]));
    }
  if (found)
    select_row (self, self->selected);
  else if (self->selected != NULL)
    {
      /* deleted */
      g_clear_pointer (&self->selected, g_free);
      gtk_stack_set_visible_child_name (self->stack, "empty");
    }
  self->filling = FALSE;
}

static void
reload (PcAppsPage *self)
{
  PcClient *client = pc_application_get_client (app ());

  if (client == NULL || !pc_application_get_helper_available (app ()))
    return;
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  pc_dbus_portcullis1_call_list_profiles (pc_client_get_proxy (client), self->cancellable, list_cb,
                                          self);
}

static void
row_selected_cb (GtkListBox *list, GtkListBoxRow *row, gpointer user_data)
{
  PcAppsPage *self = user_data;
  const char *id;

  if (row == NULL || self->filling)
    return;
  id = g_object_get_data (G_OBJECT (row), "pc-id");
  g_free (self->selected);
  self->selected = g_strdup (id);
  pc_settings_view_set_profile (self->view, id);
  gtk_stack_set_visible_child_name (self->stack, "profile");
}

static void
row_activated_cb (GtkListBox *list, GtkListBoxRow *row, gpointer user_data)
{
  PcAppsPage *self = user_data;

  adw_leaflet_set_visible_child (self->leaflet, self->content);
}

static void
search_changed_cb (GtkSearchEntry *entry, gpointer user_data)
{
  PcAppsPage *self = user_data;

  g_free (self->needle);
  self->needle = g_utf8_casefold (gtk_editable_get_text (GTK_EDITABLE (entry)), -1);
  gtk_list_box_invalidate_filter (self->list);
}

static void
back_clicked_cb (GtkButton *button, gpointer user_data)
{
  PcAppsPage *self = user_data;

  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
}

static void
helper_changed_cb (gpointer user_data)
{
  /* hidden, it re-reads when shown */
  if (gtk_widget_get_mapped (GTK_WIDGET (user_data)))
    reload (user_data);
}

static void
pc_apps_page_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (pc_apps_page_parent_class)->map (widget);
  reload (PC_APPS_PAGE (widget));
}

static void
pc_apps_page_dispose (GObject *object)
{
  PcAppsPage *self = PC_APPS_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->leaflet != NULL)
    {
      gtk_widget_unparent (GTK_WIDGET (self->leaflet));
      self->leaflet = NULL;
    }
  G_OBJECT_CLASS (pc_apps_page_parent_class)->dispose (object);
}

static void
pc_apps_page_finalize (GObject *object)
{
  PcAppsPage *self = PC_APPS_PAGE (object);

  g_free (self->needle);
  g_free (self->selected);
  G_OBJECT_CLASS (pc_apps_page_parent_class)->finalize (object);
}

static void
pc_apps_page_class_init (PcAppsPageClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = pc_apps_page_dispose;
  G_OBJECT_CLASS (klass)->finalize = pc_apps_page_finalize;
  widget_class->map = pc_apps_page_map;

  g_type_ensure (PC_TYPE_SETTINGS_VIEW);
  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/portcullis/Portcullis/pc-apps-page.ui");
  gtk_widget_class_bind_template_child (widget_class, PcAppsPage, leaflet);
  gtk_widget_class_bind_template_child (widget_class, PcAppsPage, content);
  gtk_widget_class_bind_template_child (widget_class, PcAppsPage, search_entry);
  gtk_widget_class_bind_template_child (widget_class, PcAppsPage, list);
  gtk_widget_class_bind_template_child (widget_class, PcAppsPage, back_button);
  gtk_widget_class_bind_template_child (widget_class, PcAppsPage, stack);
  gtk_widget_class_bind_template_child (widget_class, PcAppsPage, empty_page);
  gtk_widget_class_bind_template_child (widget_class, PcAppsPage, view);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
pc_apps_page_init (PcAppsPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_list_box_set_filter_func (self->list, filter_func, self, NULL);
  g_signal_connect (self->list, "row-selected", G_CALLBACK (row_selected_cb), self);
  g_signal_connect (self->list, "row-activated", G_CALLBACK (row_activated_cb), self);
  g_signal_connect (self->search_entry, "search-changed", G_CALLBACK (search_changed_cb), self);
  g_signal_connect (self->back_button, "clicked", G_CALLBACK (back_clicked_cb), self);
  g_signal_connect_object (app (), "settings-changed", G_CALLBACK (helper_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (app (), "notify::helper-state", G_CALLBACK (helper_changed_cb), self,
                           G_CONNECT_SWAPPED);
}

void
pc_apps_page_focus_search (PcAppsPage *self)
{
  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

void
pc_apps_page_select (PcAppsPage *self, const char *profile_id)
{
  g_free (self->selected);
  self->selected = g_strdup (profile_id);
  pc_settings_view_set_profile (self->view, profile_id);
  gtk_stack_set_visible_child_name (self->stack, "profile");
  select_row (self, profile_id);
  adw_leaflet_set_visible_child (self->leaflet, self->content);
}

PcSettingsView *
pc_apps_page_get_view (PcAppsPage *self)
{
  return self->view;
}

GVariant *
pc_apps_page_dump (PcAppsPage *self)
{
  GVariantBuilder b, ids;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_init (&ids, G_VARIANT_TYPE_STRING_ARRAY);
  for (GtkWidget *w = gtk_widget_get_first_child (GTK_WIDGET (self->list)); w != NULL;
       w = gtk_widget_get_next_sibling (w))
    if (g_object_get_data (G_OBJECT (w), "pc-id") != NULL && gtk_widget_get_child_visible (w))
      g_variant_builder_add (&ids, "s", (const char *)g_object_get_data (G_OBJECT (w), "pc-id"));
  g_variant_builder_add (&b, "{sv}", "profiles", g_variant_builder_end (&ids));
  g_variant_builder_add (&b, "{sv}", "selected",
                         g_variant_new_string (self->selected ? self->selected : ""));
  g_variant_builder_add (&b, "{sv}", "view", pc_settings_view_dump (self->view));
  return g_variant_builder_end (&b);
}
