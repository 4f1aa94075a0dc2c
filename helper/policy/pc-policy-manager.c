/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-policy"

#include "pc-policy-manager.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>

#include "pc-desktop.h"
#include "pc-error.h"
#include "pc-store.h"

/* Store kinds. */
#define KIND_GLOBAL "global"
#define KIND_PROFILE "profile"
#define KIND_TEMP "temporary-rule"

#define EXPORT_FORMAT "portcullis-policy"
#define EXPORT_VERSION 1

typedef struct
{
  guint64 serial; /* also its id in the store when persisted */
  char *profile_id;
  char *list_key;
  char *rule;
  gint64 expires; /* real time µs; 0: none */
  pid_t pid;      /* until this process exits; 0: none */
  guint64 pid_start;
  gboolean persisted;
} PcTemp;

struct _PcPolicyManager
{
  GObject parent_instance;

  char *state_dir;
  char *config_dir;
  char *admin_path;
  PcStore *store;
  GHashTable *user;     /* key -> GVariant: values set by users (stored) */
  GHashTable *admin;    /* key -> GVariant: CONFIG_DIR/settings.conf */
  GHashTable *profiles; /* id -> GVariant a{sv} record (stored) */
  GPtrArray *temps;     /* PcTemp* */
  guint64 next_temp;
  GPtrArray *problems; /* char*, NULL-terminated */
  char **app_dirs;
  pid_t own_pid;
  PcPolicySnapshot *snapshot;
  guint expire_source;
  GMainContext *context; /* the thread that made the manager: ensure_profile runs there */
  GMutex asked_lock;
  GHashTable *asked; /* pid -> start time of processes request_profile asked for */
};

enum
{
  SIGNAL_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (PcPolicyManager, pc_policy_manager, G_TYPE_OBJECT)

static void
temp_free (PcTemp *t)
{
  g_free (t->profile_id);
  g_free (t->list_key);
  g_free (t->rule);
  g_free (t);
}

static GHashTable *
variant_table_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_variant_unref);
}

static void
add_problem (PcPolicyManager *self, const char *text)
{
  /* Keep the array NULL-terminated for pc_policy_manager_get_problems. */
  g_ptr_array_remove_index (self->problems, self->problems->len - 1);
  g_ptr_array_add (self->problems, g_strdup (text));
  g_ptr_array_add (self->problems, NULL);
}

/* ---- records ---------------------------------------------------------------------------- */

static const char *
record_string (GVariant *record, const char *key)
{
  const char *value = NULL;

  if (!g_variant_lookup (record, key, "&s", &value))
    return "";
  return value;
}

/* A record with one field replaced (value NULL: removed). Takes value if floating. */
static GVariant *
record_with (GVariant *record, const char *key, GVariant *value)
{
  g_autoptr (GVariantDict) dict = g_variant_dict_new (record);

  if (value != NULL)
    g_variant_dict_insert_value (dict, key, value);
  else
    g_variant_dict_remove (dict, key);
  return g_variant_ref_sink (g_variant_dict_end (dict));
}

static gboolean
validate_fingerprints (GVariant *value, GError **error)
{
  g_autofree const char **fps = NULL;

  if (!g_variant_is_of_type (value, G_VARIANT_TYPE_STRING_ARRAY))
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS, "fingerprints: type '%s', expected 'as'",
                   g_variant_get_type_string (value));
      return FALSE;
    }
  fps = g_variant_get_strv (value, NULL);
  for (guint i = 0; fps[i] != NULL; i++)
    {
      g_autoptr (PcFingerprint) fp = pc_fingerprint_parse (fps[i], error);
      if (fp == NULL)
        return FALSE;
    }
  return TRUE;
}

static gboolean
validate_overrides (GVariant *overrides, GError **error)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;

  if (!g_variant_is_of_type (overrides, G_VARIANT_TYPE_VARDICT))
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS, "overrides: type '%s', expected 'a{sv}'",
                   g_variant_get_type_string (overrides));
      return FALSE;
    }
  g_variant_iter_init (&iter, overrides);
  while (g_variant_iter_loop (&iter, "{&sv}", &key, &value))
    if (!pc_setting_validate (key, value, error))
      {
        /* g_variant_iter_loop frees on normal advance only. */
        g_variant_unref (value);
        return FALSE;
      }
  return TRUE;
}

/* Checks a complete stored record (import, load). */
static gboolean
validate_record (GVariant *record, GError **error)
{
  g_autoptr (GVariant) fps = NULL;
  g_autoptr (GVariant) overrides = NULL;
  const char *id = record_string (record, "id");

  if (*id == '\0')
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS, "profile without an id");
      return FALSE;
    }
  fps = g_variant_lookup_value (record, "fingerprints", NULL);
  if (fps != NULL && !validate_fingerprints (fps, error))
    {
      g_prefix_error (error, "profile '%s': ", id);
      return FALSE;
    }
  overrides = g_variant_lookup_value (record, "overrides", NULL);
  if (overrides != NULL && !validate_overrides (overrides, error))
    {
      g_prefix_error (error, "profile '%s': ", id);
      return FALSE;
    }
  return TRUE;
}

/* ---- snapshot --------------------------------------------------------------------------- */

static PcSettings *
global_settings (PcPolicyManager *self)
{
  GHashTable *layers[] = { self->user, self->admin };

  return pc_settings_new_layered (layers, G_N_ELEMENTS (layers));
}

static void
publish (PcPolicyManager *self)
{
  g_autoptr (PcSettings) global = global_settings (self);
  g_autoptr (GPtrArray) compiled = g_ptr_array_new ();
  g_autoptr (GHashTable) temps_by_profile
      = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify)g_array_unref);
  GHashTableIter iter;
  gpointer id;
  GVariant *record;

  for (guint i = 0; i < self->temps->len; i++)
    {
      PcTemp *t = self->temps->pdata[i];
      GArray *arr = g_hash_table_lookup (temps_by_profile, t->profile_id);
      const char *rules[] = { t->rule, NULL };
      PcTempRule tr = { 0 };

      if (arr == NULL)
        {
          arr = g_array_new (FALSE, TRUE, sizeof (PcTempRule));
          g_array_set_clear_func (arr, (GDestroyNotify)NULL);
          g_hash_table_insert (temps_by_profile, t->profile_id, arr);
        }
      tr.rules = pc_rule_list_parse_strv (rules, NULL);
      if (tr.rules == NULL)
        continue;
      tr.inbound = g_str_equal (t->list_key, "inbound-endpoints");
      tr.expires = t->expires;
      g_array_append_val (arr, tr);
    }

  g_hash_table_iter_init (&iter, self->profiles);
  while (g_hash_table_iter_next (&iter, &id, (gpointer *)&record))
    g_ptr_array_add (compiled,
                     pc_profile_new (record, global, g_hash_table_lookup (temps_by_profile, id)));

  /* pc_profile_new took its own references to the temporary rule lists. */
  g_hash_table_iter_init (&iter, temps_by_profile);
  {
    GArray *arr;
    while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&arr))
      for (guint i = 0; i < arr->len; i++)
        pc_rule_list_unref (g_array_index (arr, PcTempRule, i).rules);
  }

  g_clear_pointer (&self->snapshot, pc_policy_snapshot_unref);
  self->snapshot = pc_policy_snapshot_new (global, g_steal_pointer (&compiled), self->own_pid);
  /* the new snapshot may have the profiles asked for; ask again for those still missing */
  g_mutex_lock (&self->asked_lock);
  g_hash_table_remove_all (self->asked);
  g_mutex_unlock (&self->asked_lock);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

