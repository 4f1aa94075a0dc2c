/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-policy"

#include "pc-settings.h"

#include <gio/gio.h>
#include <string.h>

#include "pc-dns-url.h"
#include "pc-error.h"

static const char *const default_action_names[] = { "allow", "block", "prompt", NULL };
static const char *const prompt_default_names[] = { "allow", "block", NULL };
static const char *const block_reaction_names[] = { "drop", "reject", NULL };
static const char *const fail_mode_names[] = { "open", "closed", NULL };
static const char *const dns_block_reply_names[] = { "nxdomain", "zero", NULL };

typedef struct
{
  const char *name;
  const char *type;
  const char *default_text; /* GVariant text format */
  const char *const *choices;
  guint min, max; /* for "u" */
} PcKeyInfo;

/* The documented built-in defaults (README "Settings and profiles" repeats them). */
static const PcKeyInfo key_info[PC_N_KEYS] = {
  [PC_KEY_DEFAULT_ACTION] = { "default-action", "s", "'allow'", default_action_names },
  [PC_KEY_BLOCK_LOCALHOST] = { "block-localhost", "b", "false" },
  [PC_KEY_BLOCK_LAN] = { "block-lan", "b", "false" },
  [PC_KEY_BLOCK_INTERNET] = { "block-internet", "b", "false" },
  [PC_KEY_BLOCK_P2P] = { "block-p2p", "b", "false" },
  [PC_KEY_BLOCK_INBOUND] = { "block-inbound", "b", "false" },
  [PC_KEY_ENDPOINTS] = { "endpoints", "as", "@as []" },
  [PC_KEY_INBOUND_ENDPOINTS] = { "inbound-endpoints", "as", "@as []" },
  /* the shipped lists block something real on a fresh install (data/lists/README.md) */
  [PC_KEY_FILTER_LISTS]
  = { "filter-lists", "as", "['ADS', 'TRAC', 'MAL', 'PHISH', 'CRYPTOMINING', 'CUSTOM']" },
  [PC_KEY_BLOCK_REACTION] = { "block-reaction", "s", "'reject'", block_reaction_names },
  [PC_KEY_PROMPT_TIMEOUT] = { "prompt-timeout", "u", "uint32 60", NULL, 1, 3600 },
  [PC_KEY_PROMPT_DEFAULT] = { "prompt-default", "s", "'block'", prompt_default_names },
  [PC_KEY_PROMPT_INBOUND] = { "prompt-inbound", "b", "false" },
  [PC_KEY_DNS_RESOLVER] = { "dns-resolver", "b", "true" },
  [PC_KEY_DNS_SERVERS] = { "dns-servers", "as", "['system']" },
  [PC_KEY_DNS_LISTEN] = { "dns-listen", "as", "['127.0.0.17:53', '[::1]:53']" },
  [PC_KEY_DNS_BLOCK_REBINDING] = { "dns-block-rebinding", "b", "true" },
  [PC_KEY_DNS_BLOCK_REPLY] = { "dns-block-reply", "s", "'nxdomain'", dns_block_reply_names },
  [PC_KEY_DNS_BYPASS_PREVENTION] = { "dns-bypass-prevention", "b", "true" },
  [PC_KEY_HISTORY] = { "history", "b", "true" },
  [PC_KEY_HISTORY_KEEP_DAYS] = { "history-keep-days", "u", "uint32 30", NULL, 0, 36500 },
  [PC_KEY_BANDWIDTH] = { "bandwidth", "b", "true" },
  [PC_KEY_FAIL_MODE] = { "fail-mode", "s", "'open'", fail_mode_names },
  [PC_KEY_CUSTOM_LIST] = { "custom-list", "s", "''" },
  [PC_KEY_GEO_DATABASE] = { "geo-database", "s", "''" },
  [PC_KEY_LISTS_URL] = { "lists-url", "s", "''" },
  [PC_KEY_LISTS_KEYS] = { "lists-keys", "s", "''" },
  [PC_KEY_LISTS_UPDATE_INTERVAL]
  = { "lists-update-interval", "u", "uint32 86400", NULL, 0, 31536000 },
};

const char *
pc_default_action_to_string (PcDefaultAction action)
{
  return default_action_names[action];
}

const char *
pc_block_reaction_to_string (PcBlockReaction reaction)
{
  return block_reaction_names[reaction];
}

const char *
pc_fail_mode_to_string (PcFailMode mode)
{
  return fail_mode_names[mode];
}

const char *
pc_setting_key_name (PcSettingKey key)
{
  return key_info[key].name;
}

const char *
pc_setting_key_type (PcSettingKey key)
{
  return key_info[key].type;
}

GVariant *
pc_setting_key_default (PcSettingKey key)
{
  return g_variant_ref_sink (g_variant_parse (NULL, key_info[key].default_text, NULL, NULL, NULL));
}

