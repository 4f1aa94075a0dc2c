/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis"

#include "config.h"

#include "pc-application.h"
#include "pc-prompt-manager.h"
#include "pc-test-hook.h"
#include "pc-window.h"

#include <glib/gi18n.h>

struct _PcApplication
{
  AdwApplication parent_instance;

  PcClient *client;
  PcLiveModel *live_model;
  GSettings *settings;
  GCancellable *cancellable;
  PcHelperState state;
  GVariant *status;
  char *problem_title;
  char *problem_detail;
  guint status_poll_id;
  guint profiles_later_id;
  guint settings_changed_id;
  gint64 profiles_refreshed;
  PcTestHook *test_hook;
  PcPromptManager *prompt_manager;
  gboolean agent;      /* started with --agent: no window until activated again */
  gboolean agent_held; /* the agent's hold on the application */
};

G_DEFINE_FINAL_TYPE (PcApplication, pc_application, ADW_TYPE_APPLICATION)

enum
{
  PROP_0,
  PROP_HELPER_STATE,
  PROP_PROBLEM_TITLE,
  PROP_PROBLEM_DETAIL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_SETTINGS_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

PcApplication *
pc_application_new (void)
{
  return g_object_new (PC_TYPE_APPLICATION, "application-id", "org.portcullis.Portcullis", "flags",
                       G_APPLICATION_DEFAULT_FLAGS, "resource-base-path",
                       "/org/portcullis/Portcullis", NULL);
}

static void
set_state (PcApplication *self, PcHelperState state, const char *title, const char *detail)
{
  gboolean was_available = pc_application_get_helper_available (self);

  if (g_strcmp0 (title, self->problem_title) != 0)
    {
      g_free (self->problem_title);
      self->problem_title = g_strdup (title);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROBLEM_TITLE]);
    }
  if (g_strcmp0 (detail, self->problem_detail) != 0)
    {
      g_free (self->problem_detail);
      self->problem_detail = g_strdup (detail);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROBLEM_DETAIL]);
    }
  if (state != self->state)
    {
      g_message ("helper state %d -> %d%s%s", self->state, state, title ? ": " : "",
                 title ? title : "");
      self->state = state;
      if (pc_application_get_helper_available (self) != was_available)
        pc_live_model_set_helper_available (self->live_model,
                                            pc_application_get_helper_available (self));
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HELPER_STATE]);
    }
}

static void
status_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  PcApplication *self = user_data;
  g_autoptr (GVariant) status = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree const char **degraded = NULL;

  if (!pc_dbus_portcullis1_call_status_finish (PC_DBUS_PORTCULLIS1 (source), &status, res, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      pc_client_fix_error (error);
      if (pc_client_error_is_denied (error))
        set_state (self, PC_HELPER_STATE_DENIED, _ ("You are not allowed to watch the firewall"),
                   _ ("Your account is not authorized to read the firewall’s state. Ask an "
                      "administrator to allow the “org.portcullis.Portcullis1.monitor” action "
                      "for you."));
      else if (g_error_matches (error, PC_ERROR, PC_ERROR_UNAVAILABLE))
        set_state (self, PC_HELPER_STATE_MISSING, _ ("The firewall service is not running"),
                   _ ("Connections are not being watched. Start it with “systemctl start "
                      "portcullisd” or reinstall Portcullis; this page updates as soon as it "
                      "runs."));
      else
        set_state (self, PC_HELPER_STATE_ERROR, _ ("The firewall service does not answer"),
                   error->message);
      return;
    }
  g_clear_pointer (&self->status, g_variant_unref);
  self->status = g_steal_pointer (&status);
  if (g_variant_lookup (self->status, "degraded", "^a&s", &degraded) && degraded[0] != NULL)
    {
      g_autofree char *joined = g_strjoinv ("\n", (char **)degraded);
      g_autofree char *detail = g_strdup_printf (
          _ ("%s\nSee “portcullisctl status” and the service’s log for details."), joined);
      set_state (self, PC_HELPER_STATE_DEGRADED, _ ("Protection is incomplete"), detail);
    }
  else
    set_state (self, PC_HELPER_STATE_OK, NULL, NULL);
}

static void
refresh_status (PcApplication *self)
{
  if (self->client == NULL)
    return;
  pc_dbus_portcullis1_call_status (pc_client_get_proxy (self->client), self->cancellable, status_cb,
                                   self);
}

static gboolean
status_poll_cb (gpointer user_data)
{
  refresh_status (user_data);
  return G_SOURCE_CONTINUE;
}