/* ---- special profiles ------------------------------------------------------------------- */

static GVariant *
new_record (
    const char *id, const char *name, const char *icon, const char *const *fps, gboolean special)
{
  GVariantBuilder b;
  gint64 now = g_get_real_time ();

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "id", g_variant_new_string (id));
  g_variant_builder_add (&b, "{sv}", "name", g_variant_new_string (name));
  g_variant_builder_add (&b, "{sv}", "icon", g_variant_new_string (icon != NULL ? icon : ""));
  g_variant_builder_add (&b, "{sv}", "fingerprints",
                         fps != NULL ? g_variant_new_strv (fps, -1) : g_variant_new_strv (NULL, 0));
  g_variant_builder_add (&b, "{sv}", "created", g_variant_new_int64 (now));
  g_variant_builder_add (&b, "{sv}", "last-seen", g_variant_new_int64 (0));
  g_variant_builder_add (&b, "{sv}", "overrides",
                         g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0));
  g_variant_builder_add (&b, "{sv}", "special", g_variant_new_boolean (special));
  return g_variant_ref_sink (g_variant_builder_end (&b));
}

static const struct
{
  const char *id;
  const char *name;
  const char *icon;
  const char *fingerprints[8];
} specials[] = {
  /* the names stay English here (D-Bus, portcullisctl); N_() marks them for po/ so that the app
   * shows them translated (a profile with "special" set) */
  { PC_PROFILE_PORTCULLIS, N_ ("Portcullis"), "org.portcullis.Portcullis", { NULL } },
  { PC_PROFILE_SYSTEM_DNS,
    N_ ("System DNS client"),
    "network-server",
    { "path:/usr/lib/systemd/systemd-resolved", "path:/lib/systemd/systemd-resolved",
      "path:/usr/sbin/dnsmasq", "path:/usr/sbin/nscd", "systemd-unit:systemd-resolved.service",
      NULL } },
  { PC_PROFILE_UNIDENTIFIED, N_ ("Unidentified process"), "dialog-question", { NULL } },
  { PC_PROFILE_KERNEL, N_ ("Kernel (no socket owner)"), "computer", { NULL } },
};

static gboolean
is_special (const char *id)
{
  for (guint i = 0; i < G_N_ELEMENTS (specials); i++)
    if (g_str_equal (id, specials[i].id))
      return TRUE;
  return FALSE;
}

/* Adds missing special profiles (first start, or after an import without them). */
static gboolean
ensure_specials (PcPolicyManager *self, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (specials); i++)
    {
      g_autoptr (GVariant) record = NULL;

      if (g_hash_table_contains (self->profiles, specials[i].id))
        continue;
      record = new_record (specials[i].id, specials[i].name, specials[i].icon,
                           specials[i].fingerprints, TRUE);
      if (!pc_store_put (self->store, KIND_PROFILE, specials[i].id, record, error))
        return FALSE;
      g_hash_table_insert (self->profiles, g_strdup (specials[i].id), g_steal_pointer (&record));
    }
  return TRUE;
}

/* ---- life cycle ------------------------------------------------------------------------- */

static gboolean
expire_cb (gpointer user_data)
{
  pc_policy_manager_expire_temporary_rules (user_data);
  return G_SOURCE_CONTINUE;
}

static void
pc_policy_manager_finalize (GObject *object)
{
  PcPolicyManager *self = PC_POLICY_MANAGER (object);

  g_clear_handle_id (&self->expire_source, g_source_remove);
  g_clear_pointer (&self->snapshot, pc_policy_snapshot_unref);
  g_clear_pointer (&self->asked, g_hash_table_unref);
  g_mutex_clear (&self->asked_lock);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->store, pc_store_free);
  g_clear_pointer (&self->user, g_hash_table_unref);
  g_clear_pointer (&self->admin, g_hash_table_unref);
  g_clear_pointer (&self->profiles, g_hash_table_unref);
  g_clear_pointer (&self->temps, g_ptr_array_unref);
  g_clear_pointer (&self->problems, g_ptr_array_unref);
  g_clear_pointer (&self->app_dirs, g_strfreev);
  g_free (self->state_dir);
  g_free (self->config_dir);
  g_free (self->admin_path);
  G_OBJECT_CLASS (pc_policy_manager_parent_class)->finalize (object);
}