gboolean
pc_setting_key_from_name (const char *name, PcSettingKey *out)
{
  for (int i = 0; i < PC_N_KEYS; i++)
    if (g_str_equal (name, key_info[i].name))
      {
        *out = i;
        return TRUE;
      }
  return FALSE;
}

static int
choice_index (const char *const *choices, const char *text)
{
  for (int i = 0; choices[i] != NULL; i++)
    if (g_str_equal (text, choices[i]))
      return i;
  return -1;
}

/* Filter list ids as the rule syntax writes them after "L:". */
static gboolean
list_id_is_valid (const char *id)
{
  gsize len = strlen (id);

  if (len == 0 || len > 32)
    return FALSE;
  for (const char *p = id; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
      return FALSE;
  return TRUE;
}

gboolean
pc_setting_validate (const char *name, GVariant *value, GError **error)
{
  PcSettingKey key;
  const PcKeyInfo *info;

  if (!pc_setting_key_from_name (name, &key))
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING, "'%s': no such setting", name);
      return FALSE;
    }
  info = &key_info[key];
  if (value == NULL || !g_variant_is_of_type (value, G_VARIANT_TYPE (info->type)))
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING,
                   "%s: value of type '%s', expected '%s'", name,
                   value != NULL ? g_variant_get_type_string (value) : "none", info->type);
      return FALSE;
    }

  if (key == PC_KEY_LISTS_URL)
    {
      const char *url = g_variant_get_string (value, NULL);
      if (*url != '\0' && !g_str_has_prefix (url, "https://") && !g_str_has_prefix (url, "http://"))
        {
          g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING,
                       "%s: '%s' is not an http:// or https:// URL (or empty)", name, url);
          return FALSE;
        }
    }
  if (key == PC_KEY_CUSTOM_LIST || key == PC_KEY_GEO_DATABASE || key == PC_KEY_LISTS_KEYS)
    {
      const char *path = g_variant_get_string (value, NULL);
      if (*path != '\0' && !g_path_is_absolute (path))
        {
          g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING,
                       "%s: '%s' is not an absolute path (or empty)", name, path);
          return FALSE;
        }
    }
  if (info->choices != NULL)
    {
      const char *text = g_variant_get_string (value, NULL);
      if (choice_index (info->choices, text) < 0)
        {
          g_autofree char *choices = g_strjoinv ("|", (char **)info->choices);
          g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING, "%s: '%s' is not one of %s", name,
                       text, choices);
          return FALSE;
        }
    }
  else if (g_str_equal (info->type, "u"))
    {
      guint32 v = g_variant_get_uint32 (value);
      if (v < info->min || v > info->max)
        {
          g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING, "%s: %u is not in %u-%u", name, v,
                       info->min, info->max);
          return FALSE;
        }
    }
  else if (key == PC_KEY_ENDPOINTS || key == PC_KEY_INBOUND_ENDPOINTS)
    {
      g_autofree const char **rules = g_variant_get_strv (value, NULL);
      g_autoptr (PcRuleList) list = pc_rule_list_parse_strv (rules, error);
      if (list == NULL)
        {
          g_prefix_error (error, "%s: ", name);
          return FALSE;
        }
    }
  else if (key == PC_KEY_FILTER_LISTS)
    {
      g_autofree const char **items = g_variant_get_strv (value, NULL);
      for (guint i = 0; items[i] != NULL; i++)
        if (!list_id_is_valid (items[i]))
          {
            g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING,
                         "%s: item %u '%s': a list id is 1-32 letters, digits, '-' or '_'", name,
                         i + 1, items[i]);
            return FALSE;
          }
    }
  else if (key == PC_KEY_DNS_SERVERS || key == PC_KEY_DNS_LISTEN)
    {
      /* the resolver's own parsers, so what is accepted here is what it runs with */
      g_autofree const char **items = g_variant_get_strv (value, NULL);
      for (guint i = 0; items[i] != NULL; i++)
        {
          g_autoptr (GError) local_error = NULL;
          g_autoptr (PcDnsUpstreamSpec) spec = NULL;
          PcAddr addr;
          guint16 port;
          gboolean ok = key == PC_KEY_DNS_SERVERS
                            ? (spec = pc_dns_upstream_spec_parse (items[i], &local_error)) != NULL
                            : pc_dns_parse_listen (items[i], &addr, &port, &local_error);
          if (!ok)
            {
              g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING, "%s: item %u '%s': %s", name,
                           i + 1, items[i], local_error->message);
              return FALSE;
            }
        }
    }
  return TRUE;
}

static PcSettings *
settings_alloc (void)
{
  PcSettings *self = g_new0 (PcSettings, 1);

  self->ref_count = 1;
  return self;
}

