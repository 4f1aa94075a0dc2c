/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The prompt popup. Nothing in it answers by a stray key press: Allow and Block stay
 * insensitive for the first second, neither is the default widget nor has a mnemonic, and the
 * first widget in the focus chain is the Details expander (a key pressed while the popup
 * appears only opens it). Escape and the close button dismiss it ("decide later"): the prompt
 * stays pending in the helper until it is answered elsewhere or times out. */
#define G_LOG_DOMAIN "portcullis"

#include "config.h"

#include "pc-prompt-window.h"

#include <glib/gi18n.h>
#include <pwd.h>

/* how long Allow and Block stay insensitive after the popup appears */
#define ARM_DELAY_MS 1000

static const char *const scopes[] = { "domain", "ip", "port", "all" };
static const char *const lifetimes[] = { "once", "minutes", "until-exit", "restart", "forever" };
enum
{
  LIFETIME_MINUTES = 1,
  LIFETIME_FOREVER = 4
};

struct _PcPromptWindow
{
  AdwWindow parent_instance;

  GtkImage *app_icon;
  GtkLabel *app_name;
  GtkLabel *summary;
  GtkExpander *details_expander;
  GtkLabel *exe_label;
  GtkLabel *cmdline_label;
  GtkLabel *pid_label;
  GtkLabel *user_label;
  GtkDropDown *scope_dropdown;
  GtkDropDown *lifetime_dropdown;
  GtkSpinButton *minutes_spin;
  GtkProgressBar *countdown_bar;
  GtkLabel *countdown_label;
  GtkLabel *error_label;
  GtkWidget *allow_button;
  GtkWidget *block_button;

  GVariant *prompt;
  char *id;
  gint64 created;
  gint64 expires;
  guint arm_id;
  guint tick_id;
  gint64 shown;          /* monotonic time of the last show */
  char *default_verdict; /* prompt-default for this app, once known */
  gboolean armed;
  gboolean busy;
  gboolean finished;
};

G_DEFINE_FINAL_TYPE (PcPromptWindow, pc_prompt_window, ADW_TYPE_WINDOW)

enum
{
  SIGNAL_ANSWER,
  SIGNAL_LATER,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
update_sensitivity (PcPromptWindow *self)
{
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "prompt.answer",
                                 self->armed && !self->busy && !self->finished);
}

static gboolean
arm_cb (gpointer user_data)
{
  PcPromptWindow *self = user_data;

  self->arm_id = 0;
  self->armed = TRUE;
  update_sensitivity (self);
  return G_SOURCE_REMOVE;
}

static int
seconds_left (PcPromptWindow *self)
{
  gint64 left = self->expires - g_get_real_time ();

  return left <= 0 ? 0 : (int)((left + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);
}

static gboolean
tick_cb (gpointer user_data)
{
  PcPromptWindow *self = user_data;
  int left = seconds_left (self);
  gint64 total = self->expires - self->created;
  g_autofree char *text = NULL;

  if (left > 0 && g_strcmp0 (self->default_verdict, "block") == 0)
    text = g_strdup_printf (ngettext ("Without an answer, it is blocked in %d second",
                                      "Without an answer, it is blocked in %d seconds", left),
                            left);
  else if (left > 0 && g_strcmp0 (self->default_verdict, "allow") == 0)
    text = g_strdup_printf (ngettext ("Without an answer, it is allowed in %d second",
                                      "Without an answer, it is allowed in %d seconds", left),
                            left);
  else if (left > 0)
    text = g_strdup_printf (ngettext ("Without an answer, the default applies in %d second",
                                      "Without an answer, the default applies in %d seconds", left),
                            left);
  else
    text = g_strdup (_ ("Time is up: the default applies"));
  gtk_label_set_text (self->countdown_label, text);
  gtk_progress_bar_set_fraction (
      self->countdown_bar,
      total > 0 ? CLAMP ((double)(self->expires - g_get_real_time ()) / (double)total, 0.0, 1.0)
                : 0.0);
  return G_SOURCE_CONTINUE;
}

static void
lifetime_changed_cb (GtkDropDown *dropdown, GParamSpec *pspec, gpointer user_data)
{
  PcPromptWindow *self = user_data;

  gtk_widget_set_visible (GTK_WIDGET (self->minutes_spin),
                          gtk_drop_down_get_selected (dropdown) == LIFETIME_MINUTES);
}

static void
answer_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  PcPromptWindow *self = PC_PROMPT_WINDOW (widget);

  if (!self->armed || self->busy || self->finished)
    return;
  g_signal_emit (self, signals[SIGNAL_ANSWER], 0, g_variant_get_string (parameter, NULL));
}