static void
pc_policy_manager_class_init (PcPolicyManagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = pc_policy_manager_finalize;
  /* Emitted after a new snapshot replaced the old one. */
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
pc_policy_manager_init (PcPolicyManager *self)
{
  self->user = variant_table_new ();
  self->admin = variant_table_new ();
  self->profiles = variant_table_new ();
  self->temps = g_ptr_array_new_with_free_func ((GDestroyNotify)temp_free);
  self->problems = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (self->problems, NULL);
  self->app_dirs = g_strdupv ((char **)pc_desktop_default_dirs ());
  self->own_pid = getpid ();
  self->context = g_main_context_ref_thread_default ();
  g_mutex_init (&self->asked_lock);
  self->asked = g_hash_table_new (NULL, NULL);
}

/* Loads user values, profiles and timed temporary rules from the store. Invalid items are
 * reported and skipped: one bad value must not cost all the others. */
static gboolean
load_store (PcPolicyManager *self, GError **error)
{
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) global = pc_store_load (self->store, KIND_GLOBAL, problems, error);
  g_autoptr (GHashTable) profiles = NULL;
  g_autoptr (GHashTable) temps = NULL;
  GHashTableIter iter;
  const char *id;
  GVariant *value;

  if (global == NULL)
    return FALSE;
  profiles = pc_store_load (self->store, KIND_PROFILE, problems, error);
  if (profiles == NULL)
    return FALSE;
  temps = pc_store_load (self->store, KIND_TEMP, problems, error);
  if (temps == NULL)
    return FALSE;

  g_hash_table_iter_init (&iter, global);
  while (g_hash_table_iter_next (&iter, (gpointer *)&id, (gpointer *)&value))
    {
      g_autoptr (GError) local_error = NULL;
      if (!pc_setting_validate (id, value, &local_error))
        {
          g_ptr_array_add (problems,
                           g_strdup_printf ("stored setting ignored: %s", local_error->message));
          continue;
        }
      g_hash_table_insert (self->user, g_strdup (id), g_variant_ref (value));
    }
  g_hash_table_iter_init (&iter, profiles);
  while (g_hash_table_iter_next (&iter, (gpointer *)&id, (gpointer *)&value))
    {
      g_autoptr (GError) local_error = NULL;
      if (!g_variant_is_of_type (value, G_VARIANT_TYPE_VARDICT)
          || !validate_record (value, &local_error))
        {
          g_ptr_array_add (
              problems, g_strdup_printf ("stored profile '%s' ignored: %s", id,
                                         local_error != NULL ? local_error->message : "not a{sv}"));
          continue;
        }
      g_hash_table_insert (self->profiles, g_strdup (id), g_variant_ref (value));
    }
  g_hash_table_iter_init (&iter, temps);
  while (g_hash_table_iter_next (&iter, (gpointer *)&id, (gpointer *)&value))
    {
      PcTemp *t;
      guint64 serial;
      if (!g_variant_is_of_type (value, G_VARIANT_TYPE ("(sssx)"))
          || !g_ascii_string_to_unsigned (id, 10, 1, G_MAXUINT64, &serial, NULL))
        continue;
      t = g_new0 (PcTemp, 1);
      g_variant_get (value, "(sssx)", &t->profile_id, &t->list_key, &t->rule, &t->expires);
      t->serial = serial;
      t->persisted = TRUE;
      self->next_temp = MAX (self->next_temp, serial);
      g_ptr_array_add (self->temps, t);
    }
  for (guint i = 0; i < problems->len; i++)
    {
      g_warning ("%s", (char *)problems->pdata[i]);
      add_problem (self, problems->pdata[i]);
    }
  return TRUE;
}

PcPolicyManager *
pc_policy_manager_new (const char *state_dir, const char *config_dir, GError **error)
{
  g_autoptr (PcPolicyManager) self = g_object_new (PC_TYPE_POLICY_MANAGER, NULL);
  g_autofree char *db_path = NULL;
  g_autofree char *problem = NULL;
  g_autoptr (GError) admin_error = NULL;

  if (g_mkdir_with_parents (state_dir, 0700) < 0)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_FAILED, "cannot create state directory %s: %s",
                   state_dir, g_strerror (errno));
      return NULL;
    }
  self->state_dir = g_strdup (state_dir);
  self->config_dir = g_strdup (config_dir);
  self->admin_path = g_build_filename (config_dir, "settings.conf", NULL);
  db_path = g_build_filename (state_dir, "policy.db", NULL);
  self->store = pc_store_open (db_path, &problem, error);
  if (self->store == NULL)
    return NULL;
  if (problem != NULL)
    add_problem (self, problem);
  if (!load_store (self, error) || !ensure_specials (self, error))
    return NULL;

  if (!pc_policy_manager_reload_admin (self, &admin_error))
    {
      g_autofree char *msg
          = g_strdup_printf ("admin settings ignored, using defaults: %s", admin_error->message);
      g_warning ("%s", msg);
      add_problem (self, msg);
    }
  if (self->snapshot == NULL)
    publish (self);
  self->expire_source = g_timeout_add_seconds (1, expire_cb, self);
  return g_steal_pointer (&self);
}

gboolean
pc_policy_manager_reload_admin (PcPolicyManager *self, GError **error)
{
  g_autoptr (GHashTable) admin = pc_settings_read_keyfile (self->admin_path, error);

  if (admin == NULL)
    return FALSE;
  g_clear_pointer (&self->admin, g_hash_table_unref);
  self->admin = g_steal_pointer (&admin);
  publish (self);
  return TRUE;
}

const char *const *
pc_policy_manager_get_problems (PcPolicyManager *self)
{
  return (const char *const *)self->problems->pdata;
}

PcPolicySnapshot *
pc_policy_manager_get_snapshot (PcPolicyManager *self)
{
  return pc_policy_snapshot_ref (self->snapshot);
}

void
pc_policy_manager_set_application_dirs (PcPolicyManager *self, const char *const *dirs)
{
  g_strfreev (self->app_dirs);
  self->app_dirs = g_strdupv ((char **)dirs);
}

/* ---- global settings -------------------------------------------------------------------- */

static gboolean
check_key (const char *key, PcSettingKey *out, GError **error)
{
  if (!pc_setting_key_from_name (key, out))
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING, "'%s': no such setting", key);
      return FALSE;
    }
  return TRUE;
}

static GVariant *
global_value (PcPolicyManager *self, PcSettingKey key, const char **source)
{
  const char *name = pc_setting_key_name (key);
  GVariant *v;

  if ((v = g_hash_table_lookup (self->user, name)) != NULL)
    {
      *source = "user";
      return g_variant_ref (v);
    }
  if ((v = g_hash_table_lookup (self->admin, name)) != NULL)
    {
      *source = "admin";
      return g_variant_ref (v);
    }
  *source = "default";
  return pc_setting_key_default (key);
}

GVariant *
pc_policy_manager_get_global (PcPolicyManager *self, const char *key, GError **error)
{
  PcSettingKey k;
  const char *source;

  if (!check_key (key, &k, error))
    return NULL;
  return global_value (self, k, &source);
}

gboolean
pc_policy_manager_set_global (PcPolicyManager *self,
                              const char *key,
                              GVariant *value,
                              GError **error)
{
  g_autoptr (GVariant) owned = value != NULL ? g_variant_ref_sink (value) : NULL;

  if (!pc_setting_validate (key, owned, error))
    return FALSE;
  if (!pc_store_put (self->store, KIND_GLOBAL, key, owned, error))
    return FALSE;
  g_hash_table_insert (self->user, g_strdup (key), g_steal_pointer (&owned));
  publish (self);
  return TRUE;
}

gboolean
pc_policy_manager_reset_global (PcPolicyManager *self, const char *key, GError **error)
{
  PcSettingKey k;

  if (!check_key (key, &k, error))
    return FALSE;
  if (!pc_store_delete (self->store, KIND_GLOBAL, key, error))
    return FALSE;
  if (g_hash_table_remove (self->user, key))
    publish (self);
  return TRUE;
}

