/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis"

#include "config.h"

#include "pc-settings-view.h"

#include "pc-application.h"
#include "pc-dns-group.h"
#include "pc-filter-lists-group.h"
#include "pc-window.h"

#include <glib/gi18n.h>
#include <string.h>

typedef enum
{
  KIND_BOOL,
  KIND_ENUM,
  KIND_NUMBER,
  KIND_LIST,
  KIND_RULES,
} Kind;

typedef struct
{
  const char *key;
  const char *group;
  const char *title;
  const char *subtitle;
  Kind kind;
  const char *const *choices; /* KIND_ENUM: values */
  const char *const *labels;  /* KIND_ENUM: what a person reads */
  gboolean global_only;
} SettingInfo;

static const char *const actions[] = { "allow", "block", "prompt", NULL };
static const char *const action_labels[] = { N_ ("Allow"), N_ ("Block"), N_ ("Ask"), NULL };
static const char *const verdicts[] = { "allow", "block", NULL };
static const char *const verdict_labels[] = { N_ ("Allow"), N_ ("Block"), NULL };
static const char *const reactions[] = { "drop", "reject", NULL };
static const char *const reaction_labels[]
    = { N_ ("Drop silently"), N_ ("Reject (the app learns at once)"), NULL };
static const char *const block_replies[] = { "nxdomain", "zero", NULL };
static const char *const block_reply_labels[]
    = { N_ ("“No such name” (NXDOMAIN)"), N_ ("The address 0.0.0.0"), NULL };
static const char *const fail_modes[] = { "open", "closed", NULL };
static const char *const fail_labels[]
    = { N_ ("Let traffic through"), N_ ("Block all traffic"), NULL };

static const char *const groups[][2] = {
  { "network", N_ ("Network Access") },
  { "rules", N_ ("Rules") },
  { "inbound", N_ ("Incoming Rules") },
  { "prompt", N_ ("Prompts") },
  { "dns", N_ ("DNS") },
  { "lists", N_ ("Filter List Sources") },
  { "history", N_ ("History and Bandwidth") },
  { "service", N_ ("Service") },
  { "other", N_ ("Other") },
};

static const SettingInfo infos[] = {
  { "default-action", "network", N_ ("Default Action"), N_ ("For connections no rule decides"),
    KIND_ENUM, actions, action_labels, FALSE },
  { "block-localhost", "network", N_ ("Block Localhost"), N_ ("Connections to this computer"),
    KIND_BOOL, NULL, NULL, FALSE },
  { "block-lan", "network", N_ ("Block Local Network"), N_ ("Connections to the local network"),
    KIND_BOOL, NULL, NULL, FALSE },
  { "block-internet", "network", N_ ("Block Internet"), N_ ("Connections beyond the local network"),
    KIND_BOOL, NULL, NULL, FALSE },
  { "block-p2p", "network", N_ ("Block Direct Connections"),
    N_ ("Connections to addresses no DNS name led to (P2P)"), KIND_BOOL, NULL, NULL, FALSE },
  { "block-inbound", "network", N_ ("Block Incoming Connections"), NULL, KIND_BOOL, NULL, NULL,
    FALSE },
  { "block-reaction", "network", N_ ("Blocked Connections"), NULL, KIND_ENUM, reactions,
    reaction_labels, FALSE },
  { "endpoints", "rules", N_ ("Rules"), NULL, KIND_RULES, NULL, NULL, FALSE },
  { "inbound-endpoints", "inbound", N_ ("Incoming Rules"), NULL, KIND_RULES, NULL, NULL, FALSE },
  { "prompt-timeout", "prompt", N_ ("Prompt Timeout (Seconds)"), NULL, KIND_NUMBER, NULL, NULL,
    FALSE },
  { "prompt-default", "prompt", N_ ("Unanswered Prompts"), NULL, KIND_ENUM, verdicts,
    verdict_labels, FALSE },
  { "prompt-inbound", "prompt", N_ ("Ask About Incoming Connections"),
    N_ ("When a program that listens is contacted and the action is to ask"), KIND_BOOL, NULL, NULL,
    FALSE },
  /* the resolver's keys are global: a profile's override of them is not used (settings.conf) */
  { "dns-resolver", "dns", N_ ("Local DNS Resolver"),
    N_ ("Answers the computer's DNS questions and judges them for each app"), KIND_BOOL, NULL, NULL,
    TRUE },
  { "dns-servers", "dns", N_ ("DNS Servers"), NULL, KIND_LIST, NULL, NULL, TRUE },
  { "dns-listen", "dns", N_ ("Resolver Addresses"), NULL, KIND_LIST, NULL, NULL, TRUE },
  { "dns-block-rebinding", "dns", N_ ("Refuse DNS Rebinding"),
    N_ ("Public names that answer with private addresses"), KIND_BOOL, NULL, NULL, TRUE },
  { "dns-block-reply", "dns", N_ ("Refused Names Get"), NULL, KIND_ENUM, block_replies,
    block_reply_labels, TRUE },
  { "dns-bypass-prevention", "dns", N_ ("Block Ways Around the Resolver"),
    N_ ("DNS over TLS or HTTPS servers that apps would ask on their own"), KIND_BOOL, NULL, NULL,
    TRUE },
  { "filter-lists", "lists", N_ ("Filter Lists"), NULL, KIND_LIST, NULL, NULL, FALSE },
  { "custom-list", "lists", N_ ("Your Own List (File)"), NULL, KIND_LIST, NULL, NULL, TRUE },
  { "lists-url", "lists", N_ ("Update Server"), NULL, KIND_LIST, NULL, NULL, TRUE },
  { "lists-keys", "lists", N_ ("Trusted Keys (Folder)"), NULL, KIND_LIST, NULL, NULL, TRUE },
  { "lists-update-interval", "lists", N_ ("Update Every (Seconds)"), NULL, KIND_NUMBER, NULL, NULL,
    TRUE },
  { "geo-database", "other", N_ ("Country Database (File)"), NULL, KIND_LIST, NULL, NULL, TRUE },
  { "history", "history", N_ ("Record History"), NULL, KIND_BOOL, NULL, NULL, FALSE },
  { "history-keep-days", "history", N_ ("Keep History (Days)"), NULL, KIND_NUMBER, NULL, NULL,
    FALSE },
  { "bandwidth", "history", N_ ("Record Bandwidth"), NULL, KIND_BOOL, NULL, NULL, FALSE },
  { "fail-mode", "service", N_ ("While the Service Is Down"), NULL, KIND_ENUM, fail_modes,
    fail_labels, TRUE },
};

