/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Not a test by itself: the client the filter-list update integration test
 * (tests/integration/test_intel_update.py) runs inside the sandbox's client namespace, as the
 * helper would run an update:
 *
 *   test-intel-fetch URL KEYS_DIR STATE_DIR [DOMAIN...]
 *
 * loads the installed update from STATE_DIR if there is one (verified), runs one update from URL,
 * then prints for each DOMAIN the categories that list it. Output lines:
 *   installed: yes|no
 *   result: updated|up-to-date|error: MESSAGE
 *   DOMAIN: CATEGORY...   (or "-")
 * Exit status 0 when the update succeeded, 1 when it failed, 2 on bad usage. */
#define G_LOG_DOMAIN "portcullis-intel"

#include <stdio.h>

#include "pc-intel-update.h"
#include "pc-intel.h"

int
main (int argc, char **argv)
{
  g_autoptr (PcIntel) intel = NULL;
  g_autoptr (PcIntelUpdater) updater = NULL;
  g_autoptr (GError) error = NULL;
  gboolean installed, updated = FALSE, ok;
  const PcIntelCategory *cats;
  guint n_cats = 0;

  if (argc < 4)
    {
      g_printerr ("usage: %s URL KEYS_DIR STATE_DIR [DOMAIN...]\n", argv[0]);
      return 2;
    }
  intel = pc_intel_new ();
  updater = pc_intel_updater_new (intel, argv[1], argv[2], argv[3]);
  installed = pc_intel_updater_load_installed (updater, NULL);
  printf ("installed: %s\n", installed ? "yes" : "no");
  ok = pc_intel_updater_update_sync (updater, &updated, NULL, &error);
  if (ok)
    printf ("result: %s\n", updated ? "updated" : "up-to-date");
  else
    printf ("result: error: %s\n", error->message);

  cats = pc_intel_get_categories (&n_cats);
  for (int i = 4; i < argc; i++)
    {
      guint32 mask = pc_intel_lookup (intel, argv[i], NULL, NULL);

      printf ("%s:", argv[i]);
      for (guint c = 0; c < n_cats; c++)
        if (mask & cats[c].bit)
          printf (" %s", cats[c].id);
      printf ("%s\n", mask == 0 ? " -" : "");
    }
  return ok ? 0 : 1;
}
