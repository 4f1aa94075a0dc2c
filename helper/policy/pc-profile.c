/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-policy"

#include "pc-profile.h"

#include <string.h>

#include "pc-error.h"

struct _PcFingerprint
{
  PcFingerprintKind kind;
  char *value;           /* path, id, glob (for env: the glob of the value, may be NULL) */
  char *env_name;        /* PC_FP_ENV only */
  GPatternSpec *pattern; /* glob kinds */
  guint score;
};

static const char *const kind_names[PC_FP_N_KINDS] = {
  [PC_FP_PATH] = "path",
  [PC_FP_PATH_PREFIX] = "path-prefix",
  [PC_FP_PATH_GLOB] = "path-glob",
  [PC_FP_CMDLINE] = "cmdline",
  [PC_FP_ENV] = "env",
  [PC_FP_FLATPAK] = "flatpak",
  [PC_FP_SNAP] = "snap",
  [PC_FP_APPIMAGE] = "appimage",
  [PC_FP_SCRIPT] = "script",
  [PC_FP_SYSTEMD_UNIT] = "systemd-unit",
};

static const guint kind_base[PC_FP_N_KINDS] = {
  [PC_FP_PATH] = 700,   [PC_FP_PATH_PREFIX] = 200,  [PC_FP_PATH_GLOB] = 100, [PC_FP_CMDLINE] = 300,
  [PC_FP_ENV] = 400,    [PC_FP_FLATPAK] = 1000,     [PC_FP_SNAP] = 1000,     [PC_FP_APPIMAGE] = 900,
  [PC_FP_SCRIPT] = 900, [PC_FP_SYSTEMD_UNIT] = 800,
};

static guint
literal_chars (const char *glob)
{
  guint n = 0;

  for (const char *p = glob; *p; p++)
    if (*p != '*' && *p != '?')
      n++;
  return MIN (n, 99);
}

void
pc_fingerprint_free (PcFingerprint *fp)
{
  if (fp == NULL)
    return;
  g_free (fp->value);
  g_free (fp->env_name);
  g_clear_pointer (&fp->pattern, g_pattern_spec_free);
  g_free (fp);
}

PcFingerprint *
pc_fingerprint_parse (const char *text, GError **error)
{
  const char *colon = strchr (text, ':');
  g_autoptr (PcFingerprint) fp = g_new0 (PcFingerprint, 1);
  g_autofree char *kind = NULL;
  const char *value;
  int k;

  if (colon == NULL)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS,
                   "fingerprint '%s': expected KIND:VALUE (path, path-prefix, path-glob, cmdline, "
                   "env, flatpak, snap, appimage, script, systemd-unit)",
                   text);
      return NULL;
    }
  kind = g_strndup (text, colon - text);
  value = colon + 1;
  for (k = 0; k < PC_FP_N_KINDS; k++)
    if (g_str_equal (kind, kind_names[k]))
      break;
  if (k == PC_FP_N_KINDS)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS, "fingerprint '%s': unknown kind '%s'",
                   text, kind);
      return NULL;
    }
  if (*value == '\0')
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS, "fingerprint '%s': empty value", text);
      return NULL;
    }
  if ((k == PC_FP_PATH || k == PC_FP_PATH_PREFIX || k == PC_FP_PATH_GLOB || k == PC_FP_APPIMAGE
       || k == PC_FP_SCRIPT)
      && value[0] != '/')
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS,
                   "fingerprint '%s': '%s' is not an absolute path", text, value);
      return NULL;
    }

  fp->kind = k;
  fp->score = kind_base[k];
  if (k == PC_FP_ENV)
    {
      const char *eq = strchr (value, '=');
      fp->env_name = eq != NULL ? g_strndup (value, eq - value) : g_strdup (value);
      if (*fp->env_name == '\0')
        {
          g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS,
                       "fingerprint '%s': empty variable name", text);
          return NULL;
        }
      if (eq != NULL)
        {
          fp->value = g_strdup (eq + 1);
          fp->pattern = g_pattern_spec_new (fp->value);
          fp->score += literal_chars (fp->value);
        }
      return g_steal_pointer (&fp);
    }
  fp->value = g_strdup (value);
  if (k == PC_FP_PATH_GLOB || k == PC_FP_CMDLINE)
    {
      fp->pattern = g_pattern_spec_new (value);
      fp->score += literal_chars (value);
    }
  else if (k == PC_FP_PATH_PREFIX)
    fp->score += MIN (strlen (value), 99);
  return g_steal_pointer (&fp);
}

