/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "pc-cgroup.h"

char *
pc_cgroup2_find_root (void)
{
  g_autofree char *mounts = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents ("/proc/self/mounts", &mounts, NULL, NULL))
    return NULL;
  lines = g_strsplit (mounts, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) fields = g_strsplit (lines[i], " ", 4);
      if (g_strv_length (fields) >= 3 && g_str_equal (fields[2], "cgroup2"))
        return g_strdup (fields[1]);
    }
  return NULL;
}