struct _PcSettingsView
{
  AdwPreferencesPage parent_instance;

  char *profile;
  GCancellable *cancellable;      /* reads; a reload cancels the previous one */
  GCancellable *call_cancellable; /* changes; cancelled on dispose only */
  GVariant *values;               /* a{s(vs)}: effective values (and sources) */
  GVariant *global;               /* a{s(vs)}: global values (for "inherits global") */
  GVariant *profile_info;         /* a{sv} of GetProfile */
  GPtrArray *groups_shown;
  GHashTable *rows;       /* key -> row widget */
  GtkWidget *lists_group; /* the global view's filter lists (owned) */
  GtkWidget *dns_group;   /* and its DNS servers (owned) */
  GtkWidget *rule_entry[2];
  GtkWidget *rule_error[2];
  char *rule_error_text;
  gboolean building;
  gboolean loaded;
  gboolean loading;      /* a reload is in flight */
  gboolean reload_again; /* and another was asked for meanwhile */
};

G_DEFINE_FINAL_TYPE (PcSettingsView, pc_settings_view, ADW_TYPE_PREFERENCES_PAGE)

static PcApplication *
app (void)
{
  return PC_APPLICATION (g_application_get_default ());
}

static gboolean
is_profile (PcSettingsView *self)
{
  return self->profile != NULL && self->profile[0] != '\0';
}

static void
toast (PcSettingsView *self, const char *text)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (PC_IS_WINDOW (root))
    pc_window_toast (PC_WINDOW (root), text);
}

static const SettingInfo *
info_for (const char *key)
{
  for (guint i = 0; i < G_N_ELEMENTS (infos); i++)
    if (g_str_equal (infos[i].key, key))
      return &infos[i];
  return NULL;
}

static GVariant *
lookup_value (GVariant *dict, const char *key, const char **source)
{
  GVariant *value = NULL;
  const char *src = NULL;

  if (dict == NULL || !g_variant_lookup (dict, key, "(v&s)", &value, &src))
    return NULL;
  if (source != NULL)
    *source = src;
  return value;
}

static char *
display_value (const SettingInfo *info, GVariant *value)
{
  if (value == NULL)
    return g_strdup ("—");
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    return g_strdup (g_variant_get_boolean (value) ? _ ("on") : _ ("off"));
  if (info != NULL && info->kind == KIND_ENUM
      && g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    {
      const char *s = g_variant_get_string (value, NULL);

      for (guint i = 0; info->choices[i] != NULL; i++)
        if (g_str_equal (info->choices[i], s))
          return g_strdup (_ (info->labels[i]));
    }
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING_ARRAY)
      && g_variant_n_children (value) == 0)
    return g_strdup (_ ("none"));
  return pc_client_format_value (value);
}

/* ---- changing values ---------------------------------------------------------------------- */

typedef struct
{
  PcSettingsView *self;
  char *what;
  int rule_slot; /* -1, or 0/1 for the outbound/inbound rule entry */
} Call;