GVariant *
pc_policy_manager_list_global (PcPolicyManager *self)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{s(vs)}"));
  for (int k = 0; k < PC_N_KEYS; k++)
    {
      const char *source;
      g_autoptr (GVariant) v = global_value (self, k, &source);
      g_variant_builder_add (&b, "{s(vs)}", pc_setting_key_name (k), v, source);
    }
  return g_variant_builder_end (&b);
}

/* ---- profiles --------------------------------------------------------------------------- */

static GVariant *
lookup_profile (PcPolicyManager *self, const char *id, GError **error)
{
  GVariant *record = id != NULL ? g_hash_table_lookup (self->profiles, id) : NULL;

  if (record == NULL)
    g_set_error (error, PC_ERROR, PC_ERROR_NOT_FOUND, "no profile '%s'", id != NULL ? id : "");
  return record;
}

/* The record as the API shows it: with its temporary rules. */
static GVariant *
profile_view (PcPolicyManager *self, GVariant *record)
{
  g_autoptr (GVariantDict) dict = g_variant_dict_new (record);
  const char *id = record_string (record, "id");
  GVariantBuilder temps;

  g_variant_builder_init (&temps, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < self->temps->len; i++)
    {
      PcTemp *t = self->temps->pdata[i];
      if (!g_str_equal (t->profile_id, id))
        continue;
      g_variant_builder_open (&temps, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&temps, "{sv}", "rule", g_variant_new_string (t->rule));
      g_variant_builder_add (&temps, "{sv}", "list", g_variant_new_string (t->list_key));
      g_variant_builder_add (&temps, "{sv}", "expires", g_variant_new_int64 (t->expires));
      g_variant_builder_add (&temps, "{sv}", "until-exit", g_variant_new_boolean (t->pid > 0));
      g_variant_builder_close (&temps);
    }
  g_variant_dict_insert_value (dict, "temporary-rules", g_variant_builder_end (&temps));
  if (!g_variant_dict_contains (dict, "special"))
    g_variant_dict_insert_value (dict, "special", g_variant_new_boolean (FALSE));
  return g_variant_dict_end (dict);
}

static int
cmp_record_id (gconstpointer a, gconstpointer b)
{
  return strcmp (record_string (*(GVariant **)a, "id"), record_string (*(GVariant **)b, "id"));
}

/* Profile records by id (borrowed). */
static GPtrArray *
sorted_records (PcPolicyManager *self)
{
  GPtrArray *records = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->profiles);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (records, value);
  g_ptr_array_sort (records, cmp_record_id);
  return records;
}

GVariant *
pc_policy_manager_list_profiles (PcPolicyManager *self)
{
  g_autoptr (GPtrArray) records = sorted_records (self);
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < records->len; i++)
    g_variant_builder_add_value (&b, profile_view (self, records->pdata[i]));
  return g_variant_builder_end (&b);
}

GVariant *
pc_policy_manager_get_profile (PcPolicyManager *self, const char *id, GError **error)
{
  GVariant *record = lookup_profile (self, id, error);

  return record != NULL ? profile_view (self, record) : NULL;
}

/* A readable, unique id from a name: "Firefox Web Browser" -> "firefox-web-browser", then
 * "-2", "-3" ... when taken. */
static char *
make_id (PcPolicyManager *self, const char *name)
{
  g_autoptr (GString) base = g_string_new (NULL);
  char *id;

  for (const char *p = name; *p && base->len < 48; p++)
    {
      if (g_ascii_isalnum (*p))
        g_string_append_c (base, g_ascii_tolower (*p));
      else if (base->len > 0 && base->str[base->len - 1] != '-')
        g_string_append_c (base, '-');
    }
  while (base->len > 0 && base->str[base->len - 1] == '-')
    g_string_truncate (base, base->len - 1);
  if (base->len == 0)
    g_string_assign (base, "app");
  id = g_strdup (base->str);
  for (guint n = 2; g_hash_table_contains (self->profiles, id) || is_special (id); n++)
    {
      g_free (id);
      id = g_strdup_printf ("%s-%u", base->str, n);
    }
  return id;
}

/* Stores a record and publishes. Takes record. */
static gboolean
put_profile (PcPolicyManager *self, const char *id, GVariant *record, GError **error)
{
  g_autoptr (GVariant) owned = record;

  if (!pc_store_put (self->store, KIND_PROFILE, id, owned, error))
    return FALSE;
  g_hash_table_insert (self->profiles, g_strdup (id), g_steal_pointer (&owned));
  publish (self);
  return TRUE;
}

/* Applies name/icon/fingerprints of props to record (new reference). */
static GVariant *
apply_props (GVariant *record, GVariant *props, GError **error)
{
  g_autoptr (GVariant) result = g_variant_ref (record);
  const char *fields[] = { "name", "icon" };
  g_autoptr (GVariant) fps = NULL;

  if (props == NULL || !g_variant_is_of_type (props, G_VARIANT_TYPE_VARDICT))
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS, "profile properties must be a{sv}");
      return NULL;
    }
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      g_autoptr (GVariant) v = g_variant_lookup_value (props, fields[i], NULL);
      if (v == NULL)
        continue;
      if (!g_variant_is_of_type (v, G_VARIANT_TYPE_STRING))
        {
          g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS, "%s: type '%s', expected 's'",
                       fields[i], g_variant_get_type_string (v));
          return NULL;
        }
      if (g_str_equal (fields[i], "name") && *g_variant_get_string (v, NULL) == '\0')
        {
          g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS, "name: must not be empty");
          return NULL;
        }
      g_autoptr (GVariant) next = record_with (result, fields[i], v);
      g_variant_unref (result);
      result = g_steal_pointer (&next);
    }
  fps = g_variant_lookup_value (props, "fingerprints", NULL);
  if (fps != NULL)
    {
      if (!validate_fingerprints (fps, error))
        return NULL;
      g_autoptr (GVariant) next = record_with (result, "fingerprints", fps);
      g_variant_unref (result);
      result = g_steal_pointer (&next);
    }
  return g_steal_pointer (&result);
}

char *
pc_policy_manager_create_profile (PcPolicyManager *self, GVariant *props, GError **error)
{
  g_autoptr (GVariant) owned = props != NULL ? g_variant_ref_sink (props) : NULL;
  const char *name = NULL;
  g_autofree char *id = NULL;
  g_autoptr (GVariant) base = NULL;
  GVariant *record;

  if (owned == NULL || !g_variant_is_of_type (owned, G_VARIANT_TYPE_VARDICT)
      || !g_variant_lookup (owned, "name", "&s", &name) || *name == '\0')
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS, "a new profile needs a name");
      return NULL;
    }
  id = make_id (self, name);
  base = new_record (id, name, "", NULL, FALSE);
  record = apply_props (base, owned, error);
  if (record == NULL || !put_profile (self, id, record, error))
    return NULL;
  return g_steal_pointer (&id);
}

