/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis"

#include "config.h"

#include "pc-prompt-manager.h"

#include "pc-window.h"

#include <glib/gi18n.h>
#include <libnotify/notify.h>

/* At most this many popups (and notifications) at once; more prompts wait in turn. An app that
 * opens twenty connections to new places must not bury the desktop in twenty windows. */
#define MAX_PRESENTED 3

typedef struct
{
  PcPromptManager *manager; /* not a reference: the manager outlives its prompts */
  char *id;
  GVariant *prompt;
  char *app_name;
  char *icon_name;
  PcPromptWindow *window; /* owned by the application's window list */
  NotifyNotification *notification;
  gboolean answering;
  gboolean named;     /* the name is the profile's (not the program's, while it had none) */
  gboolean presented; /* its popup was shown (it may be dismissed since) */
} Prompt;

struct _PcPromptManager
{
  GObject parent_instance;

  GtkApplication *app;
  PcClient *client;
  GHashTable *prompts; /* id -> Prompt */
  GQueue order;        /* the Prompts, oldest first */
  GCancellable *cancellable;
  gboolean registered;
  gboolean notify_ready;
  guint rename_id; /* a later look for the profiles of prompts shown without one */
};

G_DEFINE_FINAL_TYPE (PcPromptManager, pc_prompt_manager, G_TYPE_OBJECT)

static void
prompt_free (Prompt *p)
{
  if (p->notification != NULL)
    {
      g_autoptr (GError) error = NULL;

      g_signal_handlers_disconnect_by_data (p->notification, p);
      if (!notify_notification_close (p->notification, &error))
        g_debug ("closing the notification of prompt %s: %s", p->id, error->message);
      g_clear_object (&p->notification);
    }
  if (p->window != NULL)
    {
      g_signal_handlers_disconnect_by_data (p->window, p);
      pc_prompt_window_finish (p->window);
    }
  g_queue_remove (&p->manager->order, p);
  g_clear_pointer (&p->prompt, g_variant_unref);
  g_free (p->app_name);
  g_free (p->icon_name);
  g_free (p->id);
  g_free (p);
}

/* The main window is open and has the focus: its popup is enough. */
static gboolean
main_window_focused (PcPromptManager *self)
{
  for (GList *l = gtk_application_get_windows (self->app); l != NULL; l = l->next)
    if (PC_IS_WINDOW (l->data) && gtk_widget_get_visible (l->data)
        && gtk_window_is_active (l->data))
      return TRUE;
  return FALSE;
}

static void remove_prompt (PcPromptManager *self, const char *id, const char *how);

static void
answer_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autofree char *id = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) ret = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), res, &error);
  PcPromptManager *self;
  Prompt *p;

  if (ret == NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = PC_PROMPT_MANAGER (g_object_get_data (source, "pc-prompt-manager"));
  p = self != NULL ? g_hash_table_lookup (self->prompts, id) : NULL;
  if (p == NULL)
    return;
  p->answering = FALSE;
  if (ret != NULL)
    {
      g_message ("prompt %s answered", id);
      /* PromptEnded follows; the popup and the notification go now */
      remove_prompt (self, id, "answered");
      return;
    }
  pc_client_fix_error (error);
  g_message ("answering prompt %s: %s", id, error->message);
  if (g_error_matches (error, PC_ERROR, PC_ERROR_NOT_FOUND))
    {
      remove_prompt (self, id, "gone");
      return;
    }
  if (p->window != NULL)
    {
      pc_prompt_window_set_busy (p->window, FALSE);
      pc_prompt_window_show_error (p->window, error->message);
      pc_prompt_window_show (p->window);
    }
}

static void
send_answer (Prompt *p, const char *verdict)
{
  PcPromptManager *self = p->manager;
  GVariant *answer;

  if (p->answering)
    return;
  if (p->window != NULL)
    {
      answer = pc_prompt_window_make_answer (p->window, verdict);
      pc_prompt_window_set_busy (p->window, TRUE);
    }
  else
    answer = g_variant_new_parsed ("{'verdict': <%s>}", verdict);
  p->answering = TRUE;
  g_message ("answering prompt %s: %s", p->id, verdict);
  g_dbus_proxy_call (G_DBUS_PROXY (pc_client_get_proxy (self->client)), "AnswerPrompt",
                     g_variant_new ("(s@a{sv})", p->id, answer),
                     G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, -1, self->cancellable,
                     answer_cb, g_strdup (p->id));
}

static void
window_answer_cb (PcPromptWindow *window, const char *verdict, gpointer user_data)
{
  send_answer (user_data, verdict);
}