static void
later_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  gtk_window_close (GTK_WINDOW (widget));
}

/* Dismissed: hidden, not destroyed, so the notification can bring it back with the choices
 * made so far. */
static gboolean
close_request_cb (GtkWindow *window, gpointer user_data)
{
  PcPromptWindow *self = PC_PROMPT_WINDOW (window);

  if (self->finished)
    return FALSE;
  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
  g_signal_emit (self, signals[SIGNAL_LATER], 0);
  return TRUE;
}

static const char *
lookup_string (GVariant *dict, const char *key)
{
  const char *s = NULL;

  return dict != NULL && g_variant_lookup (dict, key, "&s", &s) ? s : "";
}

char *
pc_prompt_describe (const char *app_name, GVariant *c)
{
  const char *domain = lookup_string (c, "domain");
  const char *address = lookup_string (c, "remote-address");
  const char *country = lookup_string (c, "country");
  const char *protocol = lookup_string (c, "protocol");
  gboolean inbound = g_str_equal (lookup_string (c, "direction"), "inbound");
  guint16 port = 0;
  g_autofree char *host = NULL;
  g_autofree char *where = NULL;
  g_autofree char *proto = g_ascii_strup (*protocol ? protocol : "ip", -1);

  g_variant_lookup (c, inbound ? "local-port" : "remote-port", "q", &port);
  if (*domain && *country)
    /* Translators: a domain name, its IP address and its country code */
    host = g_strdup_printf (_ ("%s (%s, %s)"), domain, address, country);
  else if (*domain)
    /* Translators: a domain name and its IP address */
    host = g_strdup_printf (_ ("%s (%s)"), domain, address);
  else if (*country)
    /* Translators: an IP address and its country code */
    host = g_strdup_printf (_ ("%s (%s)"), address, country);
  else
    host = g_strdup (address);
  if (port != 0)
    /* Translators: a port number and a protocol, e.g. 443/TCP */
    where = g_strdup_printf (_ ("%u/%s"), port, proto);
  else
    where = g_strdup (proto);
  if (inbound)
    /* Translators: "HOST wants to connect to APP on PORT/PROTOCOL" (an incoming connection) */
    return g_strdup_printf (_ ("%s wants to connect to %s on %s"), host, app_name, where);
  /* Translators: "APP wants to connect to HOST on PORT/PROTOCOL" */
  return g_strdup_printf (_ ("%s wants to connect to %s on %s"), app_name, host, where);
}