static void
call_free (Call *call)
{
  g_object_unref (call->self);
  g_free (call->what);
  g_free (call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Call, call_free)

static void
show_rule_error (PcSettingsView *self, int slot, const char *text)
{
  g_free (self->rule_error_text);
  self->rule_error_text = g_strdup (text);
  for (int i = 0; i < 2; i++)
    {
      if (self->rule_error[i] == NULL)
        continue;
      gtk_label_set_text (GTK_LABEL (self->rule_error[i]), i == slot && text ? text : "");
      gtk_widget_set_visible (self->rule_error[i], i == slot && text != NULL);
      if (i == slot && text != NULL)
        gtk_widget_add_css_class (self->rule_entry[i], "error");
      else
        gtk_widget_remove_css_class (self->rule_entry[i], "error");
    }
}

static void
call_done_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (Call) call = user_data;
  g_autoptr (GError) error = NULL;

  if (!pc_application_call_configure_finish (app (), res, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      g_message ("%s: %s", call->what, error->message);
      if (call->rule_slot >= 0)
        {
          /* the helper's message names the reason; nothing was changed */
          show_rule_error (call->self, call->rule_slot, error->message);
          return;
        }
      {
        g_autofree char *text
            = g_strdup_printf (_ ("Could not change the setting: %s"), error->message);
        toast (call->self, text);
      }
      /* show what the helper really has */
      pc_settings_view_reload (call->self);
      return;
    }
  g_message ("%s: done", call->what);
  if (call->rule_slot >= 0)
    {
      show_rule_error (call->self, -1, NULL);
      gtk_editable_set_text (GTK_EDITABLE (call->self->rule_entry[call->rule_slot]), "");
    }
  pc_settings_view_reload (call->self);
}

static void
call (PcSettingsView *self, const char *method, GVariant *params, int rule_slot)
{
  Call *c = g_new0 (Call, 1);

  c->self = g_object_ref (self);
  c->rule_slot = rule_slot;
  g_variant_ref_sink (params);
  {
    g_autofree char *printed = g_variant_print (params, FALSE);
    c->what = g_strdup_printf ("%s %s", method, printed);
  }
  /* not self->cancellable: a reload must not cancel a change in flight */
  pc_application_call_configure (app (), method, params, self->call_cancellable, call_done_cb, c);
  g_variant_unref (params);
}

static void
set_value (PcSettingsView *self, const char *key, GVariant *value)
{
  if (is_profile (self))
    call (self, "SetProfileSetting", g_variant_new ("(ssv)", self->profile, key, value), -1);
  else
    call (self, "SetSetting", g_variant_new ("(sv)", key, value), -1);
}

static void
unset_value (PcSettingsView *self, const char *key)
{
  if (is_profile (self))
    call (self, "UnsetProfileSetting", g_variant_new ("(ss)", self->profile, key), -1);
  else
    call (self, "ResetSetting", g_variant_new ("(s)", key), -1);
}

static void
combo_changed_cb (GObject *row, GParamSpec *pspec, gpointer user_data)
{
  PcSettingsView *self = user_data;
  const char *key = g_object_get_data (row, "pc-key");
  const SettingInfo *info = info_for (key);
  guint selected = adw_combo_row_get_selected (ADW_COMBO_ROW (row));

  if (self->building)
    return;
  if (is_profile (self))
    {
      if (selected == 0)
        {
          unset_value (self, key);
          return;
        }
      selected--;
    }
  if (info->kind == KIND_BOOL)
    set_value (self, key, g_variant_new_boolean (selected == 0));
  else
    set_value (self, key, g_variant_new_string (info->choices[selected]));
}

static void
switch_changed_cb (GObject *sw, GParamSpec *pspec, gpointer user_data)
{
  PcSettingsView *self = user_data;

  if (self->building)
    return;
  set_value (self, g_object_get_data (sw, "pc-key"),
             g_variant_new_boolean (gtk_switch_get_active (GTK_SWITCH (sw))));
}

static void
entry_apply_cb (AdwEntryRow *row, gpointer user_data)
{
  PcSettingsView *self = user_data;
  const char *key = g_object_get_data (G_OBJECT (row), "pc-key");
  const char *text = gtk_editable_get_text (GTK_EDITABLE (row));
  const SettingInfo *info = info_for (key);
  GVariant *current = lookup_value (self->values, key, NULL);
  const GVariantType *type;
  g_autoptr (GVariant) value = NULL;
  g_autoptr (GError) error = NULL;

  if (current == NULL)
    return;
  type = g_variant_get_type (current);
  if (is_profile (self) && g_strstrip (g_strdup (text))[0] == '\0'
      && (info == NULL || info->kind != KIND_LIST))
    {
      g_variant_unref (current);
      unset_value (self, key);
      return;
    }
  value = pc_client_parse_value (text, type, &error);
  g_variant_unref (current);
  if (value == NULL)
    {
      gtk_widget_add_css_class (GTK_WIDGET (row), "error");
      toast (self, error->message);
      return;
    }
  gtk_widget_remove_css_class (GTK_WIDGET (row), "error");
  set_value (self, key, g_steal_pointer (&value));
}

static void
reset_clicked_cb (GtkButton *button, gpointer user_data)
{
  unset_value (user_data, g_object_get_data (G_OBJECT (button), "pc-key"));
}

static void
add_rule_cb (AdwEntryRow *row, gpointer user_data)
{
  PcSettingsView *self = user_data;
  int slot = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (row), "pc-slot"));
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (row))));

  if (text[0] == '\0')
    return;
  call (self, "AddRule",
        g_variant_new ("(sbs)", self->profile ? self->profile : "", slot == 1, text), slot);
}

static void
remove_rule_cb (GtkButton *button, gpointer user_data)
{
  PcSettingsView *self = user_data;
  int slot = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (button), "pc-slot"));
  const char *rule = g_object_get_data (G_OBJECT (button), "pc-rule");

  call (self, "RemoveRule",
        g_variant_new ("(sbs)", self->profile ? self->profile : "", slot == 1, rule), -1);
}

/* ---- building the rows ------------------------------------------------------------------- */

static AdwPreferencesGroup *
group_for (PcSettingsView *self, GHashTable *made, const char *group)
{
  AdwPreferencesGroup *g = g_hash_table_lookup (made, group);

  if (g == NULL)
    {
      g = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
      for (guint i = 0; i < G_N_ELEMENTS (groups); i++)
        if (g_str_equal (groups[i][0], group))
          adw_preferences_group_set_title (g, _ (groups[i][1]));
      g_hash_table_insert (made, (char *)group, g);
    }
  return g;
}

static void
add_group (PcSettingsView *self, AdwPreferencesGroup *group)
{
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (self), group);
  g_ptr_array_add (self->groups_shown, group);
}

static char *
inherit_text (PcSettingsView *self, const SettingInfo *info, const char *key)
{
  g_autoptr (GVariant) global = lookup_value (self->global, key, NULL);
  g_autofree char *shown = display_value (info, global);

  /* TRANSLATORS: a per-app setting that follows the global one, e.g. "Inherits global: on" */
  return g_strdup_printf (_ ("Inherits global: %s"), shown);
}

static GtkWidget *
make_rules (
    PcSettingsView *self, AdwPreferencesGroup *group, const char *key, GVariant *value, int slot)
{
  g_autofree const char **rules = NULL;
  GtkWidget *entry, *error;

  adw_preferences_group_set_description (
      group, is_profile (self)
                 ? _ ("Checked first, before the global rules; the first rule that matches "
                      "decides. “+ example.com” allows, “- 10.0.0.0/8 tcp/22” blocks.")
                 : _ ("The first rule that matches decides. “+ example.com” allows, "
                      "“- 10.0.0.0/8 tcp/22” blocks, “- L:ADS” blocks a filter list."));
  if (value != NULL && g_variant_is_of_type (value, G_VARIANT_TYPE_STRING_ARRAY))
    rules = g_variant_get_strv (value, NULL);
  for (guint i = 0; rules != NULL && rules[i] != NULL; i++)
    {
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *remove = gtk_button_new_from_icon_name ("user-trash-symbolic");
      g_autofree char *label = g_strdup_printf (_ ("Remove rule %s"), rules[i]);

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), rules[i]);
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      gtk_widget_add_css_class (row, "monospace");
      gtk_widget_set_valign (remove, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (remove, "flat");
      gtk_widget_set_tooltip_text (remove, _ ("Remove Rule"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (remove), GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                      -1);
      g_object_set_data_full (G_OBJECT (remove), "pc-rule", g_strdup (rules[i]), g_free);
      g_object_set_data (G_OBJECT (remove), "pc-slot", GINT_TO_POINTER (slot));
      g_signal_connect (remove, "clicked", G_CALLBACK (remove_rule_cb), self);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), remove);
      adw_preferences_group_add (group, row);
    }
  entry = adw_entry_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (entry),
                                 slot == 0 ? _ ("Add a rule") : _ ("Add an incoming rule"));
  adw_entry_row_set_show_apply_button (ADW_ENTRY_ROW (entry), TRUE);
  gtk_widget_add_css_class (entry, "monospace");
  g_object_set_data (G_OBJECT (entry), "pc-slot", GINT_TO_POINTER (slot));
  g_signal_connect (entry, "apply", G_CALLBACK (add_rule_cb), self);
  g_signal_connect (entry, "entry-activated", G_CALLBACK (add_rule_cb), self);
  adw_preferences_group_add (group, entry);
  error = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (error), 0);
  gtk_label_set_wrap (GTK_LABEL (error), TRUE);
  gtk_widget_set_margin_top (error, 6);
  gtk_widget_add_css_class (error, "error");
  gtk_widget_set_visible (error, FALSE);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_RELATION_DESCRIBED_BY,
                                  error, NULL, -1);
  adw_preferences_group_add (group, error);
  self->rule_entry[slot] = entry;
  self->rule_error[slot] = error;
  return entry;
}

