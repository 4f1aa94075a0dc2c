/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-policy"

#include "pc-desktop.h"

#include <string.h>

static const char *const default_dirs[] = {
  "/usr/share/applications",
  "/usr/local/share/applications",
  "/var/lib/flatpak/exports/share/applications",
  NULL,
};

const char *const *
pc_desktop_default_dirs (void)
{
  return default_dirs;
}

/* Basename of the program an Exec line runs: skips "env" and VAR=value words; quotes as the
 * desktop entry spec allows. */
static char *
exec_program (const char *exec)
{
  g_auto (GStrv) argv = NULL;

  if (exec == NULL || !g_shell_parse_argv (exec, NULL, &argv, NULL))
    return NULL;
  for (guint i = 0; argv[i] != NULL; i++)
    {
      if (g_str_equal (argv[i], "env") || strchr (argv[i], '=') != NULL)
        continue;
      return g_path_get_basename (argv[i]);
    }
  return NULL;
}

static gboolean
entry_matches (GKeyFile *kf, const char *file, const PcProcess *p, const char *want)
{
  const char *group = G_KEY_FILE_DESKTOP_GROUP;
  g_autofree char *try_exec = NULL;
  g_autofree char *exec = NULL;
  g_autofree char *prog = NULL;

  if (g_key_file_get_boolean (kf, group, G_KEY_FILE_DESKTOP_KEY_HIDDEN, NULL))
    return FALSE;
  if (p->kind == PC_APP_KIND_FLATPAK)
    {
      g_autofree char *fp = g_key_file_get_string (kf, group, "X-Flatpak", NULL);
      g_autofree char *expect = g_strconcat (p->app_id, ".desktop", NULL);
      return g_str_equal (file, expect) || (fp != NULL && g_str_equal (fp, p->app_id));
    }
  try_exec = g_key_file_get_string (kf, group, G_KEY_FILE_DESKTOP_KEY_TRY_EXEC, NULL);
  if (try_exec != NULL)
    {
      g_autofree char *base = g_path_get_basename (try_exec);
      if (g_str_equal (base, want))
        return TRUE;
    }
  exec = g_key_file_get_string (kf, group, G_KEY_FILE_DESKTOP_KEY_EXEC, NULL);
  prog = exec_program (exec);
  return prog != NULL && g_str_equal (prog, want);
}

static int
cmp_str (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

gboolean
pc_desktop_lookup (const PcProcess *process, const char *const *dirs, char **name, char **icon)
{
  g_autofree char *want = NULL;
  const char *path = process->kind == PC_APP_KIND_SCRIPT || process->kind == PC_APP_KIND_APPIMAGE
                         ? process->app_id
                         : process->exe;

  if (path == NULL && process->kind != PC_APP_KIND_FLATPAK)
    return FALSE;
  want = path != NULL ? g_path_get_basename (path) : g_strdup ("");
  for (guint d = 0; dirs != NULL && dirs[d] != NULL; d++)
    {
      g_autoptr (GDir) dir = g_dir_open (dirs[d], 0, NULL);
      g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
      const char *entry;

      if (dir == NULL)
        continue;
      while ((entry = g_dir_read_name (dir)) != NULL)
        if (g_str_has_suffix (entry, ".desktop"))
          g_ptr_array_add (files, g_strdup (entry));
      /* Directory order is arbitrary; the same machine must always name a profile alike. */
      g_ptr_array_sort (files, cmp_str);
      for (guint i = 0; i < files->len; i++)
        {
          g_autoptr (GKeyFile) kf = g_key_file_new ();
          g_autofree char *file = g_build_filename (dirs[d], files->pdata[i], NULL);
          g_autofree char *n = NULL;

          if (!g_key_file_load_from_file (kf, file, G_KEY_FILE_NONE, NULL)
              || !entry_matches (kf, files->pdata[i], process, want))
            continue;
          n = g_key_file_get_string (kf, G_KEY_FILE_DESKTOP_GROUP, G_KEY_FILE_DESKTOP_KEY_NAME,
                                     NULL);
          if (n == NULL || *n == '\0')
            continue;
          *name = g_steal_pointer (&n);
          *icon = g_key_file_get_string (kf, G_KEY_FILE_DESKTOP_GROUP, G_KEY_FILE_DESKTOP_KEY_ICON,
                                         NULL);
          if (*icon == NULL)
            *icon = g_strdup ("");
          return TRUE;
        }
    }
  return FALSE;
}