static void
notification_action_cb (NotifyNotification *notification, char *action, gpointer user_data)
{
  Prompt *p = user_data;

  g_message ("notification of prompt %s: %s", p->id, action);
  if (g_str_equal (action, "allow") || g_str_equal (action, "block"))
    send_answer (p, action);
  else if (p->window != NULL)
    pc_prompt_window_show (p->window);
}

static void
notification_closed_cb (NotifyNotification *notification, gpointer user_data)
{
  Prompt *p = user_data;

  g_signal_handlers_disconnect_by_data (notification, p);
  g_clear_object (&p->notification);
}

/* Translators: a notification's title; %s is an app's name */
#define PC_NOTIFICATION_SUMMARY N_ ("Connection request from %s")

/* A notification shown under the program's name gets its profile's once the helper made it:
 * shown again, it replaces itself on the notification server. */
static void
update_notification (Prompt *p)
{
  g_autoptr (GVariant) c = g_variant_lookup_value (p->prompt, "connection", NULL);
  g_autofree char *body = pc_prompt_describe (p->app_name, c);
  g_autofree char *summary = g_strdup_printf (_ (PC_NOTIFICATION_SUMMARY), p->app_name);
  g_autoptr (GError) error = NULL;

  notify_notification_update (p->notification, summary, body,
                              p->icon_name != NULL && *p->icon_name ? p->icon_name
                                                                    : "org.portcullis.Portcullis");
  if (!notify_notification_show (p->notification, &error))
    g_message ("cannot rename the notification of prompt %s: %s", p->id, error->message);
}

static void
show_notification (PcPromptManager *self, Prompt *p, const char *icon_name)
{
  g_autoptr (GVariant) c = g_variant_lookup_value (p->prompt, "connection", NULL);
  g_autofree char *body = pc_prompt_describe (p->app_name, c);
  g_autofree char *summary = NULL;
  g_autoptr (GError) error = NULL;
  gint64 expires = 0;

  if (!self->notify_ready)
    self->notify_ready = notify_is_initted () || notify_init ("Portcullis");
  if (!self->notify_ready)
    return;
  g_variant_lookup (p->prompt, "expires", "x", &expires);
  summary = g_strdup_printf (_ (PC_NOTIFICATION_SUMMARY), p->app_name);
  p->notification = notify_notification_new (
      summary, body, icon_name != NULL && *icon_name ? icon_name : "org.portcullis.Portcullis");
  notify_notification_set_app_name (p->notification, _ ("Portcullis"));
  notify_notification_set_category (p->notification, "network");
  notify_notification_set_urgency (p->notification, NOTIFY_URGENCY_CRITICAL);
  notify_notification_set_hint_string (p->notification, "desktop-entry",
                                       "org.portcullis.Portcullis");
  if (expires > g_get_real_time ())
    notify_notification_set_timeout (p->notification, (int)((expires - g_get_real_time ()) / 1000));
  notify_notification_add_action (p->notification, "default", _ ("Show"), notification_action_cb, p,
                                  NULL);
  notify_notification_add_action (p->notification, "block", _ ("Block"), notification_action_cb, p,
                                  NULL);
  notify_notification_add_action (p->notification, "allow", _ ("Allow"), notification_action_cb, p,
                                  NULL);
  g_signal_connect (p->notification, "closed", G_CALLBACK (notification_closed_cb), p);
  if (!notify_notification_show (p->notification, &error))
    {
      g_message ("cannot show a notification for prompt %s: %s", p->id, error->message);
      g_signal_handlers_disconnect_by_data (p->notification, p);
      g_clear_object (&p->notification);
    }
}

static void present_waiting (PcPromptManager *self);

static void
window_later_cb (PcPromptWindow *window, gpointer user_data)
{
  Prompt *p = user_data;

  g_message ("prompt %s: decide later", p->id);
  present_waiting (p->manager);
}

/* Shows the popups (and, unless the main window has the focus, notifications) of waiting
 * prompts, oldest first, while fewer than MAX_PRESENTED popups are up. */
static void
present_waiting (PcPromptManager *self)
{
  guint shown = 0;

  for (GList *l = self->order.head; l != NULL; l = l->next)
    {
      Prompt *p = l->data;
      if (p->window != NULL && gtk_widget_get_visible (GTK_WIDGET (p->window)))
        shown++;
    }
  for (GList *l = self->order.head; l != NULL && shown < MAX_PRESENTED; l = l->next)
    {
      Prompt *p = l->data;
      gboolean notify;

      if (p->window == NULL || p->presented)
        continue;
      notify = !main_window_focused (self);
      p->presented = TRUE;
      pc_prompt_window_show (p->window);
      shown++;
      if (notify)
        show_notification (self, p, p->icon_name);
      g_message ("prompt %s shown%s", p->id, notify ? " with a notification" : "");
    }
}