PcPromptWindow *
pc_prompt_window_new (GtkApplication *app, GVariant *prompt)
{
  PcPromptWindow *self = g_object_new (PC_TYPE_PROMPT_WINDOW, "application", app, NULL);
  g_autoptr (GVariant) c = NULL;
  g_autofree char *pid = NULL;
  g_autofree char *user = NULL;
  const char *domain, *comm, *exe, *cmdline;
  guint32 pid_value = 0, uid = 0;
  struct passwd *pw;

  self->prompt = g_variant_ref_sink (prompt);
  g_variant_lookup (prompt, "id", "s", &self->id);
  g_variant_lookup (prompt, "created", "x", &self->created);
  g_variant_lookup (prompt, "expires", "x", &self->expires);
  c = g_variant_lookup_value (prompt, "connection", G_VARIANT_TYPE_VARDICT);
  if (c == NULL)
    c = g_variant_ref_sink (g_variant_new ("a{sv}", NULL));

  comm = lookup_string (c, "comm");
  exe = lookup_string (c, "exe");
  cmdline = lookup_string (c, "cmdline");
  domain = lookup_string (c, "domain");
  g_variant_lookup (c, "pid", "u", &pid_value);
  g_variant_lookup (c, "uid", "u", &uid);

  pc_prompt_window_set_app (self, NULL, NULL);
  gtk_label_set_text (self->exe_label, *exe ? exe : comm);
  gtk_label_set_text (self->cmdline_label, *cmdline ? cmdline : "—");
  pid = g_strdup_printf ("%u", pid_value);
  gtk_label_set_text (self->pid_label, pid);
  pw = getpwuid (uid);
  user = pw != NULL ? g_strdup_printf ("%s (%u)", pw->pw_name, uid) : g_strdup_printf ("%u", uid);
  gtk_label_set_text (self->user_label, user);

  /* the narrowest scope that names the destination */
  if (g_str_equal (lookup_string (c, "direction"), "inbound"))
    gtk_drop_down_set_selected (self->scope_dropdown, 2);
  else
    gtk_drop_down_set_selected (self->scope_dropdown, *domain ? 0 : 1);
  gtk_drop_down_set_selected (self->lifetime_dropdown, LIFETIME_FOREVER);
  lifetime_changed_cb (self->lifetime_dropdown, NULL, self);

  tick_cb (self);
  self->tick_id = g_timeout_add (250, tick_cb, self);
  return self;
}

void
pc_prompt_window_set_default (PcPromptWindow *self, const char *verdict)
{
  g_free (self->default_verdict);
  self->default_verdict = g_strdup (verdict);
  tick_cb (self);
}

void
pc_prompt_window_show (PcPromptWindow *self)
{
  /* every time it appears, the buttons wait a moment again */
  self->armed = FALSE;
  self->shown = g_get_monotonic_time ();
  update_sensitivity (self);
  g_clear_handle_id (&self->arm_id, g_source_remove);
  self->arm_id = g_timeout_add (ARM_DELAY_MS, arm_cb, self);
  gtk_window_present (GTK_WINDOW (self));
}

const char *
pc_prompt_window_get_id (PcPromptWindow *self)
{
  return self->id;
}

void
pc_prompt_window_set_app (PcPromptWindow *self, const char *name, const char *icon_name)
{
  g_autoptr (GVariant) c = g_variant_lookup_value (self->prompt, "connection", NULL);
  const char *comm = lookup_string (c, "comm");
  g_autofree char *title = NULL;
  g_autofree char *summary = NULL;

  if (name == NULL || *name == '\0')
    name = *comm ? comm : _ ("Unknown program");
  gtk_label_set_text (self->app_name, name);
  summary = pc_prompt_describe (name, c);
  gtk_label_set_text (self->summary, summary);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  summary, -1);
  gtk_image_set_from_icon_name (
      self->app_icon, icon_name != NULL && *icon_name ? icon_name : "application-x-executable");
  /* Translators: the prompt window's title; %s is an app's name */
  title = g_strdup_printf (_ ("%s — Connection Request"), name);
  gtk_window_set_title (GTK_WINDOW (self), title);
}

GVariant *
pc_prompt_window_make_answer (PcPromptWindow *self, const char *verdict)
{
  GVariantDict d;
  guint scope = gtk_drop_down_get_selected (self->scope_dropdown);
  guint lifetime = gtk_drop_down_get_selected (self->lifetime_dropdown);

  g_variant_dict_init (&d, NULL);
  g_variant_dict_insert (&d, "verdict", "s", verdict);
  if (scope < G_N_ELEMENTS (scopes))
    g_variant_dict_insert (&d, "scope", "s", scopes[scope]);
  if (lifetime < G_N_ELEMENTS (lifetimes))
    g_variant_dict_insert (&d, "lifetime", "s", lifetimes[lifetime]);
  if (lifetime == LIFETIME_MINUTES)
    g_variant_dict_insert (&d, "minutes", "u",
                           (guint32)gtk_spin_button_get_value_as_int (self->minutes_spin));
  return g_variant_dict_end (&d);
}