static GtkWidget *
make_row (PcSettingsView *self,
          const SettingInfo *info,
          const char *key,
          GVariant *value,
          const char *source)
{
  gboolean profile = is_profile (self);
  gboolean overridden = profile && g_strcmp0 (source, "profile") == 0;
  Kind kind = info                                                        ? info->kind
              : g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN)      ? KIND_BOOL
              : g_variant_is_of_type (value, G_VARIANT_TYPE_STRING_ARRAY) ? KIND_LIST
              : g_variant_is_of_type (value, G_VARIANT_TYPE_STRING)       ? KIND_LIST
                                                                          : KIND_NUMBER;
  const char *title = info ? _ (info->title) : key;
  g_autofree char *inherit = profile ? inherit_text (self, info, key) : NULL;
  GtkWidget *row;

  if (kind == KIND_BOOL && !profile)
    {
      GtkWidget *sw = gtk_switch_new ();

      row = adw_action_row_new ();
      gtk_switch_set_active (GTK_SWITCH (sw), value && g_variant_get_boolean (value));
      gtk_widget_set_valign (sw, GTK_ALIGN_CENTER);
      g_object_set_data_full (G_OBJECT (sw), "pc-key", g_strdup (key), g_free);
      g_signal_connect (sw, "notify::active", G_CALLBACK (switch_changed_cb), self);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), sw);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), sw);
      g_object_set_data (G_OBJECT (row), "pc-switch", sw);
      gtk_accessible_update_property (GTK_ACCESSIBLE (sw), GTK_ACCESSIBLE_PROPERTY_LABEL, title,
                                      -1);
    }
  else if (kind == KIND_BOOL || kind == KIND_ENUM)
    {
      g_autoptr (GtkStringList) list = gtk_string_list_new (NULL);
      guint selected = 0;

      row = adw_combo_row_new ();
      if (profile)
        {
          g_autoptr (GVariant) global = lookup_value (self->global, key, NULL);
          g_autofree char *shown = display_value (info, global);
          /* TRANSLATORS: the choice that follows the global setting, e.g. "Global (on)" */
          g_autofree char *label = g_strdup_printf (_ ("Global (%s)"), shown);

          gtk_string_list_append (list, label);
        }
      if (kind == KIND_BOOL)
        {
          gtk_string_list_append (list, _ ("On"));
          gtk_string_list_append (list, _ ("Off"));
          if (value != NULL && (!profile || overridden))
            selected = g_variant_get_boolean (value) ? 0 : 1;
        }
      else
        for (guint i = 0; info->choices[i] != NULL; i++)
          {
            gtk_string_list_append (list, _ (info->labels[i]));
            if (value != NULL && (!profile || overridden)
                && g_str_equal (info->choices[i], g_variant_get_string (value, NULL)))
              selected = i;
          }
      if (profile)
        selected = overridden ? selected + 1 : 0;
      adw_combo_row_set_model (ADW_COMBO_ROW (row), G_LIST_MODEL (list));
      adw_combo_row_set_selected (ADW_COMBO_ROW (row), selected);
      g_object_set_data_full (G_OBJECT (row), "pc-key", g_strdup (key), g_free);
      g_signal_connect (row, "notify::selected", G_CALLBACK (combo_changed_cb), self);
    }
  else
    {
      g_autofree char *text = value ? pc_client_format_value (value) : g_strdup ("");

      row = adw_entry_row_new ();
      adw_entry_row_set_show_apply_button (ADW_ENTRY_ROW (row), TRUE);
      gtk_editable_set_text (GTK_EDITABLE (row), profile && !overridden ? "" : text);
      g_object_set_data_full (G_OBJECT (row), "pc-key", g_strdup (key), g_free);
      g_signal_connect (row, "apply", G_CALLBACK (entry_apply_cb), self);
    }
  if (profile && ADW_IS_ENTRY_ROW (row))
    {
      /* entry rows have no subtitle: the title says what an empty entry means */
      g_autofree char *t
          = g_strdup_printf ("%s — %s", title, overridden ? _ ("overridden") : inherit);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), t);
    }
  else
    adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  if (ADW_IS_ACTION_ROW (row))
    {
      const char *sub = info && info->subtitle ? _ (info->subtitle) : NULL;
      g_autofree char *subtitle = NULL;

      if (profile)
        subtitle = overridden ? g_strdup (_ ("Overrides the global setting")) : g_strdup (inherit);
      else if (g_strcmp0 (source, "admin") == 0)
        subtitle = sub ? g_strdup_printf (_ ("%s · set by the administrator"), sub)
                       : g_strdup (_ ("Set by the administrator"));
      else
        subtitle = g_strdup (sub);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle ? subtitle : "");
    }
  if ((profile && overridden) || (!profile && g_strcmp0 (source, "user") == 0))
    {
      GtkWidget *reset = gtk_button_new_from_icon_name ("edit-undo-symbolic");

      gtk_widget_set_valign (reset, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (reset, "flat");
      gtk_widget_set_tooltip_text (reset,
                                   profile ? _ ("Use the Global Setting") : _ ("Reset to Default"));
      gtk_accessible_update_property (
          GTK_ACCESSIBLE (reset), GTK_ACCESSIBLE_PROPERTY_LABEL,
          profile ? _ ("Use the Global Setting") : _ ("Reset to Default"), -1);
      g_object_set_data_full (G_OBJECT (reset), "pc-key", g_strdup (key), g_free);
      g_signal_connect (reset, "clicked", G_CALLBACK (reset_clicked_cb), self);
      if (ADW_IS_ENTRY_ROW (row))
        adw_entry_row_add_suffix (ADW_ENTRY_ROW (row), reset);
      else
        adw_action_row_add_suffix (ADW_ACTION_ROW (row), reset);
    }
  g_object_set_data_full (G_OBJECT (row), "pc-source", g_strdup (source ? source : ""), g_free);
  return row;
}