gboolean
pc_policy_manager_update_profile (PcPolicyManager *self,
                                  const char *id,
                                  GVariant *props,
                                  GError **error)
{
  g_autoptr (GVariant) owned = props != NULL ? g_variant_ref_sink (props) : NULL;
  GVariant *record = lookup_profile (self, id, error);
  GVariant *updated;

  if (record == NULL)
    return FALSE;
  updated = apply_props (record, owned, error);
  return updated != NULL && put_profile (self, id, updated, error);
}

gboolean
pc_policy_manager_delete_profile (PcPolicyManager *self, const char *id, GError **error)
{
  if (lookup_profile (self, id, error) == NULL)
    return FALSE;
  if (is_special (id))
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS,
                   "profile '%s' is built in and cannot be deleted", id);
      return FALSE;
    }
  if (!pc_store_begin (self->store, error))
    return FALSE;
  if (!pc_store_delete (self->store, KIND_PROFILE, id, error))
    {
      pc_store_rollback (self->store);
      return FALSE;
    }
  for (guint i = self->temps->len; i-- > 0;)
    {
      PcTemp *t = self->temps->pdata[i];
      g_autofree char *serial = g_strdup_printf ("%" G_GUINT64_FORMAT, t->serial);
      if (!g_str_equal (t->profile_id, id))
        continue;
      if (t->persisted && !pc_store_delete (self->store, KIND_TEMP, serial, error))
        {
          pc_store_rollback (self->store);
          return FALSE;
        }
    }
  if (!pc_store_commit (self->store, error))
    return FALSE;
  for (guint i = self->temps->len; i-- > 0;)
    if (g_str_equal (((PcTemp *)self->temps->pdata[i])->profile_id, id))
      g_ptr_array_remove_index (self->temps, i);
  g_hash_table_remove (self->profiles, id);
  publish (self);
  return TRUE;
}

gboolean
pc_policy_manager_set_profile_setting (
    PcPolicyManager *self, const char *id, const char *key, GVariant *value, GError **error)
{
  g_autoptr (GVariant) owned = value != NULL ? g_variant_ref_sink (value) : NULL;
  GVariant *record = lookup_profile (self, id, error);
  g_autoptr (GVariant) overrides = NULL;
  g_autoptr (GVariantDict) dict = NULL;
  PcSettingKey k;

  if (record == NULL || !check_key (key, &k, error))
    return FALSE;
  if (owned != NULL && !pc_setting_validate (key, owned, error))
    return FALSE;
  overrides = g_variant_lookup_value (record, "overrides", G_VARIANT_TYPE_VARDICT);
  dict = g_variant_dict_new (overrides);
  if (owned != NULL)
    g_variant_dict_insert_value (dict, key, owned);
  else
    g_variant_dict_remove (dict, key);
  return put_profile (self, id, record_with (record, "overrides", g_variant_dict_end (dict)),
                      error);
}

GVariant *
pc_policy_manager_get_effective (PcPolicyManager *self, const char *id, GError **error)
{
  GVariant *record = lookup_profile (self, id, error);
  g_autoptr (GVariant) overrides = NULL;
  GVariantBuilder b;

  if (record == NULL)
    return NULL;
  overrides = g_variant_lookup_value (record, "overrides", G_VARIANT_TYPE_VARDICT);
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{s(vs)}"));
  for (int k = 0; k < PC_N_KEYS; k++)
    {
      const char *source = "profile";
      g_autoptr (GVariant) v
          = overrides != NULL ? g_variant_lookup_value (overrides, pc_setting_key_name (k), NULL)
                              : NULL;
      if (v == NULL)
        v = global_value (self, k, &source);
      g_variant_builder_add (&b, "{s(vs)}", pc_setting_key_name (k), v, source);
    }
  return g_variant_builder_end (&b);
}

/* ---- rules ------------------------------------------------------------------------------ */

static gboolean
check_list_key (const char *list_key, GError **error)
{
  if (list_key == NULL
      || (!g_str_equal (list_key, "endpoints") && !g_str_equal (list_key, "inbound-endpoints")))
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS,
                   "'%s': rules go to endpoints or inbound-endpoints", list_key ? list_key : "");
      return FALSE;
    }
  return TRUE;
}

/* The rule list a profile (id) or the global settings (NULL) has for list_key now. */
static GVariant *
current_rules (PcPolicyManager *self, const char *id, const char *list_key)
{
  if (id != NULL)
    {
      GVariant *record = g_hash_table_lookup (self->profiles, id);
      g_autoptr (GVariant) overrides
          = g_variant_lookup_value (record, "overrides", G_VARIANT_TYPE_VARDICT);
      GVariant *v = overrides != NULL
                        ? g_variant_lookup_value (overrides, list_key, G_VARIANT_TYPE_STRING_ARRAY)
                        : NULL;
      return v != NULL ? v : g_variant_ref_sink (g_variant_new_strv (NULL, 0));
    }
  {
    PcSettingKey k;
    const char *source;
    pc_setting_key_from_name (list_key, &k);
    return global_value (self, k, &source);
  }
}

static gboolean
set_rules (
    PcPolicyManager *self, const char *id, const char *list_key, GVariant *rules, GError **error)
{
  if (id != NULL)
    return pc_policy_manager_set_profile_setting (self, id, list_key, rules, error);
  return pc_policy_manager_set_global (self, list_key, rules, error);
}

gboolean
pc_policy_manager_add_rule (
    PcPolicyManager *self, const char *id, const char *list_key, const char *rule, GError **error)
{
  g_autoptr (GVariant) rules = NULL;
  g_autoptr (GPtrArray) lines = g_ptr_array_new ();
  g_autofree const char **old = NULL;
  g_autofree char *trimmed = g_strstrip (g_strdup (rule != NULL ? rule : ""));

  if (!check_list_key (list_key, error))
    return FALSE;
  if (id != NULL && lookup_profile (self, id, error) == NULL)
    return FALSE;
  if (!pc_rule_validate (trimmed, error))
    return FALSE;
  rules = current_rules (self, id, list_key);
  old = g_variant_get_strv (rules, NULL);
  for (guint i = 0; old[i] != NULL; i++)
    g_ptr_array_add (lines, (gpointer)old[i]);
  g_ptr_array_add (lines, trimmed);
  return set_rules (self, id, list_key,
                    g_variant_new_strv ((const char *const *)lines->pdata, lines->len), error);
}