void
pc_prompt_window_set_busy (PcPromptWindow *self, gboolean busy)
{
  self->busy = busy;
  if (busy)
    gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
  update_sensitivity (self);
}

void
pc_prompt_window_show_error (PcPromptWindow *self, const char *message)
{
  gtk_label_set_text (self->error_label, message);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
}

void
pc_prompt_window_finish (PcPromptWindow *self)
{
  self->finished = TRUE;
  update_sensitivity (self);
  gtk_window_destroy (GTK_WINDOW (self));
}

GVariant *
pc_prompt_window_dump (PcPromptWindow *self)
{
  GVariantDict d;
  GtkStringObject *scope = gtk_drop_down_get_selected_item (self->scope_dropdown);
  GtkStringObject *lifetime = gtk_drop_down_get_selected_item (self->lifetime_dropdown);
  guint s = gtk_drop_down_get_selected (self->scope_dropdown);
  guint l = gtk_drop_down_get_selected (self->lifetime_dropdown);

  g_variant_dict_init (&d, NULL);
  g_variant_dict_insert (&d, "id", "s", self->id);
  g_variant_dict_insert (&d, "title", "s", gtk_window_get_title (GTK_WINDOW (self)));
  g_variant_dict_insert (&d, "app-name", "s", gtk_label_get_text (self->app_name));
  g_variant_dict_insert (&d, "summary", "s", gtk_label_get_text (self->summary));
  g_variant_dict_insert (&d, "exe", "s", gtk_label_get_text (self->exe_label));
  g_variant_dict_insert (&d, "cmdline", "s", gtk_label_get_text (self->cmdline_label));
  g_variant_dict_insert (&d, "pid", "s", gtk_label_get_text (self->pid_label));
  g_variant_dict_insert (&d, "user", "s", gtk_label_get_text (self->user_label));
  g_variant_dict_insert (&d, "details-expanded", "b",
                         gtk_expander_get_expanded (self->details_expander));
  g_variant_dict_insert (&d, "scope", "s", s < G_N_ELEMENTS (scopes) ? scopes[s] : "");
  g_variant_dict_insert (&d, "scope-label", "s", scope ? gtk_string_object_get_string (scope) : "");
  g_variant_dict_insert (&d, "lifetime", "s", l < G_N_ELEMENTS (lifetimes) ? lifetimes[l] : "");
  g_variant_dict_insert (&d, "lifetime-label", "s",
                         lifetime ? gtk_string_object_get_string (lifetime) : "");
  g_variant_dict_insert (&d, "countdown", "s", gtk_label_get_text (self->countdown_label));
  g_variant_dict_insert (&d, "seconds-left", "i", seconds_left (self));
  g_variant_dict_insert (&d, "shown-ms", "x", (g_get_monotonic_time () - self->shown) / 1000);
  g_variant_dict_insert (&d, "allow-sensitive", "b", gtk_widget_is_sensitive (self->allow_button));
  g_variant_dict_insert (&d, "block-sensitive", "b", gtk_widget_is_sensitive (self->block_button));
  g_variant_dict_insert (&d, "error", "s",
                         gtk_widget_get_visible (GTK_WIDGET (self->error_label))
                             ? gtk_label_get_text (self->error_label)
                             : "");
  g_variant_dict_insert (&d, "visible", "b", gtk_widget_get_visible (GTK_WIDGET (self)));
  g_variant_dict_insert (&d, "active", "b", gtk_window_is_active (GTK_WINDOW (self)));
  return g_variant_dict_end (&d);
}

static gboolean
select_word (GtkDropDown *dropdown, const char *const *words, guint n, const char *value)
{
  for (guint i = 0; i < n; i++)
    if (g_str_equal (words[i], value))
      {
        gtk_drop_down_set_selected (dropdown, i);
        return TRUE;
      }
  return FALSE;
}

