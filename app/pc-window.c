/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis"

#include "config.h"

#include "pc-window.h"

#include "pc-apps-page.h"
#include "pc-bandwidth-graph.h"
#include "pc-history-page.h"
#include "pc-monitor-page.h"
#include "pc-settings-view.h"

#include <glib/gi18n.h>

struct _PcWindow
{
  AdwApplicationWindow parent_instance;

  AdwToastOverlay *toast_overlay;
  AdwViewStack *stack;
  GtkRevealer *banner_revealer;
  GtkWidget *banner;
  GtkImage *banner_icon;
  GtkLabel *banner_title;
  GtkLabel *banner_detail;
  PcMonitorPage *monitor_page;
  PcAppsPage *apps_page;
  PcSettingsView *settings_page;
  GtkDropDown *bandwidth_app;
  GtkDropDown *bandwidth_range;
  GCancellable *bandwidth_cancellable;
  PcBandwidthGraph *bandwidth_graph;
};

G_DEFINE_FINAL_TYPE (PcWindow, pc_window, ADW_TYPE_APPLICATION_WINDOW)

static PcApplication *
app_of (PcWindow *self)
{
  /* "application" is not set yet in constructed() */
  return PC_APPLICATION (g_application_get_default ());
}

static void
update_banner (PcWindow *self)
{
  PcApplication *app = app_of (self);
  const char *title = pc_application_get_problem_title (app);
  const char *detail = pc_application_get_problem_detail (app);
  PcHelperState state = pc_application_get_helper_state (app);

  gtk_label_set_text (self->banner_title, title ? title : "");
  gtk_label_set_text (self->banner_detail, detail ? detail : "");
  gtk_widget_set_visible (GTK_WIDGET (self->banner_detail), detail != NULL && detail[0] != '\0');
  gtk_widget_remove_css_class (self->banner, "error");
  gtk_widget_remove_css_class (self->banner, "warning");
  gtk_widget_add_css_class (self->banner, state == PC_HELPER_STATE_DEGRADED ? "warning" : "error");
  gtk_image_set_from_icon_name (self->banner_icon, state == PC_HELPER_STATE_DEGRADED
                                                       ? "dialog-warning-symbolic"
                                                       : "dialog-error-symbolic");
  gtk_revealer_set_reveal_child (self->banner_revealer, title != NULL);
  if (title != NULL)
    gtk_accessible_update_property (GTK_ACCESSIBLE (self->banner),
                                    GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, title, -1);
}

static void
problem_changed_cb (GObject *app, GParamSpec *pspec, gpointer user_data)
{
  update_banner (user_data);
}

static void
show_page_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  pc_window_show_page (PC_WINDOW (widget), g_variant_get_string (parameter, NULL));
}

static void
search_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  PcWindow *self = PC_WINDOW (widget);
  const char *page = pc_window_get_page (self);

  if (g_strcmp0 (page, "apps") == 0)
    pc_apps_page_focus_search (self->apps_page);
  else
    {
      pc_window_show_page (self, "monitor");
      pc_monitor_page_focus_search (self->monitor_page);
    }
}

static void
open_profile_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  pc_window_open_profile (PC_WINDOW (widget), g_variant_get_string (parameter, NULL));
}

typedef struct
{
  PcWindow *self;
  gint64 since;
  guint step;
  guint n;
} BandwidthCall;

static void
bandwidth_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  BandwidthCall *call = user_data;
  g_autoptr (GVariant) series = NULL;
  g_autoptr (GError) error = NULL;

  if (!pc_dbus_portcullis1_call_get_bandwidth_finish (PC_DBUS_PORTCULLIS1 (source), &series, res,
                                                      &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_autofree char *text = NULL;

          pc_client_fix_error (error);
          text = g_strdup_printf (_ ("Cannot read the bandwidth history: %s"), error->message);
          pc_window_toast (call->self, text);
        }
      g_free (call);
      return;
    }
  pc_bandwidth_graph_set_history (call->self->bandwidth_graph, series, call->since, call->step,
                                  call->n);
  g_free (call);
}