static void
effective_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autofree char *id = user_data;
  g_autoptr (GVariant) ret = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), res, NULL);
  g_autoptr (GVariant) value = NULL;
  PcPromptManager *self;
  Prompt *p;

  if (ret == NULL)
    return; /* the countdown keeps saying "the default" */
  self = PC_PROMPT_MANAGER (g_object_get_data (source, "pc-prompt-manager"));
  p = self != NULL ? g_hash_table_lookup (self->prompts, id) : NULL;
  if (p == NULL || p->window == NULL)
    return;
  /* GetEffectiveSettings: (a{s(vs)}); GetSetting: (v) */
  if (g_variant_is_of_type (ret, G_VARIANT_TYPE ("(a{s(vs)})")))
    {
      g_autoptr (GVariant) settings = g_variant_get_child_value (ret, 0);
      g_variant_lookup (settings, "prompt-default", "(vs)", &value, NULL);
    }
  else
    g_variant_get (ret, "(v)", &value);
  if (value != NULL && g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    pc_prompt_window_set_default (p->window, g_variant_get_string (value, NULL));
}

/* The app's prompt-default (its profile may override the global one) for the countdown. */
static void
fetch_default (PcPromptManager *self, Prompt *p)
{
  g_autoptr (GVariant) c = g_variant_lookup_value (p->prompt, "connection", NULL);
  const char *profile = "";

  g_variant_lookup (c, "profile", "&s", &profile);
  g_dbus_proxy_call (G_DBUS_PROXY (pc_client_get_proxy (self->client)),
                     *profile ? "GetEffectiveSettings" : "GetSetting",
                     g_variant_new ("(s)", *profile ? profile : "prompt-default"),
                     G_DBUS_CALL_FLAGS_NONE, -1, self->cancellable, effective_cb, g_strdup (p->id));
}

static gboolean rename_cb (gpointer user_data);

/* Makes the prompt's popup once its app's name and icon are known (or known to be unknown);
 * it shows when its turn comes. */
static void
show_prompt (PcPromptManager *self, Prompt *p, const char *name, const char *icon_name)
{
  g_autoptr (GVariant) c = g_variant_lookup_value (p->prompt, "connection", NULL);
  const char *comm = "";

  g_variant_lookup (c, "comm", "&s", &comm);
  p->app_name = g_strdup (name != NULL && *name ? name : *comm ? comm : _ ("Unknown program"));
  p->icon_name = g_strdup (icon_name);
  p->window = pc_prompt_window_new (self->app, p->prompt);
  pc_prompt_window_set_app (p->window, p->app_name, icon_name);
  g_signal_connect (p->window, "answer", G_CALLBACK (window_answer_cb), p);
  g_signal_connect (p->window, "later", G_CALLBACK (window_later_cb), p);
  fetch_default (self, p);
  /* a new program gets its profile in a moment: its name and icon then */
  if (!p->named && self->rename_id == 0)
    self->rename_id = g_timeout_add (1000, rename_cb, self);
  present_waiting (self);
}

static void
profile_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autofree char *id = user_data;
  g_autoptr (GVariant) profile = NULL;
  g_autoptr (GError) error = NULL;
  PcPromptManager *self;
  const char *name = NULL, *icon = NULL;
  Prompt *p;

  if (!pc_dbus_portcullis1_call_get_profile_finish (PC_DBUS_PORTCULLIS1 (source), &profile, res,
                                                    &error)
      && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = PC_PROMPT_MANAGER (g_object_get_data (source, "pc-prompt-manager"));
  p = self != NULL ? g_hash_table_lookup (self->prompts, id) : NULL;
  if (p == NULL)
    return;
  if (profile != NULL)
    {
      gboolean special = FALSE;

      g_variant_lookup (profile, "name", "&s", &name);
      g_variant_lookup (profile, "icon", "&s", &icon);
      g_variant_lookup (profile, "special", "b", &special);
      /* the helper's own profiles have names marked for translation there */
      if (special && name != NULL && name[0] != '\0')
        name = _ (name);
      p->named = TRUE;
    }
  if (p->window == NULL)
    show_prompt (self, p, name, icon);
  else if (name != NULL && *name)
    {
      /* the profile made meanwhile */
      g_free (p->app_name);
      p->app_name = g_strdup (name);
      g_free (p->icon_name);
      p->icon_name = g_strdup (icon);
      pc_prompt_window_set_app (p->window, name, icon);
      if (p->notification != NULL)
        update_notification (p);
    }
}