static void
delete_response_cb (AdwMessageDialog *dialog, const char *response, gpointer user_data)
{
  PcSettingsView *self = user_data;

  if (g_str_equal (response, "delete"))
    call (self, "DeleteProfile", g_variant_new ("(s)", self->profile), -1);
}

static void
delete_clicked_cb (GtkButton *button, gpointer user_data)
{
  PcSettingsView *self = user_data;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  const char *name = self->profile;
  GtkWidget *dialog;

  if (self->profile_info != NULL)
    g_variant_lookup (self->profile_info, "name", "&s", &name);
  dialog = adw_message_dialog_new (GTK_WINDOW (root), _ ("Delete This App’s Settings?"), NULL);
  adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (dialog),
                                  _ ("The settings and rules of “%s” are removed. When it "
                                     "connects again it gets a new profile with the global "
                                     "settings."),
                                  name);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _ ("_Cancel"), "delete",
                                    _ ("_Delete"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "delete",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (delete_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Rules from answered prompts that end by themselves: shown, they go on their own. */
static void
add_temporary_rules (AdwPreferencesGroup *group, GVariant *profile)
{
  g_autoptr (GVariant) temps
      = g_variant_lookup_value (profile, "temporary-rules", G_VARIANT_TYPE ("aa{sv}"));
  GVariantIter iter;
  GVariant *temp;

  if (temps == NULL)
    return;
  g_variant_iter_init (&iter, temps);
  while ((temp = g_variant_iter_next_value (&iter)) != NULL)
    {
      const char *rule = "", *list = "endpoints";
      gint64 expires = 0;
      gboolean until_exit = FALSE;
      g_autofree char *subtitle = NULL;
      GtkWidget *row = adw_action_row_new ();

      g_variant_lookup (temp, "rule", "&s", &rule);
      g_variant_lookup (temp, "list", "&s", &list);
      g_variant_lookup (temp, "expires", "x", &expires);
      g_variant_lookup (temp, "until-exit", "b", &until_exit);
      if (until_exit)
        subtitle = g_strdup (_ ("Temporary rule, until the app exits"));
      else if (expires > 0)
        {
          g_autoptr (GDateTime) at = g_date_time_new_from_unix_local (expires / G_USEC_PER_SEC);
          g_autofree char *when = at ? g_date_time_format (at, "%X") : g_strdup ("?");

          /* TRANSLATORS: a rule from a prompt answer that ends at a time, e.g. "until 14:05:00" */
          subtitle = g_strdup_printf (_ ("Temporary rule, until %s"), when);
        }
      else
        subtitle = g_strdup (_ ("Temporary rule, until the service restarts"));
      if (g_str_equal (list, "inbound-endpoints"))
        {
          g_autofree char *both = g_strdup_printf (_ ("%s · incoming"), subtitle);
          g_free (subtitle);
          subtitle = g_steal_pointer (&both);
        }
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), rule);
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      gtk_widget_add_css_class (row, "monospace");
      adw_preferences_group_add (group, row);
      g_variant_unref (temp);
    }
}

static AdwPreferencesGroup *
make_profile_group (PcSettingsView *self)
{
  AdwPreferencesGroup *group = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  const char *name = self->profile, *icon = NULL;
  g_autofree const char **fps = NULL;
  gboolean special = FALSE;
  GtkWidget *row, *image, *del;

  g_variant_lookup (self->profile_info, "name", "&s", &name);
  g_variant_lookup (self->profile_info, "icon", "&s", &icon);
  g_variant_lookup (self->profile_info, "fingerprints", "^a&s", &fps);
  g_variant_lookup (self->profile_info, "special", "b", &special);
  /* the helper's own profiles have names marked for translation there */
  if (special && name[0] != '\0')
    name = _ (name);

  row = adw_action_row_new ();
  if (name[0] == '/' && strrchr (name, '/')[1] != '\0')
    name = strrchr (name, '/') + 1;
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), self->profile);
  gtk_widget_add_css_class (row, "property");
  image
      = gtk_image_new_from_icon_name (icon && icon[0] ? icon : "application-x-executable-symbolic");
  gtk_image_set_pixel_size (GTK_IMAGE (image), 48);
  gtk_image_set_icon_size (GTK_IMAGE (image), GTK_ICON_SIZE_LARGE);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), image);
  if (!special)
    {
      del = gtk_button_new_with_mnemonic (_ ("_Delete…"));
      gtk_widget_add_css_class (del, "destructive-action");
      gtk_widget_set_valign (del, GTK_ALIGN_CENTER);
      gtk_widget_set_tooltip_text (del, _ ("Delete this app’s settings and rules"));
      g_signal_connect (del, "clicked", G_CALLBACK (delete_clicked_cb), self);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), del);
    }
  adw_preferences_group_add (group, row);

  for (guint i = 0; fps != NULL && fps[i] != NULL; i++)
    {
      GtkWidget *fp = adw_action_row_new ();

      /* TRANSLATORS: how Portcullis recognizes the app: "path:/usr/bin/curl" */
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (fp), _ ("Recognized By"));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (fp), fps[i]);
      gtk_widget_add_css_class (fp, "property");
      adw_preferences_group_add (group, fp);
    }
  add_temporary_rules (group, self->profile_info);
  return group;
}