gboolean
pc_policy_manager_remove_rule (
    PcPolicyManager *self, const char *id, const char *list_key, const char *rule, GError **error)
{
  g_autoptr (GVariant) rules = NULL;
  g_autoptr (GPtrArray) lines = g_ptr_array_new ();
  g_autofree const char **old = NULL;
  g_autofree char *trimmed = g_strstrip (g_strdup (rule != NULL ? rule : ""));
  gboolean found = FALSE;

  if (!check_list_key (list_key, error))
    return FALSE;
  if (id != NULL && lookup_profile (self, id, error) == NULL)
    return FALSE;
  rules = current_rules (self, id, list_key);
  old = g_variant_get_strv (rules, NULL);
  for (guint i = 0; old[i] != NULL; i++)
    {
      g_autofree char *line = g_strstrip (g_strdup (old[i]));
      /* Removes the first equal rule only: the same line twice is the user's business. */
      if (!found && g_str_equal (line, trimmed))
        {
          found = TRUE;
          continue;
        }
      g_ptr_array_add (lines, (gpointer)old[i]);
    }
  if (!found)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_NOT_FOUND, "%s has no rule '%s'", list_key, trimmed);
      return FALSE;
    }
  return set_rules (self, id, list_key,
                    g_variant_new_strv ((const char *const *)lines->pdata, lines->len), error);
}

gboolean
pc_policy_manager_add_temporary_rule (PcPolicyManager *self,
                                      const char *id,
                                      const char *list_key,
                                      const char *rule,
                                      guint seconds,
                                      pid_t until_exit_pid,
                                      GError **error)
{
  g_autofree char *trimmed = g_strstrip (g_strdup (rule != NULL ? rule : ""));
  PcTemp *t;

  if (!check_list_key (list_key, error) || lookup_profile (self, id, error) == NULL
      || !pc_rule_validate (trimmed, error))
    return FALSE;
  t = g_new0 (PcTemp, 1);
  t->serial = ++self->next_temp;
  t->profile_id = g_strdup (id);
  t->list_key = g_strdup (list_key);
  t->rule = g_steal_pointer (&trimmed);
  t->expires = seconds > 0 ? g_get_real_time () + (gint64)seconds * G_USEC_PER_SEC : 0;
  if (until_exit_pid > 0)
    {
      t->pid = until_exit_pid;
      t->pid_start = pc_process_read_start_time (until_exit_pid);
      if (t->pid_start == 0)
        {
          g_set_error (error, PC_ERROR, PC_ERROR_NOT_FOUND, "process %d does not exist",
                       (int)until_exit_pid);
          temp_free (t);
          return FALSE;
        }
    }
  if (t->expires != 0 && t->pid == 0)
    {
      g_autofree char *serial = g_strdup_printf ("%" G_GUINT64_FORMAT, t->serial);
      if (!pc_store_put (self->store, KIND_TEMP, serial,
                         g_variant_new ("(sssx)", t->profile_id, t->list_key, t->rule, t->expires),
                         error))
        {
          temp_free (t);
          return FALSE;
        }
      t->persisted = TRUE;
    }
  g_ptr_array_add (self->temps, t);
  publish (self);
  return TRUE;
}

void
pc_policy_manager_expire_temporary_rules (PcPolicyManager *self)
{
  gint64 now = g_get_real_time ();
  gboolean changed = FALSE;

  for (guint i = self->temps->len; i-- > 0;)
    {
      PcTemp *t = self->temps->pdata[i];
      gboolean gone = (t->expires != 0 && t->expires <= now)
                      || (t->pid > 0 && pc_process_read_start_time (t->pid) != t->pid_start);
      if (!gone)
        continue;
      if (t->persisted)
        {
          g_autoptr (GError) error = NULL;
          g_autofree char *serial = g_strdup_printf ("%" G_GUINT64_FORMAT, t->serial);
          /* An expired rule left in the store is harmless: it is dropped at the next start. */
          if (!pc_store_delete (self->store, KIND_TEMP, serial, &error))
            g_warning ("%s", error->message);
        }
      g_message ("temporary rule '%s' of profile '%s' ended", t->rule, t->profile_id);
      g_ptr_array_remove_index (self->temps, i);
      changed = TRUE;
    }
  if (changed)
    publish (self);
}

/* ---- automatic profiles ----------------------------------------------------------------- */

char *
pc_policy_manager_ensure_profile (PcPolicyManager *self, PcProcess *process)
{
  const PcProfile *match = pc_policy_snapshot_match (self->snapshot, process, FALSE);
  g_autofree char *fp = NULL;
  g_autofree char *name = NULL;
  g_autofree char *icon = NULL;
  g_autofree char *id = NULL;
  g_autoptr (GError) error = NULL;
  const char *fps[2] = { NULL, NULL };

  if (match != NULL)
    return g_strdup (pc_profile_get_id (match));
  fp = pc_fingerprint_for_process (process);
  if (fp == NULL)
    return g_strdup (PC_PROFILE_UNIDENTIFIED);
  if (!pc_desktop_lookup (process, (const char *const *)self->app_dirs, &name, &icon))
    {
      /* The identity's last path component: "curl", "tool.py", "org.example.App". */
      const char *identity = process->kind == PC_APP_KIND_NATIVE ? process->exe : process->app_id;
      name = process->kind == PC_APP_KIND_FLATPAK || process->kind == PC_APP_KIND_SNAP
                 ? g_strdup (identity)
                 : g_path_get_basename (identity);
      icon = g_strdup ("");
    }
  id = make_id (self, name);
  fps[0] = fp;
  if (!put_profile (self, id, new_record (id, name, icon, fps, FALSE), &error))
    {
      g_warning ("cannot create a profile for %s: %s", fp, error->message);
      return NULL;
    }
  g_message ("new profile '%s' (%s) for %s", id, name, fp);
  return g_steal_pointer (&id);
}

typedef struct
{
  PcPolicyManager *manager;
  PcProcess *process;
} ProfileRequest;

static gboolean
profile_request_cb (gpointer data)
{
  ProfileRequest *r = data;

  g_free (pc_policy_manager_ensure_profile (r->manager, r->process));
  return G_SOURCE_REMOVE;
}

static void
profile_request_free (gpointer data)
{
  ProfileRequest *r = data;

  g_object_unref (r->manager);
  pc_process_unref (r->process);
  g_free (r);
}

