/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-policy"

#include "pc-profile.h"

#include <string.h>

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
  g_autofree char *id = NULL;
  GHashTable *layers[2];

  self->ref_count = 1;
  g_variant_dict_lookup (dict, "id", "s", &id);
  self->id = g_intern_string (id);
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
        self->kinds |= 1u << pc_fingerprint_get_kind (fp);
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
      PcFingerprintKind kind = pc_fingerprint_get_kind (fp);
      best[kind] = MAX (best[kind], s);
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
