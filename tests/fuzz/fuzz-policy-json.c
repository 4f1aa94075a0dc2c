/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Fuzz target for the policy import (pc_policy_manager_import_json): a JSON document from a
 * user's backup file, passed over D-Bus. Import is all or nothing: on failure the error is
 * ours and the policy unchanged (same export before and after); on success the export imports
 * again to the same export. A real manager over a real sqlite store in a temporary dir. */
#define G_LOG_DOMAIN "portcullis-fuzz"

#include <glib/gstdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pc-error.h"
#include "pc-policy-manager.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

static PcPolicyManager *manager;
static char *state_dir;

static void
cleanup (void)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", state_dir);

  g_clear_object (&manager);
  if (system (cmd) != 0)
    g_printerr ("cannot remove %s\n", state_dir);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *config = NULL;

  state_dir = g_dir_make_tmp ("pc-fuzz-policy-XXXXXX", &error);
  if (state_dir == NULL)
    abort ();
  config = g_build_filename (state_dir, "no-config", NULL);
  manager = pc_policy_manager_new (state_dir, config, &error);
  if (manager == NULL)
    abort ();
  atexit (cleanup);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *)data, size);
  g_autofree char *before = pc_policy_manager_export_json (manager, NULL);
  g_autofree char *after = NULL;
  g_autoptr (GError) error = NULL;

  if (!pc_policy_manager_import_json (manager, text, &error))
    {
      if (error == NULL || error->domain != PC_ERROR || !g_utf8_validate (error->message, -1, NULL))
        abort ();
      after = pc_policy_manager_export_json (manager, NULL);
      if (strcmp (before, after) != 0)
        abort (); /* a failed import changed something */
      return 0;
    }
  after = pc_policy_manager_export_json (manager, NULL);
  if (!pc_policy_manager_import_json (manager, after, NULL))
    abort (); /* our own export must import */
  {
    g_autofree char *again = pc_policy_manager_export_json (manager, NULL);
    if (strcmp (after, again) != 0)
      abort ();
  }
  return 0;
}