PcFingerprintKind
pc_fingerprint_get_kind (const PcFingerprint *fp)
{
  return fp->kind;
}

const char *
pc_fingerprint_get_value (const PcFingerprint *fp)
{
  return fp->kind == PC_FP_ENV ? fp->env_name : fp->value;
}

static gboolean
str_eq0 (const char *a, const char *b)
{
  return a != NULL && b != NULL && strcmp (a, b) == 0;
}

guint
pc_fingerprint_match (const PcFingerprint *fp, const PcProcess *p)
{
  gboolean ok = FALSE;

  switch (fp->kind)
    {
      case PC_FP_PATH:
        ok = str_eq0 (p->exe, fp->value);
        break;
      case PC_FP_PATH_PREFIX:
        ok = p->exe != NULL && g_str_has_prefix (p->exe, fp->value);
        break;
      case PC_FP_PATH_GLOB:
        ok = p->exe != NULL && g_pattern_spec_match_string (fp->pattern, p->exe);
        break;
      case PC_FP_CMDLINE:
        ok = p->cmdline != NULL && g_pattern_spec_match_string (fp->pattern, p->cmdline);
        break;
      case PC_FP_ENV:
        {
          const char *v = pc_process_get_env (p, fp->env_name);
          ok = v != NULL && (fp->pattern == NULL || g_pattern_spec_match_string (fp->pattern, v));
        }
        break;
      case PC_FP_FLATPAK:
        ok = p->kind == PC_APP_KIND_FLATPAK && str_eq0 (p->app_id, fp->value);
        break;
      case PC_FP_SNAP:
        ok = p->kind == PC_APP_KIND_SNAP && str_eq0 (p->app_id, fp->value);
        break;
      case PC_FP_APPIMAGE:
        ok = p->kind == PC_APP_KIND_APPIMAGE && str_eq0 (p->app_id, fp->value);
        break;
      case PC_FP_SCRIPT:
        ok = p->kind == PC_APP_KIND_SCRIPT && str_eq0 (p->app_id, fp->value);
        break;
      case PC_FP_SYSTEMD_UNIT:
        ok = str_eq0 (p->systemd_unit, fp->value);
        break;
      case PC_FP_N_KINDS:
      default:
        break;
    }
  return ok ? fp->score : 0;
}

char *
pc_fingerprint_for_process (const PcProcess *p)
{
  switch (p->kind)
    {
      case PC_APP_KIND_FLATPAK:
        return g_strconcat ("flatpak:", p->app_id, NULL);
      case PC_APP_KIND_SNAP:
        return g_strconcat ("snap:", p->app_id, NULL);
      case PC_APP_KIND_APPIMAGE:
        return g_strconcat ("appimage:", p->app_id, NULL);
      case PC_APP_KIND_SCRIPT:
        return g_strconcat ("script:", p->app_id, NULL);
      case PC_APP_KIND_NATIVE:
      default:
        return p->exe != NULL ? g_strconcat ("path:", p->exe, NULL) : NULL;
    }
}

static void
temp_rule_clear (PcTempRule *t)
{
  g_clear_pointer (&t->rules, pc_rule_list_unref);
}