gboolean
pc_prompt_window_test_set (PcPromptWindow *self, const char *key, const char *value)
{
  if (g_str_equal (key, "scope"))
    return select_word (self->scope_dropdown, scopes, G_N_ELEMENTS (scopes), value);
  if (g_str_equal (key, "lifetime"))
    return select_word (self->lifetime_dropdown, lifetimes, G_N_ELEMENTS (lifetimes), value);
  if (g_str_equal (key, "minutes"))
    {
      gtk_spin_button_set_value (self->minutes_spin, g_ascii_strtod (value, NULL));
      return TRUE;
    }
  if (g_str_equal (key, "details"))
    {
      gtk_expander_set_expanded (self->details_expander, g_str_equal (value, "true"));
      return TRUE;
    }
  return FALSE;
}

GtkWidget *
pc_prompt_window_get_button (PcPromptWindow *self, const char *verdict)
{
  if (g_str_equal (verdict, "allow"))
    return self->allow_button;
  if (g_str_equal (verdict, "block"))
    return self->block_button;
  return NULL;
}

static void
pc_prompt_window_dispose (GObject *object)
{
  PcPromptWindow *self = PC_PROMPT_WINDOW (object);

  g_clear_handle_id (&self->arm_id, g_source_remove);
  g_clear_handle_id (&self->tick_id, g_source_remove);
  G_OBJECT_CLASS (pc_prompt_window_parent_class)->dispose (object);
}

static void
pc_prompt_window_finalize (GObject *object)
{
  PcPromptWindow *self = PC_PROMPT_WINDOW (object);

  g_clear_pointer (&self->prompt, g_variant_unref);
  g_free (self->default_verdict);
  g_free (self->id);
  G_OBJECT_CLASS (pc_prompt_window_parent_class)->finalize (object);
}

static void
pc_prompt_window_class_init (PcPromptWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pc_prompt_window_dispose;
  object_class->finalize = pc_prompt_window_finalize;

  signals[SIGNAL_ANSWER] = g_signal_new ("answer", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_LATER] = g_signal_new ("later", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                        NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/portcullis/Portcullis/pc-prompt-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PcPromptWindow, app_icon);
  gtk_widget_class_bind_template_child (widget_class, PcPromptWindow, app_name);
  gtk_widget_class_bind_template_child (widget_class, PcPromptWindow, summary);
  gtk_widget_class_bind_template_child (widget_class, PcPromptWindow, details_expander);
  gtk_widget_class_bind_template_child (widget_class, PcPromptWindow, exe_label);
  gtk_widget_class_bind_template_child (widget_class, PcPromptWindow, cmdline_label);
  gtk_widget_class_bind_template_child (widget_class, PcPromptWindow, pid_label);
  gtk_widget_class_bind_template_child (widget_class, PcPromptWindow, user_label);
  gtk_widget_class_bind_template_child (widget_class, PcPromptWindow, scope_dropdown);
  gtk_widget_class_bind_template_child (widget_class, PcPromptWindow, lifetime_dropdown);
  gtk_widget_class_bind_template_child (widget_class, PcPromptWindow, minutes_spin);
  gtk_widget_class_bind_template_child (widget_class, PcPromptWindow, countdown_bar);
  gtk_widget_class_bind_template_child (widget_class, PcPromptWindow, countdown_label);
  gtk_widget_class_bind_template_child (widget_class, PcPromptWindow, error_label);
  gtk_widget_class_bind_template_child (widget_class, PcPromptWindow, allow_button);
  gtk_widget_class_bind_template_child (widget_class, PcPromptWindow, block_button);
  gtk_widget_class_bind_template_callback (widget_class, lifetime_changed_cb);

  gtk_widget_class_install_action (widget_class, "prompt.answer", "s", answer_action);
  gtk_widget_class_install_action (widget_class, "prompt.later", NULL, later_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "prompt.later", NULL);
}

static void
pc_prompt_window_init (PcPromptWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect (self, "close-request", G_CALLBACK (close_request_cb), NULL);
  update_sensitivity (self);
}