static void
profiles_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  PcApplication *self = user_data;
  g_autoptr (GVariant) profiles = NULL;
  g_autoptr (GError) error = NULL;

  if (!pc_dbus_portcullis1_call_list_profiles_finish (PC_DBUS_PORTCULLIS1 (source), &profiles, res,
                                                      &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("cannot list profiles: %s", error->message);
      return;
    }
  pc_live_model_set_profiles (self->live_model, profiles);
}

/* names and icons of the apps Monitor shows */
static void
refresh_profiles (PcApplication *self)
{
  if (self->client == NULL)
    return;
  self->profiles_refreshed = g_get_monotonic_time ();
  pc_dbus_portcullis1_call_list_profiles (pc_client_get_proxy (self->client), self->cancellable,
                                          profiles_cb, self);
}

static gboolean
profiles_later_cb (gpointer user_data)
{
  PcApplication *self = user_data;

  self->profiles_later_id = 0;
  refresh_profiles (self);
  return G_SOURCE_REMOVE;
}

static void
unknown_app_cb (PcLiveModel *model, gpointer user_data)
{
  PcApplication *self = user_data;

  /* at most once a second, whatever the traffic */
  if (self->profiles_later_id == 0)
    self->profiles_later_id = g_timeout_add (
        g_get_monotonic_time () - self->profiles_refreshed > G_USEC_PER_SEC ? 200 : 1000,
        profiles_later_cb, self);
}

static void
name_owner_cb (GObject *proxy, GParamSpec *pspec, gpointer user_data)
{
  PcApplication *self = user_data;
  g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (proxy));

  g_debug ("helper name owner: %s", owner ? owner : "(none)");
  if (owner == NULL)
    {
      g_clear_pointer (&self->status, g_variant_unref);
      set_state (self, PC_HELPER_STATE_MISSING, _ ("The firewall service is not running"),
                 _ ("Connections are not being watched. Start it with “systemctl start "
                    "portcullisd” or reinstall Portcullis; this page updates as soon as it "
                    "runs."));
      return;
    }
  refresh_status (self);
  refresh_profiles (self);
  g_signal_emit (self, signals[SIGNAL_SETTINGS_CHANGED], 0);
}

static gboolean
settings_changed_later_cb (gpointer user_data)
{
  PcApplication *self = user_data;

  self->settings_changed_id = 0;
  refresh_profiles (self);
  g_signal_emit (self, signals[SIGNAL_SETTINGS_CHANGED], 0);
  return G_SOURCE_REMOVE;
}

static void
settings_changed_cb (PcDBusPortcullis1 *proxy, gpointer user_data)
{
  PcApplication *self = user_data;

  /* changes come in bursts (a rule replaced is two): re-read once, and never pile up calls
   * on the helper, which counts them per client */
  if (self->settings_changed_id == 0)
    self->settings_changed_id = g_timeout_add (250, settings_changed_later_cb, self);
}

static void
reconnect_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  refresh_status (user_data);
}

static void
quit_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  GApplication *app = user_data;
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (app));

  /* closing the windows lets them save their state */
  while (windows != NULL)
    {
      GList *next = windows->next;
      gtk_window_close (windows->data);
      windows = next;
    }
  g_application_quit (app);
}

static void
about_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  static const char *developers[] = { "The Portcullis developers", NULL };
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (user_data));

  adw_show_about_window (window, "application-name", _ ("Portcullis"), "application-icon",
                         "org.portcullis.Portcullis", "version", PACKAGE_VERSION, "comments",
                         _ ("See and control which applications use the network"), "license-type",
                         GTK_LICENSE_GPL_3_0, "developers", developers, "translator-credits",
                         _ ("translator-credits"), NULL);
}

static const GActionEntry app_actions[] = {
  { "quit", quit_action, NULL, NULL, NULL },
  { "about", about_action, NULL, NULL, NULL },
  { "reconnect", reconnect_action, NULL, NULL, NULL },
};