/* The history's name of an app: its profile, or the program of a connection without one. */
static const char *
history_app (PcAppRow *app)
{
  const char *key;

  if (app == NULL)
    return "";
  if (pc_app_row_get_profile (app)[0] != '\0')
    return pc_app_row_get_profile (app);
  key = pc_app_row_get_key (app);
  return g_str_has_prefix (key, "exe:") ? key + 4 : key;
}

void
pc_window_refresh_bandwidth (PcWindow *self)
{
  PcAppRow *app = gtk_drop_down_get_selected_item (self->bandwidth_app);
  guint range = gtk_drop_down_get_selected (self->bandwidth_range);
  PcClient *client = pc_application_get_client (app_of (self));
  BandwidthCall *call;

  pc_bandwidth_graph_set_app (self->bandwidth_graph, app ? pc_app_row_get_key (app) : "");
  g_cancellable_cancel (self->bandwidth_cancellable);
  g_clear_object (&self->bandwidth_cancellable);
  if (range == 0 || client == NULL)
    {
      pc_bandwidth_graph_set_live (self->bandwidth_graph);
      return;
    }
  self->bandwidth_cancellable = g_cancellable_new ();
  call = g_new0 (BandwidthCall, 1);
  call->self = self;
  /* 288 five-minute slots for a day, 240 three-hour slots for a month */
  call->step = range == 1 ? 300 : 10800;
  call->n = range == 1 ? 288 : 240;
  {
    gint64 step_us = (gint64)call->step * G_USEC_PER_SEC;
    gint64 now = g_get_real_time ();

    /* slots aligned to the step, as the helper's series are; the last one is the current one */
    call->since = now - now % step_us - (gint64)(call->n - 1) * step_us;
  }
  pc_dbus_portcullis1_call_get_bandwidth (pc_client_get_proxy (client), history_app (app),
                                          call->since, 0, call->step, self->bandwidth_cancellable,
                                          bandwidth_cb, call);
}

void
pc_window_set_bandwidth_range (PcWindow *self, guint range)
{
  if (gtk_drop_down_get_selected (self->bandwidth_range) != range)
    gtk_drop_down_set_selected (self->bandwidth_range, range);
  else
    pc_window_refresh_bandwidth (self);
}

static void
bandwidth_app_cb (GObject *dropdown, GParamSpec *pspec, gpointer user_data)
{
  pc_window_refresh_bandwidth (user_data);
}

static void
pc_window_constructed (GObject *object)
{
  PcWindow *self = PC_WINDOW (object);
  PcApplication *app = app_of (self);
  GSettings *settings = pc_application_get_settings (app);
  PcLiveModel *model = pc_application_get_live_model (app);
  GtkExpression *name = gtk_property_expression_new (PC_TYPE_APP_ROW, NULL, "name");

  G_OBJECT_CLASS (pc_window_parent_class)->constructed (object);

  if (settings != NULL)
    {
      g_autofree char *page = g_settings_get_string (settings, "last-page");

      gtk_window_set_default_size (GTK_WINDOW (self), g_settings_get_int (settings, "window-width"),
                                   g_settings_get_int (settings, "window-height"));
      if (g_settings_get_boolean (settings, "window-maximized"))
        gtk_window_maximize (GTK_WINDOW (self));
      adw_view_stack_set_visible_child_name (self->stack, page);
    }
  else
    gtk_window_set_default_size (GTK_WINDOW (self), 1100, 720);

  g_signal_connect_object (app, "notify::problem-title", G_CALLBACK (problem_changed_cb), self, 0);
  g_signal_connect_object (app, "notify::problem-detail", G_CALLBACK (problem_changed_cb), self, 0);
  g_signal_connect_object (app, "notify::helper-state", G_CALLBACK (problem_changed_cb), self, 0);
  update_banner (self);

  gtk_drop_down_set_expression (self->bandwidth_app, name);
  gtk_drop_down_set_model (self->bandwidth_app, pc_live_model_get_apps (model));
  g_signal_connect_object (self->bandwidth_app, "notify::selected-item",
                           G_CALLBACK (bandwidth_app_cb), self, 0);
  g_signal_connect_object (self->bandwidth_range, "notify::selected", G_CALLBACK (bandwidth_app_cb),
                           self, 0);
  pc_bandwidth_graph_set_model (self->bandwidth_graph, model);
  gtk_expression_unref (name);
}