/* Fills the typed fields from values[], which must all be set and valid. */
static void
settings_compile (PcSettings *self)
{
  GVariant **v = self->values;
  g_autofree const char **endpoints = g_variant_get_strv (v[PC_KEY_ENDPOINTS], NULL);
  g_autofree const char **inbound = g_variant_get_strv (v[PC_KEY_INBOUND_ENDPOINTS], NULL);

  self->default_action
      = choice_index (default_action_names, g_variant_get_string (v[PC_KEY_DEFAULT_ACTION], NULL));
  self->block_reaction
      = choice_index (block_reaction_names, g_variant_get_string (v[PC_KEY_BLOCK_REACTION], NULL));
  self->fail_mode
      = choice_index (fail_mode_names, g_variant_get_string (v[PC_KEY_FAIL_MODE], NULL));
  self->prompt_default
      = choice_index (prompt_default_names, g_variant_get_string (v[PC_KEY_PROMPT_DEFAULT], NULL));
  self->endpoints = pc_rule_list_parse_strv (endpoints, NULL);
  self->inbound_endpoints = pc_rule_list_parse_strv (inbound, NULL);
  g_assert (self->endpoints != NULL && self->inbound_endpoints != NULL);
  self->block_localhost = g_variant_get_boolean (v[PC_KEY_BLOCK_LOCALHOST]);
  self->block_lan = g_variant_get_boolean (v[PC_KEY_BLOCK_LAN]);
  self->block_internet = g_variant_get_boolean (v[PC_KEY_BLOCK_INTERNET]);
  self->block_p2p = g_variant_get_boolean (v[PC_KEY_BLOCK_P2P]);
  self->block_inbound = g_variant_get_boolean (v[PC_KEY_BLOCK_INBOUND]);
  self->prompt_timeout = g_variant_get_uint32 (v[PC_KEY_PROMPT_TIMEOUT]);
  self->prompt_inbound = g_variant_get_boolean (v[PC_KEY_PROMPT_INBOUND]);
  self->filter_lists = g_variant_dup_strv (v[PC_KEY_FILTER_LISTS], NULL);
  self->dns_resolver = g_variant_get_boolean (v[PC_KEY_DNS_RESOLVER]);
  self->dns_servers = g_variant_dup_strv (v[PC_KEY_DNS_SERVERS], NULL);
  self->dns_listen = g_variant_dup_strv (v[PC_KEY_DNS_LISTEN], NULL);
  self->dns_block_rebinding = g_variant_get_boolean (v[PC_KEY_DNS_BLOCK_REBINDING]);
  self->dns_block_reply = choice_index (dns_block_reply_names,
                                        g_variant_get_string (v[PC_KEY_DNS_BLOCK_REPLY], NULL));
  self->dns_bypass_prevention = g_variant_get_boolean (v[PC_KEY_DNS_BYPASS_PREVENTION]);
  self->history = g_variant_get_boolean (v[PC_KEY_HISTORY]);
  self->history_keep_days = g_variant_get_uint32 (v[PC_KEY_HISTORY_KEEP_DAYS]);
  self->bandwidth = g_variant_get_boolean (v[PC_KEY_BANDWIDTH]);
  self->custom_list = g_variant_dup_string (v[PC_KEY_CUSTOM_LIST], NULL);
  self->geo_database = g_variant_dup_string (v[PC_KEY_GEO_DATABASE], NULL);
  self->lists_url = g_variant_dup_string (v[PC_KEY_LISTS_URL], NULL);
  self->lists_keys = g_variant_dup_string (v[PC_KEY_LISTS_KEYS], NULL);
  self->lists_update_interval = g_variant_get_uint32 (v[PC_KEY_LISTS_UPDATE_INTERVAL]);
}

PcSettings *
pc_settings_new_layered (GHashTable *const *layers, guint n_layers)
{
  PcSettings *self = settings_alloc ();

  for (int k = 0; k < PC_N_KEYS; k++)
    {
      for (guint l = 0; l < n_layers && self->values[k] == NULL; l++)
        {
          GVariant *value
              = layers[l] != NULL ? g_hash_table_lookup (layers[l], key_info[k].name) : NULL;
          if (value != NULL)
            self->values[k] = g_variant_ref_sink (value);
        }
      if (self->values[k] == NULL)
        self->values[k] = pc_setting_key_default (k);
    }
  settings_compile (self);
  return self;
}

PcSettings *
pc_settings_new_default (void)
{
  return pc_settings_new_layered (NULL, 0);
}