void
pc_policy_manager_request_profile (PcPolicyManager *self, PcProcess *process)
{
  gpointer key = GINT_TO_POINTER (process->pid);
  ProfileRequest *r;

  g_mutex_lock (&self->asked_lock);
  if (GPOINTER_TO_SIZE (g_hash_table_lookup (self->asked, key)) == process->start_time)
    {
      g_mutex_unlock (&self->asked_lock);
      return;
    }
  /* Bounded: a fork bomb must not grow this without limit; asking twice is harmless. */
  if (g_hash_table_size (self->asked) > 4096)
    g_hash_table_remove_all (self->asked);
  g_hash_table_insert (self->asked, key, GSIZE_TO_POINTER (process->start_time));
  g_mutex_unlock (&self->asked_lock);

  r = g_new0 (ProfileRequest, 1);
  r->manager = g_object_ref (self);
  r->process = pc_process_ref (process);
  g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT, profile_request_cb, r,
                              profile_request_free);
}

void
pc_policy_manager_touch_profiles (PcPolicyManager *self, const char *const *ids)
{
  g_autoptr (GError) error = NULL;
  gint64 now = g_get_real_time ();

  if (ids == NULL || ids[0] == NULL || !pc_store_begin (self->store, &error))
    {
      if (error != NULL)
        g_warning ("cannot record last-seen: %s", error->message);
      return;
    }
  for (guint i = 0; ids[i] != NULL; i++)
    {
      GVariant *record = g_hash_table_lookup (self->profiles, ids[i]);
      g_autoptr (GVariant) updated = NULL;
      if (record == NULL)
        continue;
      updated = record_with (record, "last-seen", g_variant_new_int64 (now));
      if (!pc_store_put (self->store, KIND_PROFILE, ids[i], updated, &error))
        {
          pc_store_rollback (self->store);
          g_warning ("cannot record last-seen: %s", error->message);
          return;
        }
      g_hash_table_insert (self->profiles, g_strdup (ids[i]), g_steal_pointer (&updated));
    }
  if (!pc_store_commit (self->store, &error))
    g_warning ("cannot record last-seen: %s", error->message);
  /* last-seen is not part of the snapshot: nothing to publish. */
}

/* ---- JSON ------------------------------------------------------------------------------- */

/* A settings table as a JSON object, keys in the order of the settings table. */
static void
add_settings_json (JsonBuilder *b, GHashTable *values)
{
  json_builder_begin_object (b);
  for (int k = 0; k < PC_N_KEYS; k++)
    {
      GVariant *value = g_hash_table_lookup (values, pc_setting_key_name (k));
      if (value == NULL)
        continue;
      json_builder_set_member_name (b, pc_setting_key_name (k));
      json_builder_add_value (b, json_gvariant_serialize (value));
    }
  json_builder_end_object (b);
}

char *
pc_policy_manager_export_json (PcPolicyManager *self, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GPtrArray) records = sorted_records (self);
  const char *key;
  GVariant *value;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, EXPORT_FORMAT);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, EXPORT_VERSION);
  json_builder_set_member_name (b, "global");
  add_settings_json (b, self->user);
  json_builder_set_member_name (b, "profiles");
  json_builder_begin_array (b);
  for (guint i = 0; i < records->len; i++)
    {
      GVariant *record = records->pdata[i];
      const char *strings[] = { "id", "name", "icon" };
      const char *times[] = { "created", "last-seen" };
      g_autoptr (GVariant) fps = g_variant_lookup_value (record, "fingerprints", NULL);
      g_autoptr (GVariant) overrides = g_variant_lookup_value (record, "overrides", NULL);
      g_autoptr (GHashTable) table = variant_table_new ();
      gint64 t;

      /* A fixed member order: the same policy always exports to the same text. */
      json_builder_begin_object (b);
      for (guint j = 0; j < G_N_ELEMENTS (strings); j++)
        {
          json_builder_set_member_name (b, strings[j]);
          json_builder_add_string_value (b, record_string (record, strings[j]));
        }
      json_builder_set_member_name (b, "fingerprints");
      json_builder_add_value (
          b, json_gvariant_serialize (fps != NULL ? fps : g_variant_new_strv (NULL, 0)));
      for (guint j = 0; j < G_N_ELEMENTS (times); j++)
        {
          t = 0;
          g_variant_lookup (record, times[j], "x", &t);
          json_builder_set_member_name (b, times[j]);
          json_builder_add_int_value (b, t);
        }
      if (overrides != NULL)
        {
          GVariantIter it;
          g_variant_iter_init (&it, overrides);
          while (g_variant_iter_next (&it, "{sv}", &key, &value))
            g_hash_table_insert (table, (char *)key, value);
        }
      json_builder_set_member_name (b, "overrides");
      add_settings_json (b, table);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  (void)error;
  return json_to_string (root, TRUE);
}

/* A JSON value as the GVariant of a setting key's type. */
static GVariant *
setting_from_json (const char *key, JsonNode *node, GError **error)
{
  PcSettingKey k;
  g_autoptr (GVariant) v = NULL;

  if (!check_key (key, &k, error))
    return NULL;
  v = json_gvariant_deserialize (node, pc_setting_key_type (k), error);
  if (v == NULL)
    {
      g_prefix_error (error, "%s: ", key);
      return NULL;
    }
  g_variant_ref_sink (v);
  if (!pc_setting_validate (key, v, error))
    return NULL;
  return g_steal_pointer (&v);
}

/* An absent member is fine; a present one must hold a value of type. */
static gboolean
member_has_type (JsonObject *obj, const char *name, GType type, GError **error)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != type)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS, "profile member '%s': must be %s", name,
                   type == G_TYPE_STRING ? "a string" : "an integer");
      return FALSE;
    }
  return TRUE;
}