static void
clear (PcSettingsView *self)
{
  for (guint i = 0; i < self->groups_shown->len; i++)
    adw_preferences_page_remove (ADW_PREFERENCES_PAGE (self), self->groups_shown->pdata[i]);
  g_ptr_array_set_size (self->groups_shown, 0);
  g_hash_table_remove_all (self->rows);
  self->rule_entry[0] = self->rule_entry[1] = NULL;
  self->rule_error[0] = self->rule_error[1] = NULL;
}

static void
build (PcSettingsView *self)
{
  g_autoptr (GHashTable) made = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *saved_error = g_strdup (self->rule_error_text);
  g_autoptr (GVariant) overrides = NULL;
  GVariantIter iter;
  const char *key;
  GVariant *entry;

  self->building = TRUE;
  clear (self);
  if (is_profile (self) && self->profile_info != NULL)
    {
      add_group (self, make_profile_group (self));
      overrides = g_variant_lookup_value (self->profile_info, "overrides", G_VARIANT_TYPE_VARDICT);
    }
  /* in the order of the table, then keys this version does not know */
  for (guint i = 0; i < G_N_ELEMENTS (infos); i++)
    {
      const char *source = NULL;
      g_autoptr (GVariant) value = lookup_value (self->values, infos[i].key, &source);
      AdwPreferencesGroup *group;

      if (value == NULL || (infos[i].global_only && is_profile (self)))
        continue;
      if (!is_profile (self) && g_str_equal (infos[i].key, "filter-lists"))
        {
          /* the global lists: a switch per category in their own group */
          if (self->lists_group == NULL)
            self->lists_group = g_object_ref_sink (pc_filter_lists_group_new ());
          pc_filter_lists_group_set_setting (PC_FILTER_LISTS_GROUP (self->lists_group), value,
                                             source);
          continue;
        }
      if (!is_profile (self) && g_str_equal (infos[i].key, "dns-servers"))
        {
          /* the servers with their live status in their own group */
          if (self->dns_group == NULL)
            self->dns_group = g_object_ref_sink (pc_dns_group_new ());
          pc_dns_group_set_setting (PC_DNS_GROUP (self->dns_group), value, source);
          continue;
        }
      group = group_for (self, made, infos[i].group);
      if (infos[i].kind == KIND_RULES)
        {
          /* a profile's own rules (checked before the global ones) */
          g_autoptr (GVariant) own = NULL;
          int slot = g_str_equal (infos[i].key, "endpoints") ? 0 : 1;

          if (is_profile (self))
            own = overrides ? g_variant_lookup_value (overrides, infos[i].key,
                                                      G_VARIANT_TYPE_STRING_ARRAY)
                            : NULL;
          else
            own = g_variant_ref (value);
          g_hash_table_insert (self->rows, g_strdup (infos[i].key),
                               make_rules (self, group, infos[i].key, own, slot));
          continue;
        }
      {
        GtkWidget *row = make_row (self, &infos[i], infos[i].key, value, source);

        adw_preferences_group_add (group, row);
        g_hash_table_insert (self->rows, g_strdup (infos[i].key), row);
      }
    }
  g_variant_iter_init (&iter, self->values);
  while (g_variant_iter_next (&iter, "{&s@(vs)}", &key, &entry))
    {
      if (info_for (key) == NULL)
        {
          const char *source = NULL;
          g_autoptr (GVariant) value = lookup_value (self->values, key, &source);
          GtkWidget *row = make_row (self, NULL, key, value, source);

          adw_preferences_group_add (group_for (self, made, "other"), row);
          g_hash_table_insert (self->rows, g_strdup (key), row);
        }
      g_variant_unref (entry);
    }
  for (guint i = 0; i < G_N_ELEMENTS (groups); i++)
    {
      AdwPreferencesGroup *group = g_hash_table_lookup (made, groups[i][0]);

      /* the categories before where the lists come from */
      if (g_str_equal (groups[i][0], "lists") && self->lists_group != NULL && !is_profile (self))
        add_group (self, ADW_PREFERENCES_GROUP (self->lists_group));
      if (group != NULL)
        add_group (self, group);
      if (g_str_equal (groups[i][0], "dns") && self->dns_group != NULL && !is_profile (self))
        add_group (self, ADW_PREFERENCES_GROUP (self->dns_group));
    }
  self->building = FALSE;
  (void)saved_error;
}

/* ---- loading ----------------------------------------------------------------------------- */

static void
load_done (PcSettingsView *self)
{
  self->loading = FALSE;
  if (self->reload_again)
    {
      self->reload_again = FALSE;
      pc_settings_view_reload (self);
    }
}

static void got_values_cb (GObject *source, GAsyncResult *res, gpointer user_data);

static void
got_global_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  PcSettingsView *self = user_data;
  g_autoptr (GVariant) global = NULL;
  g_autoptr (GError) error = NULL;

  if (!pc_dbus_portcullis1_call_get_settings_finish (PC_DBUS_PORTCULLIS1 (source), &global, res,
                                                     &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          pc_client_fix_error (error);
          g_message ("cannot read the settings: %s", error->message);
          load_done (self);
        }
      return;
    }
  g_clear_pointer (&self->global, g_variant_unref);
  self->global = g_steal_pointer (&global);
  if (!is_profile (self))
    {
      g_clear_pointer (&self->values, g_variant_unref);
      self->values = g_variant_ref (self->global);
      self->loaded = TRUE;
      build (self);
      load_done (self);
      return;
    }
  pc_dbus_portcullis1_call_get_effective_settings (PC_DBUS_PORTCULLIS1 (source), self->profile,
                                                   self->cancellable, got_values_cb, self);
}