static void
relist_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GVariant) prompts = NULL;
  PcPromptManager *self;
  GVariantIter iter;
  GVariant *prompt;
  gboolean again = FALSE;

  if (!pc_dbus_portcullis1_call_list_prompts_finish (PC_DBUS_PORTCULLIS1 (source), &prompts, res,
                                                     NULL))
    return;
  self = PC_PROMPT_MANAGER (g_object_get_data (source, "pc-prompt-manager"));
  if (self == NULL)
    return;
  g_variant_iter_init (&iter, prompts);
  while ((prompt = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autoptr (GVariant) c = g_variant_lookup_value (prompt, "connection", NULL);
      const char *id = NULL, *profile = "";
      Prompt *p;

      g_variant_lookup (prompt, "id", "&s", &id);
      if (c != NULL)
        g_variant_lookup (c, "profile", "&s", &profile);
      p = id != NULL ? g_hash_table_lookup (self->prompts, id) : NULL;
      if (p != NULL && !p->named && *profile)
        pc_dbus_portcullis1_call_get_profile (PC_DBUS_PORTCULLIS1 (source), profile,
                                              self->cancellable, profile_cb, g_strdup (id));
      else if (p != NULL && !p->named)
        again = TRUE; /* no profile yet: look again while the prompt is pending */
      g_variant_unref (prompt);
    }
  if (again && self->rename_id == 0)
    self->rename_id = g_timeout_add (1000, rename_cb, self);
}

static gboolean
rename_cb (gpointer user_data)
{
  PcPromptManager *self = user_data;

  self->rename_id = 0;
  pc_dbus_portcullis1_call_list_prompts (pc_client_get_proxy (self->client), self->cancellable,
                                         relist_cb, NULL);
  return G_SOURCE_REMOVE;
}

static void
add_prompt (PcPromptManager *self, GVariant *prompt)
{
  g_autoptr (GVariant) c = g_variant_lookup_value (prompt, "connection", NULL);
  const char *id = NULL, *profile = "";
  Prompt *p;

  if (!g_variant_lookup (prompt, "id", "&s", &id) || c == NULL
      || g_hash_table_contains (self->prompts, id))
    return;
  p = g_new0 (Prompt, 1);
  p->manager = self;
  p->id = g_strdup (id);
  p->prompt = g_variant_ref_sink (prompt);
  g_hash_table_insert (self->prompts, p->id, p);
  g_queue_push_tail (&self->order, p);
  g_variant_lookup (c, "profile", "&s", &profile);
  g_message ("prompt %s added", p->id);
  if (*profile == '\0')
    {
      show_prompt (self, p, NULL, NULL);
      return;
    }
  pc_dbus_portcullis1_call_get_profile (pc_client_get_proxy (self->client), profile,
                                        self->cancellable, profile_cb, g_strdup (p->id));
}

static void
remove_prompt (PcPromptManager *self, const char *id, const char *how)
{
  if (!g_hash_table_remove (self->prompts, id))
    return;
  g_message ("prompt %s ended: %s", id, how);
  present_waiting (self);
}

static void
prompt_added_cb (PcDBusPortcullis1 *proxy, GVariant *prompt, gpointer user_data)
{
  add_prompt (user_data, prompt);
}

static void
prompt_ended_cb (PcDBusPortcullis1 *proxy, const char *id, const char *how, gpointer user_data)
{
  remove_prompt (user_data, id, how);
}

static void
list_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GVariant) prompts = NULL;
  g_autoptr (GError) error = NULL;
  PcPromptManager *self;
  GVariantIter iter;
  GVariant *prompt;

  if (!pc_dbus_portcullis1_call_list_prompts_finish (PC_DBUS_PORTCULLIS1 (source), &prompts, res,
                                                     &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_message ("cannot list the pending prompts: %s", error->message);
      return;
    }
  self = user_data;
  g_variant_iter_init (&iter, prompts);
  while ((prompt = g_variant_iter_next_value (&iter)) != NULL)
    {
      add_prompt (self, prompt);
      g_variant_unref (prompt);
    }
}

static void
register_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  PcPromptManager *self;

  if (!pc_dbus_portcullis1_call_register_prompt_agent_finish (PC_DBUS_PORTCULLIS1 (source), res,
                                                              &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      pc_client_fix_error (error);
      g_message ("not showing connection prompts: %s", error->message);
      return;
    }
  self = user_data;
  self->registered = TRUE;
  g_message ("registered as prompt agent");
  /* prompts that were pending before we came */
  pc_dbus_portcullis1_call_list_prompts (PC_DBUS_PORTCULLIS1 (source), self->cancellable, list_cb,
                                         self);
}