PcSettings *
pc_settings_ref (PcSettings *self)
{
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
pc_settings_unref (PcSettings *self)
{
  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  g_clear_pointer (&self->endpoints, pc_rule_list_unref);
  g_clear_pointer (&self->inbound_endpoints, pc_rule_list_unref);
  g_strfreev (self->filter_lists);
  g_strfreev (self->dns_servers);
  g_strfreev (self->dns_listen);
  g_free (self->custom_list);
  g_free (self->geo_database);
  g_free (self->lists_url);
  g_free (self->lists_keys);
  for (int k = 0; k < PC_N_KEYS; k++)
    g_clear_pointer (&self->values[k], g_variant_unref);
  g_free (self);
}

/* One [global] key of the admin file as the GVariant of its type. */
static GVariant *
read_key (GKeyFile *kf, const char *name, const PcKeyInfo *info, GError **error)
{
  if (g_str_equal (info->type, "s"))
    {
      g_autofree char *text = g_key_file_get_string (kf, "global", name, error);
      if (text == NULL)
        return NULL;
      return g_variant_ref_sink (g_variant_new_string (g_strstrip (text)));
    }
  if (g_str_equal (info->type, "b"))
    {
      g_autoptr (GError) local_error = NULL;
      gboolean v = g_key_file_get_boolean (kf, "global", name, &local_error);
      if (local_error != NULL)
        {
          g_autofree char *raw = g_key_file_get_value (kf, "global", name, NULL);
          g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING, "'%s' is not true or false",
                       raw != NULL ? raw : "");
          return NULL;
        }
      return g_variant_ref_sink (g_variant_new_boolean (v));
    }
  if (g_str_equal (info->type, "u"))
    {
      g_autofree char *raw = g_key_file_get_value (kf, "global", name, NULL);
      guint64 v;
      if (raw == NULL
          || !g_ascii_string_to_unsigned (g_strstrip (raw), 10, 0, G_MAXUINT32, &v, NULL))
        {
          g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING, "'%s' is not a number",
                       raw != NULL ? raw : "");
          return NULL;
        }
      return g_variant_ref_sink (g_variant_new_uint32 ((guint32)v));
    }
  {
    g_auto (GStrv) items = g_key_file_get_string_list (kf, "global", name, NULL, error);
    g_autoptr (GPtrArray) kept = g_ptr_array_new ();
    if (items == NULL)
      return NULL;
    /* "a;b;" and "a; b" are both common in hand-written files. */
    for (guint i = 0; items[i] != NULL; i++)
      {
        g_strstrip (items[i]);
        g_ptr_array_add (kept, items[i]);
      }
    return g_variant_ref_sink (g_variant_new_strv ((const char *const *)kept->pdata, kept->len));
  }
}

/* The 1-based line of key in group [global] of a key file's text, 0 if not found: GKeyFile
 * does not say where a value came from, and people fix files by line. */
static guint
key_line (const char *text, const char *key)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  gboolean in_global = FALSE;
  gsize key_len = strlen (key);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *l = lines[i];
      while (*l == ' ' || *l == '\t')
        l++;
      if (*l == '[')
        in_global = g_str_has_prefix (l, "[global]");
      else if (in_global && strncmp (l, key, key_len) == 0)
        {
          const char *rest = l + key_len;
          while (*rest == ' ' || *rest == '\t')
            rest++;
          if (*rest == '=')
            return i + 1;
        }
    }
  return 0;
}

GHashTable *
pc_settings_read_keyfile (const char *path, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GHashTable) values
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_variant_unref);
  g_auto (GStrv) keys = NULL;
  g_autofree char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return g_steal_pointer (&values);
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING, "%s: %s", path, local_error->message);
      return NULL;
    }
  if (!g_key_file_load_from_data (kf, text, -1, G_KEY_FILE_NONE, &local_error))
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING, "%s: %s", path, local_error->message);
      return NULL;
    }
  keys = g_key_file_get_keys (kf, "global", NULL, NULL);
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    {
      PcSettingKey key;
      g_autoptr (GVariant) value = NULL;

      if (!pc_setting_key_from_name (keys[i], &key))
        {
          g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING,
                       "%s:%u: [global] '%s': no such setting", path, key_line (text, keys[i]),
                       keys[i]);
          return NULL;
        }
      value = read_key (kf, keys[i], &key_info[key], &local_error);
      if (value == NULL)
        g_prefix_error (&local_error, "%s: ", keys[i]);
      if (value == NULL || !pc_setting_validate (keys[i], value, &local_error))
        {
          g_set_error (error, PC_ERROR, local_error->code, "%s:%u: [global] %s", path,
                       key_line (text, keys[i]), local_error->message);
          return NULL;
        }
      g_hash_table_insert (values, g_strdup (keys[i]), g_steal_pointer (&value));
    }
  return g_steal_pointer (&values);
}

PcSettings *
pc_settings_load (const char *path, GError **error)
{
  g_autoptr (GHashTable) values = pc_settings_read_keyfile (path, error);

  if (values == NULL)
    return NULL;
  return pc_settings_new_layered (&values, 1);
}