static void
pc_application_startup (GApplication *app)
{
  PcApplication *self = PC_APPLICATION (app);
  static const char *quit_accels[] = { "<Control>q", NULL };
  static const char *close_accels[] = { "<Control>w", NULL };
  static const char *search_accels[] = { "<Control>f", NULL };
  g_autoptr (GError) error = NULL;
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema = NULL;
  const char *hook;

  G_APPLICATION_CLASS (pc_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions, G_N_ELEMENTS (app_actions),
                                   app);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "window.close", close_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.search", search_accels);
  for (guint i = 0; i < 5; i++)
    {
      static const char *pages[] = { "monitor", "apps", "settings", "history", "bandwidth" };
      g_autofree char *detailed = g_strdup_printf ("win.show-page::%s", pages[i]);
      g_autofree char *accel = g_strdup_printf ("<Alt>%u", i + 1);
      const char *accels[] = { accel, NULL };

      gtk_application_set_accels_for_action (GTK_APPLICATION (app), detailed, accels);
    }

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, "org.portcullis.Portcullis", TRUE);
  if (schema != NULL)
    {
      self->settings = g_settings_new ("org.portcullis.Portcullis");
      pc_live_model_set_keep_ended (self->live_model,
                                    g_settings_get_uint (self->settings, "keep-ended-seconds"));
    }
  else
    g_warning ("the GSettings schema org.portcullis.Portcullis is not installed; window state "
               "is not saved");

  self->client = pc_client_new_sync (NULL, &error);
  if (self->client == NULL)
    {
      set_state (self, PC_HELPER_STATE_NO_BUS, _ ("Cannot reach the system bus"), error->message);
    }
  else
    {
      pc_live_model_set_client (self->live_model, self->client);
      g_signal_connect_object (self->live_model, "unknown-app", G_CALLBACK (unknown_app_cb), self,
                               0);
      g_signal_connect_object (pc_client_get_proxy (self->client), "notify::g-name-owner",
                               G_CALLBACK (name_owner_cb), self, 0);
      g_signal_connect_object (pc_client_get_proxy (self->client), "settings-changed",
                               G_CALLBACK (settings_changed_cb), self, 0);
      name_owner_cb (G_OBJECT (pc_client_get_proxy (self->client)), NULL, self);
      self->prompt_manager = pc_prompt_manager_new (GTK_APPLICATION (self), self->client);
      self->status_poll_id = g_timeout_add_seconds (5, status_poll_cb, self);
    }

  hook = g_getenv ("PORTCULLIS_TEST_SOCKET");
  if (hook != NULL && hook[0] != '\0')
    {
      self->test_hook = pc_test_hook_new (hook, &error);
      if (self->test_hook == NULL)
        g_warning ("test hook: %s", error->message);
    }
}

/* --agent (the session's autostart): the first instance stays in the background and shows
 * prompts; when one runs already, nothing to do. Started plainly later, the same process
 * opens the window. */
static int
pc_application_handle_local_options (GApplication *app, GVariantDict *options)
{
  PcApplication *self = PC_APPLICATION (app);
  g_autoptr (GError) error = NULL;

  if (!g_variant_dict_contains (options, "agent"))
    return -1;
  if (!g_application_register (app, NULL, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  if (g_application_get_is_remote (app))
    return 0;
  self->agent = TRUE;
  return -1;
}

static PcWindow *
find_main_window (GtkApplication *app)
{
  for (GList *l = gtk_application_get_windows (app); l != NULL; l = l->next)
    if (PC_IS_WINDOW (l->data))
      return l->data;
  return NULL;
}

static void
pc_application_activate (GApplication *app)
{
  PcApplication *self = PC_APPLICATION (app);
  PcWindow *window;

  if (self->agent && !self->agent_held)
    {
      /* no window: the prompt agent runs until the session ends */
      self->agent_held = TRUE;
      g_application_hold (app);
      g_message ("running as the session's prompt agent");
      return;
    }
  window = find_main_window (GTK_APPLICATION (app));
  if (window == NULL)
    window = pc_window_new (self);
  gtk_window_present (GTK_WINDOW (window));
}

static void
pc_application_shutdown (GApplication *app)
{
  PcApplication *self = PC_APPLICATION (app);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->status_poll_id, g_source_remove);
  g_clear_handle_id (&self->profiles_later_id, g_source_remove);
  g_clear_handle_id (&self->settings_changed_id, g_source_remove);
  g_clear_pointer (&self->test_hook, pc_test_hook_free);
  if (self->prompt_manager != NULL)
    g_object_run_dispose (G_OBJECT (self->prompt_manager));
  G_APPLICATION_CLASS (pc_application_parent_class)->shutdown (app);
}

static void
pc_application_finalize (GObject *object)
{
  PcApplication *self = PC_APPLICATION (object);

  g_clear_object (&self->prompt_manager);
  g_clear_object (&self->live_model);
  g_clear_object (&self->client);
  g_clear_object (&self->settings);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->status, g_variant_unref);
  g_free (self->problem_title);
  g_free (self->problem_detail);
  G_OBJECT_CLASS (pc_application_parent_class)->finalize (object);
}