static void
name_owner_cb (GObject *proxy, GParamSpec *pspec, gpointer user_data)
{
  PcPromptManager *self = user_data;
  g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (proxy));

  /* a new helper knows nothing of the old one's prompts */
  g_hash_table_remove_all (self->prompts);
  self->registered = FALSE;
  if (owner != NULL)
    pc_dbus_portcullis1_call_register_prompt_agent (PC_DBUS_PORTCULLIS1 (proxy), self->cancellable,
                                                    register_cb, self);
}

static void
pc_prompt_manager_dispose (GObject *object)
{
  PcPromptManager *self = PC_PROMPT_MANAGER (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->rename_id, g_source_remove);
  if (self->client != NULL)
    {
      g_object_set_data (G_OBJECT (pc_client_get_proxy (self->client)), "pc-prompt-manager", NULL);
      g_signal_handlers_disconnect_by_data (pc_client_get_proxy (self->client), self);
    }
  if (self->prompts != NULL)
    g_hash_table_remove_all (self->prompts);
  g_clear_object (&self->client);
  G_OBJECT_CLASS (pc_prompt_manager_parent_class)->dispose (object);
}

static void
pc_prompt_manager_finalize (GObject *object)
{
  PcPromptManager *self = PC_PROMPT_MANAGER (object);

  g_clear_pointer (&self->prompts, g_hash_table_unref);
  g_clear_object (&self->cancellable);
  if (self->notify_ready)
    notify_uninit ();
  G_OBJECT_CLASS (pc_prompt_manager_parent_class)->finalize (object);
}

static void
pc_prompt_manager_class_init (PcPromptManagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pc_prompt_manager_dispose;
  object_class->finalize = pc_prompt_manager_finalize;
}

static void
pc_prompt_manager_init (PcPromptManager *self)
{
  self->prompts
      = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify)prompt_free);
  self->cancellable = g_cancellable_new ();
}

PcPromptManager *
pc_prompt_manager_new (GtkApplication *app, PcClient *client)
{
  PcPromptManager *self = g_object_new (PC_TYPE_PROMPT_MANAGER, NULL);
  PcDBusPortcullis1 *proxy = pc_client_get_proxy (client);

  self->app = app;
  self->client = g_object_ref (client);
  /* async results find the manager through the proxy, so a late reply after dispose is
   * harmless */
  g_object_set_data (G_OBJECT (proxy), "pc-prompt-manager", self);
  g_signal_connect (proxy, "prompt-added", G_CALLBACK (prompt_added_cb), self);
  g_signal_connect (proxy, "prompt-ended", G_CALLBACK (prompt_ended_cb), self);
  g_signal_connect (proxy, "notify::g-name-owner", G_CALLBACK (name_owner_cb), self);
  name_owner_cb (G_OBJECT (proxy), NULL, self);
  return self;
}

GVariant *
pc_prompt_manager_dump (PcPromptManager *self)
{
  GVariantBuilder b;
  GHashTableIter iter;
  Prompt *p;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{sv}"));
  g_hash_table_iter_init (&iter, self->prompts);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&p))
    {
      g_autoptr (GVariant) shown
          = p->window != NULL ? g_variant_ref_sink (pc_prompt_window_dump (p->window)) : NULL;
      GVariantDict d;

      g_variant_dict_init (&d, shown);
      g_variant_dict_insert (&d, "id", "s", p->id);
      gint notification_id = 0;

      if (p->notification != NULL)
        g_object_get (p->notification, "id", &notification_id, NULL);
      g_variant_dict_insert (&d, "notified", "b", p->notification != NULL);
      g_variant_dict_insert (&d, "notification-id", "i", notification_id);
      g_variant_dict_insert (&d, "answering", "b", p->answering);
      g_variant_dict_insert (&d, "waiting", "b", p->window != NULL && !p->presented);
      g_variant_builder_add_value (&b, g_variant_dict_end (&d));
    }
  return g_variant_builder_end (&b);
}

PcPromptWindow *
pc_prompt_manager_get_window (PcPromptManager *self, const char *id)
{
  Prompt *p = g_hash_table_lookup (self->prompts, id);

  return p != NULL ? p->window : NULL;
}

gboolean
pc_prompt_manager_is_registered (PcPromptManager *self)
{
  return self->registered;
}