static void
got_profile_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  PcSettingsView *self = user_data;
  g_autoptr (GVariant) profile = NULL;
  g_autoptr (GError) error = NULL;

  if (!pc_dbus_portcullis1_call_get_profile_finish (PC_DBUS_PORTCULLIS1 (source), &profile, res,
                                                    &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          pc_client_fix_error (error);
          g_message ("cannot read profile %s: %s", self->profile, error->message);
          clear (self);
          self->loaded = FALSE;
          load_done (self);
        }
      return;
    }
  g_clear_pointer (&self->profile_info, g_variant_unref);
  self->profile_info = g_steal_pointer (&profile);
  pc_dbus_portcullis1_call_get_settings (PC_DBUS_PORTCULLIS1 (source), self->cancellable,
                                         got_global_cb, self);
}

static void
got_values_cb (GObject *source, GAsyncResult *res, gpointer user_data)
{
  PcSettingsView *self = user_data;
  g_autoptr (GVariant) values = NULL;
  g_autoptr (GError) error = NULL;

  if (!pc_dbus_portcullis1_call_get_effective_settings_finish (PC_DBUS_PORTCULLIS1 (source),
                                                               &values, res, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          pc_client_fix_error (error);
          g_message ("cannot read the settings of %s: %s", self->profile, error->message);
          load_done (self);
        }
      return;
    }
  g_clear_pointer (&self->values, g_variant_unref);
  self->values = g_steal_pointer (&values);
  self->loaded = TRUE;
  build (self);
  load_done (self);
}

void
pc_settings_view_reload (PcSettingsView *self)
{
  PcClient *client = pc_application_get_client (app ());

  if (client == NULL || !pc_application_get_helper_available (app ()))
    return;
  if (self->loading)
    {
      /* one read at a time: a cancelled call still counts on the helper until it answers */
      self->reload_again = TRUE;
      return;
    }
  self->loading = TRUE;
  if (is_profile (self))
    pc_dbus_portcullis1_call_get_profile (pc_client_get_proxy (client), self->profile,
                                          self->cancellable, got_profile_cb, self);
  else
    pc_dbus_portcullis1_call_get_settings (pc_client_get_proxy (client), self->cancellable,
                                           got_global_cb, self);
}

static void
helper_changed_cb (gpointer user_data)
{
  PcSettingsView *self = user_data;

  /* a hidden view re-reads when it is shown */
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    pc_settings_view_reload (self);
}

static void
pc_settings_view_map (GtkWidget *widget)
{
  PcSettingsView *self = PC_SETTINGS_VIEW (widget);

  GTK_WIDGET_CLASS (pc_settings_view_parent_class)->map (widget);
  pc_settings_view_reload (self);
}

static void
pc_settings_view_dispose (GObject *object)
{
  PcSettingsView *self = PC_SETTINGS_VIEW (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_cancellable_cancel (self->call_cancellable);
  g_clear_object (&self->call_cancellable);
  g_clear_pointer (&self->values, g_variant_unref);
  g_clear_pointer (&self->global, g_variant_unref);
  g_clear_pointer (&self->profile_info, g_variant_unref);
  g_clear_pointer (&self->rows, g_hash_table_unref);
  g_clear_pointer (&self->groups_shown, g_ptr_array_unref);
  g_clear_object (&self->lists_group);
  g_clear_object (&self->dns_group);
  G_OBJECT_CLASS (pc_settings_view_parent_class)->dispose (object);
}

static void
pc_settings_view_finalize (GObject *object)
{
  PcSettingsView *self = PC_SETTINGS_VIEW (object);

  g_free (self->profile);
  g_free (self->rule_error_text);
  G_OBJECT_CLASS (pc_settings_view_parent_class)->finalize (object);
}

static void
update_lists_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  PcSettingsView *self = PC_SETTINGS_VIEW (widget);

  if (self->lists_group != NULL)
    pc_filter_lists_group_update (PC_FILTER_LISTS_GROUP (self->lists_group));
}

static void
pc_settings_view_class_init (PcSettingsViewClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = pc_settings_view_dispose;
  G_OBJECT_CLASS (klass)->finalize = pc_settings_view_finalize;
  GTK_WIDGET_CLASS (klass)->map = pc_settings_view_map;
  gtk_widget_class_install_action (GTK_WIDGET_CLASS (klass), "settings.update-lists", NULL,
                                   update_lists_action);
}

static void
pc_settings_view_init (PcSettingsView *self)
{
  self->cancellable = g_cancellable_new ();
  self->call_cancellable = g_cancellable_new ();
  self->groups_shown = g_ptr_array_new ();
  self->rows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_signal_connect_object (app (), "settings-changed", G_CALLBACK (helper_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (app (), "notify::helper-state", G_CALLBACK (helper_changed_cb), self,
                           G_CONNECT_SWAPPED);
  adw_preferences_page_set_title (ADW_PREFERENCES_PAGE (self), _ ("Settings"));
}

void
pc_settings_view_set_profile (PcSettingsView *self, const char *profile_id)
{
  if (g_strcmp0 (self->profile, profile_id) == 0)
    {
      /* shown again: what it shows may be stale (or a read failed) */
      pc_settings_view_reload (self);
      return;
    }
  g_free (self->profile);
  self->profile = g_strdup (profile_id);
  g_clear_pointer (&self->profile_info, g_variant_unref);
  g_clear_pointer (&self->values, g_variant_unref);
  g_clear_pointer (&self->rule_error_text, g_free);
  self->loaded = FALSE;
  clear (self);
  /* the previous profile's answers are of no use now */
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  self->loading = FALSE;
  self->reload_again = FALSE;
  pc_settings_view_reload (self);
}

const char *
pc_settings_view_get_profile (PcSettingsView *self)
{
  return self->profile;
}

/* Scrolls the page so that child's top is shown (for screenshots of a group). */
static gboolean
scroll_to (PcSettingsView *self, GtkWidget *child)
{
  GtkWidget *scrolled = gtk_widget_get_ancestor (child, GTK_TYPE_SCROLLED_WINDOW);
  GtkAdjustment *adj;
  graphene_point_t p;

  if (scrolled == NULL
      || !gtk_widget_compute_point (child,
                                    gtk_scrolled_window_get_child (GTK_SCROLLED_WINDOW (scrolled)),
                                    &GRAPHENE_POINT_INIT (0, 0), &p))
    return FALSE;
  adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled));
  gtk_adjustment_set_value (adj, gtk_adjustment_get_value (adj) + p.y - 12);
  return TRUE;
}