static void
pc_window_dispose (GObject *object)
{
  PcWindow *self = PC_WINDOW (object);

  g_cancellable_cancel (self->bandwidth_cancellable);
  g_clear_object (&self->bandwidth_cancellable);
  G_OBJECT_CLASS (pc_window_parent_class)->dispose (object);
}

static gboolean
pc_window_close_request (GtkWindow *window)
{
  PcWindow *self = PC_WINDOW (window);
  GSettings *settings = pc_application_get_settings (app_of (self));

  if (settings != NULL)
    {
      int width, height;

      gtk_window_get_default_size (window, &width, &height);
      g_settings_delay (settings);
      if (!gtk_window_is_maximized (window))
        {
          g_settings_set_int (settings, "window-width", width);
          g_settings_set_int (settings, "window-height", height);
        }
      g_settings_set_boolean (settings, "window-maximized", gtk_window_is_maximized (window));
      g_settings_set_string (settings, "last-page", pc_window_get_page (self));
      g_settings_apply (settings);
    }
  return GTK_WINDOW_CLASS (pc_window_parent_class)->close_request (window);
}

static void
pc_window_class_init (PcWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->constructed = pc_window_constructed;
  G_OBJECT_CLASS (klass)->dispose = pc_window_dispose;
  GTK_WINDOW_CLASS (klass)->close_request = pc_window_close_request;

  g_type_ensure (PC_TYPE_MONITOR_PAGE);
  g_type_ensure (PC_TYPE_APPS_PAGE);
  g_type_ensure (PC_TYPE_SETTINGS_VIEW);
  g_type_ensure (PC_TYPE_BANDWIDTH_GRAPH);
  g_type_ensure (PC_TYPE_HISTORY_PAGE);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/portcullis/Portcullis/pc-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PcWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, PcWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, PcWindow, banner_revealer);
  gtk_widget_class_bind_template_child (widget_class, PcWindow, banner);
  gtk_widget_class_bind_template_child (widget_class, PcWindow, banner_icon);
  gtk_widget_class_bind_template_child (widget_class, PcWindow, banner_title);
  gtk_widget_class_bind_template_child (widget_class, PcWindow, banner_detail);
  gtk_widget_class_bind_template_child (widget_class, PcWindow, monitor_page);
  gtk_widget_class_bind_template_child (widget_class, PcWindow, apps_page);
  gtk_widget_class_bind_template_child (widget_class, PcWindow, settings_page);
  gtk_widget_class_bind_template_child (widget_class, PcWindow, bandwidth_app);
  gtk_widget_class_bind_template_child (widget_class, PcWindow, bandwidth_range);
  gtk_widget_class_bind_template_child (widget_class, PcWindow, bandwidth_graph);

  gtk_widget_class_install_action (widget_class, "win.show-page", "s", show_page_action);
  gtk_widget_class_install_action (widget_class, "win.search", NULL, search_action);
  gtk_widget_class_install_action (widget_class, "win.open-profile", "s", open_profile_action);
}

static void
pc_window_init (PcWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

PcWindow *
pc_window_new (PcApplication *application)
{
  return g_object_new (PC_TYPE_WINDOW, "application", application, NULL);
}

void
pc_window_show_page (PcWindow *self, const char *name)
{
  if (adw_view_stack_get_child_by_name (self->stack, name) != NULL)
    adw_view_stack_set_visible_child_name (self->stack, name);
}

const char *
pc_window_get_page (PcWindow *self)
{
  return adw_view_stack_get_visible_child_name (self->stack);
}

void
pc_window_toast (PcWindow *self, const char *text)
{
  AdwToast *toast = adw_toast_new (text);

  adw_toast_set_timeout (toast, 4);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

void
pc_window_open_profile (PcWindow *self, const char *profile_id)
{
  pc_window_show_page (self, "apps");
  pc_apps_page_select (self->apps_page, profile_id);
}

gboolean
pc_window_get_banner (PcWindow *self, const char **title, const char **detail)
{
  *title = gtk_label_get_text (self->banner_title);
  *detail = gtk_label_get_text (self->banner_detail);
  return gtk_revealer_get_reveal_child (self->banner_revealer);
}

GtkWidget *
pc_window_get_page_widget (PcWindow *self, const char *name)
{
  return adw_view_stack_get_child_by_name (self->stack, name);
}