static GVariant *
profile_from_json (JsonNode *node, GError **error)
{
  JsonObject *obj;
  GVariantBuilder b;
  GVariantBuilder ov;
  const char *id;
  const char *strings[] = { "id", "name", "icon" };
  const char *times[] = { "created", "last-seen" };
  g_autoptr (GVariant) record = NULL;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS, "a profile must be a JSON object");
      return NULL;
    }
  obj = json_node_get_object (node);
  for (guint i = 0; i < G_N_ELEMENTS (strings); i++)
    if (!member_has_type (obj, strings[i], G_TYPE_STRING, error))
      return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (times); i++)
    if (!member_has_type (obj, times[i], G_TYPE_INT64, error))
      return NULL;
  id = json_object_get_string_member_with_default (obj, "id", "");
  if (*id == '\0')
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS, "a profile has no id");
      return NULL;
    }
  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  for (guint i = 0; i < G_N_ELEMENTS (strings); i++)
    g_variant_builder_add (&b, "{sv}", strings[i],
                           g_variant_new_string (json_object_get_string_member_with_default (
                               obj, strings[i], g_str_equal (strings[i], "name") ? id : "")));
  for (guint i = 0; i < G_N_ELEMENTS (times); i++)
    g_variant_builder_add (
        &b, "{sv}", times[i],
        g_variant_new_int64 (json_object_get_int_member_with_default (obj, times[i], 0)));
  g_variant_builder_add (&b, "{sv}", "special", g_variant_new_boolean (is_special (id)));
  if (json_object_has_member (obj, "fingerprints"))
    {
      GVariant *fps
          = json_gvariant_deserialize (json_object_get_member (obj, "fingerprints"), "as", error);
      if (fps == NULL)
        {
          g_variant_builder_clear (&b);
          g_prefix_error (error, "profile '%s': fingerprints: ", id);
          return NULL;
        }
      g_variant_builder_add (&b, "{sv}", "fingerprints", fps);
    }
  g_variant_builder_init (&ov, G_VARIANT_TYPE_VARDICT);
  if (json_object_has_member (obj, "overrides"))
    {
      JsonNode *o = json_object_get_member (obj, "overrides");
      g_autoptr (GList) members = NULL;
      if (!JSON_NODE_HOLDS_OBJECT (o))
        {
          g_variant_builder_clear (&b);
          g_variant_builder_clear (&ov);
          g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS,
                       "profile '%s': overrides must be an object", id);
          return NULL;
        }
      members = json_object_get_members (json_node_get_object (o));
      for (GList *l = members; l != NULL; l = l->next)
        {
          GVariant *v = setting_from_json (
              l->data, json_object_get_member (json_node_get_object (o), l->data), error);
          if (v == NULL)
            {
              g_variant_builder_clear (&b);
              g_variant_builder_clear (&ov);
              g_prefix_error (error, "profile '%s': ", id);
              return NULL;
            }
          g_variant_builder_add (&ov, "{sv}", l->data, v);
          g_variant_unref (v);
        }
    }
  g_variant_builder_add (&b, "{sv}", "overrides", g_variant_builder_end (&ov));
  record = g_variant_ref_sink (g_variant_builder_end (&b));
  if (!validate_record (record, error))
    return NULL;
  return g_steal_pointer (&record);
}

gboolean
pc_policy_manager_import_json (PcPolicyManager *self, const char *json, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GHashTable) user = variant_table_new ();
  g_autoptr (GHashTable) profiles = variant_table_new ();
  JsonNode *root;
  JsonObject *obj;
  GHashTableIter iter;
  const char *key;
  GVariant *value;

  if (!json_parser_load_from_data (parser, json, -1, &local_error))
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS, "not JSON: %s", local_error->message);
      return FALSE;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)
      || !member_has_type (json_node_get_object (root), "format", G_TYPE_STRING, NULL)
      || g_strcmp0 (
             json_object_get_string_member_with_default (json_node_get_object (root), "format", ""),
             EXPORT_FORMAT)
             != 0)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS,
                   "not a Portcullis export (\"format\": \"%s\" missing)", EXPORT_FORMAT);
      return FALSE;
    }
  obj = json_node_get_object (root);
  if (!member_has_type (obj, "version", G_TYPE_INT64, error))
    return FALSE;
  if (json_object_get_int_member_with_default (obj, "version", 0) != EXPORT_VERSION)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS,
                   "export version %" G_GINT64_FORMAT " is not supported (expected %d)",
                   json_object_get_int_member_with_default (obj, "version", 0), EXPORT_VERSION);
      return FALSE;
    }

  /* Everything is checked before anything changes. Member types are checked before use:
   * json-glib's typed getters treat a wrong type as a programming error. */
  if (json_object_has_member (obj, "global"))
    {
      JsonNode *gnode = json_object_get_member (obj, "global");
      JsonObject *g;
      g_autoptr (GList) members = NULL;
      if (!JSON_NODE_HOLDS_OBJECT (gnode))
        {
          g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS, "global: must be an object");
          return FALSE;
        }
      g = json_node_get_object (gnode);
      members = json_object_get_members (g);
      for (GList *l = members; l != NULL; l = l->next)
        {
          GVariant *v = setting_from_json (l->data, json_object_get_member (g, l->data), error);
          if (v == NULL)
            {
              g_prefix_error (error, "global: ");
              return FALSE;
            }
          g_hash_table_insert (user, g_strdup (l->data), v);
        }
    }
  if (json_object_has_member (obj, "profiles"))
    {
      JsonNode *pnode = json_object_get_member (obj, "profiles");
      JsonArray *arr;
      if (!JSON_NODE_HOLDS_ARRAY (pnode))
        {
          g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS, "profiles: must be an array");
          return FALSE;
        }
      arr = json_node_get_array (pnode);
      for (guint i = 0; i < json_array_get_length (arr); i++)
        {
          GVariant *record = profile_from_json (json_array_get_element (arr, i), error);
          if (record == NULL)
            return FALSE;
          g_hash_table_insert (profiles, g_strdup (record_string (record, "id")), record);
        }
    }

  if (!pc_store_begin (self->store, error))
    return FALSE;
  if (!pc_store_delete_kind (self->store, KIND_GLOBAL, error)
      || !pc_store_delete_kind (self->store, KIND_PROFILE, error))
    {
      pc_store_rollback (self->store);
      return FALSE;
    }
  g_hash_table_iter_init (&iter, user);
  while (g_hash_table_iter_next (&iter, (gpointer *)&key, (gpointer *)&value))
    if (!pc_store_put (self->store, KIND_GLOBAL, key, value, error))
      {
        pc_store_rollback (self->store);
        return FALSE;
      }
  g_hash_table_iter_init (&iter, profiles);
  while (g_hash_table_iter_next (&iter, (gpointer *)&key, (gpointer *)&value))
    if (!pc_store_put (self->store, KIND_PROFILE, key, value, error))
      {
        pc_store_rollback (self->store);
        return FALSE;
      }
  if (!pc_store_commit (self->store, error))
    return FALSE;

  g_clear_pointer (&self->user, g_hash_table_unref);
  self->user = g_steal_pointer (&user);
  g_clear_pointer (&self->profiles, g_hash_table_unref);
  self->profiles = g_steal_pointer (&profiles);
  /* Temporary rules of profiles that no longer exist end here (they stay in the store only
   * until they expire). */
  for (guint i = self->temps->len; i-- > 0;)
    if (!g_hash_table_contains (self->profiles, ((PcTemp *)self->temps->pdata[i])->profile_id))
      g_ptr_array_remove_index (self->temps, i);
  if (!ensure_specials (self, &local_error))
    g_warning ("%s", local_error->message);
  publish (self);
  return TRUE;
}