gboolean
pc_settings_view_test_set (PcSettingsView *self, const char *key, const char *text)
{
  GtkWidget *row;

  if (g_str_equal (key, "add-rule") || g_str_equal (key, "add-inbound-rule"))
    {
      GtkWidget *entry = self->rule_entry[g_str_equal (key, "add-rule") ? 0 : 1];

      if (entry == NULL)
        return FALSE;
      gtk_editable_set_text (GTK_EDITABLE (entry), text);
      g_signal_emit_by_name (entry, "apply");
      return TRUE;
    }
  if (g_str_equal (key, "scroll-to"))
    {
      GtkWidget *target = g_str_equal (text, "filter-lists") ? self->lists_group
                          : g_str_equal (text, "dns")        ? self->dns_group
                                                             : NULL;

      return target != NULL && scroll_to (self, target);
    }
  if (g_str_has_prefix (key, "dns:"))
    return self->dns_group != NULL
           && pc_dns_group_test_do (PC_DNS_GROUP (self->dns_group), key + strlen ("dns:"), text);
  if (g_str_has_prefix (key, "filter-list:"))
    return self->lists_group != NULL
           && pc_filter_lists_group_test_set (PC_FILTER_LISTS_GROUP (self->lists_group),
                                              key + strlen ("filter-list:"),
                                              g_str_equal (text, "true"));
  row = g_hash_table_lookup (self->rows, key);
  if (row == NULL)
    return FALSE;
  if (ADW_IS_COMBO_ROW (row))
    {
      const SettingInfo *info = info_for (key);
      guint offset = is_profile (self) ? 1 : 0;

      if (g_str_equal (text, "inherit") && is_profile (self))
        adw_combo_row_set_selected (ADW_COMBO_ROW (row), 0);
      else if (info->kind == KIND_BOOL)
        adw_combo_row_set_selected (ADW_COMBO_ROW (row),
                                    offset + (g_str_equal (text, "true") ? 0 : 1));
      else
        for (guint i = 0; info->choices[i] != NULL; i++)
          if (g_str_equal (info->choices[i], text))
            adw_combo_row_set_selected (ADW_COMBO_ROW (row), offset + i);
      return TRUE;
    }
  if (ADW_IS_ENTRY_ROW (row))
    {
      gtk_editable_set_text (GTK_EDITABLE (row), g_str_equal (text, "inherit") ? "" : text);
      g_signal_emit_by_name (row, "apply");
      return TRUE;
    }
  if (g_object_get_data (G_OBJECT (row), "pc-switch") != NULL)
    {
      gtk_switch_set_active (g_object_get_data (G_OBJECT (row), "pc-switch"),
                             g_str_equal (text, "true"));
      return TRUE;
    }
  return FALSE;
}

GVariant *
pc_settings_view_dump (PcSettingsView *self)
{
  GVariantBuilder b, settings;
  GHashTableIter iter;
  gpointer key, row;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_init (&settings, G_VARIANT_TYPE ("a{s(ss)}"));
  g_hash_table_iter_init (&iter, self->rows);
  while (g_hash_table_iter_next (&iter, &key, &row))
    {
      g_autofree char *shown = NULL;
      const char *source = g_object_get_data (row, "pc-source");

      if (ADW_IS_COMBO_ROW (row))
        {
          GtkStringObject *item = adw_combo_row_get_selected_item (ADW_COMBO_ROW (row));
          shown = g_strdup (item ? gtk_string_object_get_string (item) : "");
        }
      else if (GTK_IS_EDITABLE (row))
        shown = g_strdup (gtk_editable_get_text (GTK_EDITABLE (row)));
      else if (ADW_IS_ACTION_ROW (row))
        shown = g_strdup (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)));
      if (ADW_IS_ACTION_ROW (row))
        {
          const char *sub = adw_action_row_get_subtitle (ADW_ACTION_ROW (row));
          g_autofree char *both = g_strdup_printf ("%s | %s", shown ? shown : "", sub ? sub : "");
          g_free (shown);
          shown = g_steal_pointer (&both);
        }
      else if (ADW_IS_PREFERENCES_ROW (row))
        {
          g_autofree char *both
              = g_strdup_printf ("%s | %s", shown ? shown : "",
                                 adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)));
          g_free (shown);
          shown = g_steal_pointer (&both);
        }
      g_variant_builder_add (&settings, "{s(ss)}", (const char *)key, shown ? shown : "",
                             source ? source : "");
    }
  g_variant_builder_add (&b, "{sv}", "profile",
                         g_variant_new_string (self->profile ? self->profile : ""));
  g_variant_builder_add (&b, "{sv}", "loaded", g_variant_new_boolean (self->loaded));
  if (self->lists_group != NULL)
    g_variant_builder_add (&b, "{sv}", "filter-lists",
                           pc_filter_lists_group_dump (PC_FILTER_LISTS_GROUP (self->lists_group)));
  if (self->dns_group != NULL)
    g_variant_builder_add (&b, "{sv}", "dns", pc_dns_group_dump (PC_DNS_GROUP (self->dns_group)));
  g_variant_builder_add (&b, "{sv}", "settings", g_variant_builder_end (&settings));
  g_variant_builder_add (&b, "{sv}", "rule-error",
                         g_variant_new_string (self->rule_error_text ? self->rule_error_text : ""));
  if (self->values != NULL)
    {
      g_autoptr (GVariant) rules = NULL;

      if (is_profile (self) && self->profile_info != NULL)
        {
          g_autoptr (GVariant) overrides
              = g_variant_lookup_value (self->profile_info, "overrides", G_VARIANT_TYPE_VARDICT);
          if (overrides != NULL)
            rules = g_variant_lookup_value (overrides, "endpoints", G_VARIANT_TYPE_STRING_ARRAY);
        }
      else
        rules = lookup_value (self->values, "endpoints", NULL);
      if (rules != NULL)
        g_variant_builder_add (&b, "{sv}", "rules", rules);
    }
  return g_variant_builder_end (&b);
}
