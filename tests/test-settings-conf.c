/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The shipped /etc/portcullis/settings.conf (data/settings.conf): as shipped it changes nothing,
 * it documents every setting, and each documented value is the built-in default and parses. */
#define G_LOG_DOMAIN "test-settings-conf"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "pc-settings.h"

static char *
shipped_path (void)
{
  return g_build_filename (PC_SOURCE_DIR, "data", "settings.conf", NULL);
}

static void
test_shipped_is_empty (void)
{
  g_autofree char *path = shipped_path ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) values = pc_settings_read_keyfile (path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (values);
  g_assert_cmpuint (g_hash_table_size (values), ==, 0);
}

/* "#key = value" lines turned into "key = value": every key once, each its default. */
static void
test_documented_defaults (void)
{
  g_autofree char *path = shipped_path ();
  g_autofree char *text = NULL;
  g_autoptr (GString) uncommented = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) values = NULL;
  g_autofree char *tmp = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  int fd;

  g_assert_true (g_file_get_contents (path, &text, NULL, &error));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i];
      if (line[0] == '#' && g_ascii_islower (line[1]) && strstr (line, " =") != NULL)
        {
          g_autofree char *name = g_strndup (line + 1, strcspn (line + 1, " ="));
          if (g_hash_table_contains (seen, name))
            g_error ("data/settings.conf documents '%s' twice (line %u)", name, i + 1);
          g_hash_table_add (seen, g_steal_pointer (&name));
          line++;
        }
      g_string_append_printf (uncommented, "%s\n", line);
    }

  fd = g_file_open_tmp ("settings-XXXXXX.conf", &tmp, &error);
  g_assert_no_error (error);
  close (fd);
  g_assert_true (g_file_set_contents (tmp, uncommented->str, -1, &error));
  values = pc_settings_read_keyfile (tmp, &error);
  g_unlink (tmp);
  g_assert_no_error (error);

  for (guint k = 0; k < PC_N_KEYS; k++)
    {
      const char *name = pc_setting_key_name (k);
      GVariant *value = g_hash_table_lookup (values, name);
      g_autoptr (GVariant) def = pc_setting_key_default (k);

      if (value == NULL)
        g_error ("data/settings.conf does not document '%s'", name);
      if (!g_variant_equal (value, def))
        {
          g_autofree char *a = g_variant_print (value, FALSE);
          g_autofree char *b = g_variant_print (def, FALSE);
          g_error ("data/settings.conf: '%s' shown as %s, built-in default is %s", name, a, b);
        }
    }
  g_assert_cmpuint (g_hash_table_size (values), ==, PC_N_KEYS);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/settings-conf/shipped-is-empty", test_shipped_is_empty);
  g_test_add_func ("/settings-conf/documented-defaults", test_documented_defaults);
  return g_test_run ();
}
