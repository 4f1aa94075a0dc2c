/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-policy"

#include "pc-settings.h"

#include <gio/gio.h>

#include "pc-error.h"

static const char *const default_action_names[] = { "allow", "block", "prompt", NULL };
static const char *const block_reaction_names[] = { "drop", "reject", NULL };
static const char *const fail_mode_names[] = { "open", "closed", NULL };

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

PcSettings *
pc_settings_new_default (void)
{
  PcSettings *self = g_new0 (PcSettings, 1);

  self->ref_count = 1;
  self->default_action = PC_DEFAULT_ALLOW;
  self->block_reaction = PC_REACTION_REJECT;
  self->fail_mode = PC_FAIL_OPEN;
  self->endpoints = pc_rule_list_parse ("", NULL);
  self->inbound_endpoints = pc_rule_list_parse ("", NULL);
  return self;
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
  g_free (self);
}

/* Reads an enumerated key; absent keys keep *value. */
static gboolean
read_enum (GKeyFile *kf, const char *key, const char *const *names, int *value, GError **error)
{
  g_autofree char *text = g_key_file_get_string (kf, "global", key, NULL);

  if (text == NULL)
    return TRUE;
  g_strstrip (text);
  for (int i = 0; names[i] != NULL; i++)
    if (g_str_equal (text, names[i]))
      {
        *value = i;
        return TRUE;
      }

  g_autofree char *choices = g_strjoinv ("|", (char **)names);
  g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING, "%s: '%s' is not one of %s", key, text,
               choices);
  return FALSE;
}

static gboolean
read_rules (GKeyFile *kf, const char *key, PcRuleList **rules, GError **error)
{
  g_auto (GStrv) lines = NULL;
  PcRuleList *parsed;

  if (!g_key_file_has_key (kf, "global", key, NULL))
    return TRUE;
  lines = g_key_file_get_string_list (kf, "global", key, NULL, error);
  if (lines == NULL)
    {
      g_prefix_error (error, "%s: ", key);
      return FALSE;
    }
  parsed = pc_rule_list_parse_strv ((const char *const *)lines, error);
  if (parsed == NULL)
    {
      g_prefix_error (error, "%s: ", key);
      return FALSE;
    }
  g_clear_pointer (rules, pc_rule_list_unref);
  *rules = parsed;
  return TRUE;
}

PcSettings *
pc_settings_load (const char *path, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (PcSettings) self = pc_settings_new_default ();
  g_autoptr (GError) local_error = NULL;
  int default_action = self->default_action;
  int block_reaction = self->block_reaction;
  int fail_mode = self->fail_mode;

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return g_steal_pointer (&self);
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING, "%s: %s", path, local_error->message);
      return NULL;
    }

  if (!read_enum (kf, "default-action", default_action_names, &default_action, &local_error)
      || !read_enum (kf, "block-reaction", block_reaction_names, &block_reaction, &local_error)
      || !read_enum (kf, "fail-mode", fail_mode_names, &fail_mode, &local_error)
      || !read_rules (kf, "endpoints", &self->endpoints, &local_error)
      || !read_rules (kf, "inbound-endpoints", &self->inbound_endpoints, &local_error))
    {
      g_set_error (error, PC_ERROR, local_error->code, "%s: [global] %s", path,
                   local_error->message);
      return NULL;
    }

  self->default_action = default_action;
  self->block_reaction = block_reaction;
  self->fail_mode = fail_mode;
  return g_steal_pointer (&self);
}
