/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Fuzz target for policy input that arrives over D-Bus: profile fingerprints
 * (pc_fingerprint_parse, then matched against two processes) and setting values
 * (pc_setting_validate on a GVariant parsed from the input).
 *
 * Each input line is a fingerprint. When the first line names a setting key, the rest of the
 * input is also parsed as a GVariant of that key's type and validated. */
#define G_LOG_DOMAIN "portcullis-fuzz"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pc-error.h"
#include "pc-profile.h"
#include "pc-settings.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check_error (GError *error, int code)
{
  if (error == NULL || error->domain != PC_ERROR || error->code != code
      || !g_utf8_validate (error->message, -1, NULL))
    abort ();
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *)data, size);
  g_auto (GStrv) lines = NULL;
  char env[] = "HOME=/root\0APPIMAGE=/tmp/A.AppImage\0EMPTY=\0";
  char *argv[] = { "/usr/bin/python3", "-u", "/opt/tool.py", "--server", NULL };
  PcProcess procs[2] = {
    { .pid = 10,
      .exe = "/usr/bin/python3",
      .argv = argv,
      .cmdline = "/usr/bin/python3 -u /opt/tool.py --server",
      .kind = PC_APP_KIND_SCRIPT,
      .app_id = "/opt/tool.py",
      .interpreter = "/usr/bin/python3",
      .systemd_unit = "tool.service",
      .environ = env,
      .environ_len = sizeof env - 1 },
    { .pid = 11,
      .exe = NULL,
      .argv = NULL,
      .cmdline = "",
      .kind = PC_APP_KIND_FLATPAK,
      .app_id = "org.example.App" },
  };
  PcSettingKey key;

  if (!g_utf8_validate (text, -1, NULL))
    return 0;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (PcFingerprint) fp = pc_fingerprint_parse (lines[i], &error);

      if (fp == NULL)
        {
          check_error (error, PC_ERROR_INVALID_ARGS);
          continue;
        }
      for (guint p = 0; p < G_N_ELEMENTS (procs); p++)
        (void)pc_fingerprint_match (fp, &procs[p]);
    }

  if (lines[0] != NULL && pc_setting_key_from_name (lines[0], &key))
    {
      const char *rest = text + strlen (lines[0]) + (lines[1] != NULL ? 1 : 0);
      g_autoptr (GError) error = NULL;
      g_autoptr (GVariant) value
          = g_variant_parse (G_VARIANT_TYPE (pc_setting_key_type (key)), rest, NULL, NULL, NULL);
      if (value != NULL)
        {
          g_variant_ref_sink (value);
          if (!pc_setting_validate (lines[0], value, &error))
            {
              if (error == NULL || error->domain != PC_ERROR
                  || (error->code != PC_ERROR_INVALID_SETTING
                      && error->code != PC_ERROR_INVALID_RULE))
                abort ();
            }
          else
            {
              /* a valid value must build effective settings */
              g_autoptr (GHashTable) layer = g_hash_table_new (g_str_hash, g_str_equal);
              g_autoptr (PcSettings) s = NULL;
              g_hash_table_insert (layer, lines[0], value);
              s = pc_settings_new_layered (&layer, 1);
              if (s->values[key] == NULL || !g_variant_equal (s->values[key], value))
                abort ();
            }
        }
    }
  return 0;
}