static void
pc_application_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  PcApplication *self = PC_APPLICATION (object);

  switch (prop_id)
    {
      case PROP_HELPER_STATE:
        g_value_set_int (value, self->state);
        break;
      case PROP_PROBLEM_TITLE:
        g_value_set_string (value, self->problem_title);
        break;
      case PROP_PROBLEM_DETAIL:
        g_value_set_string (value, self->problem_detail);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pc_application_class_init (PcApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->finalize = pc_application_finalize;
  object_class->get_property = pc_application_get_property;
  app_class->startup = pc_application_startup;
  app_class->activate = pc_application_activate;
  app_class->handle_local_options = pc_application_handle_local_options;
  app_class->shutdown = pc_application_shutdown;

  properties[PROP_HELPER_STATE] = g_param_spec_int ("helper-state", NULL, NULL, 0, G_MAXINT,
                                                    PC_HELPER_STATE_CONNECTING, flags);
  properties[PROP_PROBLEM_TITLE] = g_param_spec_string ("problem-title", NULL, NULL, NULL, flags);
  properties[PROP_PROBLEM_DETAIL] = g_param_spec_string ("problem-detail", NULL, NULL, NULL, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* the helper's settings or profiles changed, or the helper came back: re-read them */
  signals[SIGNAL_SETTINGS_CHANGED]
      = g_signal_new ("settings-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                      NULL, NULL, G_TYPE_NONE, 0);
}

static void
pc_application_init (PcApplication *self)
{
  static const GOptionEntry options[] = {
    { "agent", 0, G_OPTION_FLAG_NONE, G_OPTION_ARG_NONE, NULL,
      N_ ("Show connection prompts in the background, without a window"), NULL },
    { NULL },
  };

  g_application_add_main_option_entries (G_APPLICATION (self), options);
  self->cancellable = g_cancellable_new ();
  self->live_model = pc_live_model_new ();
  self->state = PC_HELPER_STATE_CONNECTING;
}

PcClient *
pc_application_get_client (PcApplication *self)
{
  return self->client;
}

PcPromptManager *
pc_application_get_prompt_manager (PcApplication *self)
{
  return self->prompt_manager;
}

PcLiveModel *
pc_application_get_live_model (PcApplication *self)
{
  return self->live_model;
}

PcHelperState
pc_application_get_helper_state (PcApplication *self)
{
  return self->state;
}

gboolean
pc_application_get_helper_available (PcApplication *self)
{
  return self->state == PC_HELPER_STATE_OK || self->state == PC_HELPER_STATE_DEGRADED;
}

const char *
pc_application_get_problem_title (PcApplication *self)
{
  return self->problem_title;
}

const char *
pc_application_get_problem_detail (PcApplication *self)
{
  return self->problem_detail;
}

GVariant *
pc_application_get_status (PcApplication *self)
{
  return self->status;
}

GSettings *
pc_application_get_settings (PcApplication *self)
{
  return self->settings;
}

void
pc_application_call_configure (PcApplication *self,
                               const char *method,
                               GVariant *parameters,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data)
{
  if (self->client == NULL)
    {
      g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

      if (parameters != NULL)
        g_variant_unref (g_variant_ref_sink (parameters));
      g_task_return_new_error (task, PC_ERROR, PC_ERROR_UNAVAILABLE, "%s",
                               _ ("There is no system bus"));
      return;
    }
  /* polkit may wait for a person to type a password: no D-Bus timeout */
  g_dbus_proxy_call (G_DBUS_PROXY (pc_client_get_proxy (self->client)), method, parameters,
                     G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, G_MAXINT, cancellable,
                     callback, user_data);
}

gboolean
pc_application_call_configure_finish (PcApplication *self, GAsyncResult *result, GError **error)
{
  g_autoptr (GVariant) ret = NULL;

  /* our own task when there was no bus; else the proxy's result */
  if (g_task_is_valid (result, self))
    return g_task_propagate_boolean (G_TASK (result), error);
  ret = g_dbus_proxy_call_finish (G_DBUS_PROXY (pc_client_get_proxy (self->client)), result, error);
  if (ret == NULL)
    {
      if (error != NULL)
        pc_client_fix_error (*error);
      return FALSE;
    }
  return TRUE;
}