PcProfile *
pc_profile_new (GVariant *record, PcSettings *global, GArray *temp_rules)
{
  PcProfile *self = g_new0 (PcProfile, 1);
  g_autoptr (GVariantDict) dict = g_variant_dict_new (record);
  g_autoptr (GVariant) overrides = NULL;
  g_autoptr (GHashTable) layer = NULL;
  g_autofree const char **fps = NULL;
  GHashTable *layers[2];

  self->ref_count = 1;
  g_variant_dict_lookup (dict, "id", "s", &self->id);
  if (!g_variant_dict_lookup (dict, "name", "s", &self->name))
    self->name = g_strdup (self->id);
  if (!g_variant_dict_lookup (dict, "icon", "s", &self->icon))
    self->icon = g_strdup ("");
  g_variant_dict_lookup (dict, "special", "b", &self->special);
  self->fingerprints = g_ptr_array_new_with_free_func ((GDestroyNotify)pc_fingerprint_free);
  if (g_variant_dict_lookup (dict, "fingerprints", "^a&s", &fps))
    for (guint i = 0; fps[i] != NULL; i++)
      {
        PcFingerprint *fp = pc_fingerprint_parse (fps[i], NULL);
        if (fp == NULL)
          continue; /* validated on the way in; skip rather than crash on a hand-edited DB */
        self->kinds |= 1u << fp->kind;
        g_ptr_array_add (self->fingerprints, fp);
      }

  /* Overrides form the top layer over the global effective values. */
  layer = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_variant_unref);
  overrides = g_variant_dict_lookup_value (dict, "overrides", G_VARIANT_TYPE_VARDICT);
  if (overrides != NULL)
    {
      GVariantIter iter;
      const char *key;
      GVariant *value;
      g_variant_iter_init (&iter, overrides);
      while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
        {
          PcSettingKey k;
          if (!pc_setting_key_from_name (key, &k) || !pc_setting_validate (key, value, NULL))
            {
              g_variant_unref (value);
              continue;
            }
          self->overridden |= 1u << k;
          if (k == PC_KEY_ENDPOINTS || k == PC_KEY_INBOUND_ENDPOINTS)
            {
              g_autofree const char **rules = g_variant_get_strv (value, NULL);
              PcRuleList *list = pc_rule_list_parse_strv (rules, NULL);
              if (k == PC_KEY_ENDPOINTS)
                self->endpoints = list;
              else
                self->inbound_endpoints = list;
              g_variant_unref (value);
              continue;
            }
          g_hash_table_insert (layer, g_strdup (key), value);
        }
    }
  {
    /* The global effective values as the lower layer. */
    g_autoptr (GHashTable) below = g_hash_table_new (g_str_hash, g_str_equal);
    for (int k = 0; k < PC_N_KEYS; k++)
      g_hash_table_insert (below, (gpointer)pc_setting_key_name (k), global->values[k]);
    layers[0] = layer;
    layers[1] = below;
    self->settings = pc_settings_new_layered (layers, 2);
  }

  self->temp_rules = g_array_new (FALSE, TRUE, sizeof (PcTempRule));
  g_array_set_clear_func (self->temp_rules, (GDestroyNotify)temp_rule_clear);
  for (guint i = 0; temp_rules != NULL && i < temp_rules->len; i++)
    {
      PcTempRule t = g_array_index (temp_rules, PcTempRule, i);
      t.rules = pc_rule_list_ref (t.rules);
      g_array_append_val (self->temp_rules, t);
    }
  return self;
}

PcProfile *
pc_profile_ref (PcProfile *self)
{
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
pc_profile_unref (PcProfile *self)
{
  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  g_free (self->id);
  g_free (self->name);
  g_free (self->icon);
  g_ptr_array_unref (self->fingerprints);
  pc_settings_unref (self->settings);
  g_clear_pointer (&self->endpoints, pc_rule_list_unref);
  g_clear_pointer (&self->inbound_endpoints, pc_rule_list_unref);
  g_array_unref (self->temp_rules);
  g_free (self);
}

const char *
pc_profile_get_id (const PcProfile *profile)
{
  return profile->id;
}

const char *
pc_profile_get_name (const PcProfile *profile)
{
  return profile->name;
}

gboolean
pc_profile_overrides (const PcProfile *self, PcSettingKey key)
{
  return (self->overridden & (1u << key)) != 0;
}

guint
pc_profile_match (const PcProfile *self, const PcProcess *process)
{
  guint best[PC_FP_N_KINDS] = { 0 };
  guint total = 0;

  if (self->fingerprints->len == 0)
    return 0;
  for (guint i = 0; i < self->fingerprints->len; i++)
    {
      const PcFingerprint *fp = self->fingerprints->pdata[i];
      guint s = pc_fingerprint_match (fp, process);
      best[fp->kind] = MAX (best[fp->kind], s);
    }
  /* Every kind the profile names must match (see the header). */
  for (int k = 0; k < PC_FP_N_KINDS; k++)
    if (self->kinds & (1u << k))
      {
        if (best[k] == 0)
          return 0;
        total += best[k];
      }
  return total;
}
