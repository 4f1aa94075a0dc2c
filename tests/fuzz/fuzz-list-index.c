/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Fuzz target for the filter-list index (index.json, from list servers and the state directory)
 * and for the signature text (index.json.sig): the index is parsed, every accepted entry must be
 * well-formed (plain file name, 64-hex sum, known categories), and the first line is decoded as
 * a signature (against a keys directory that does not exist, so verification itself fails). */
#define G_LOG_DOMAIN "portcullis-fuzz"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pc-error.h"
#include "pc-intel-private.h"
#include "pc-intel-update.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  /* a g_return_if_fail() in json-glib or GLib means we passed it something bad */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PcIntelIndex) index = NULL;

  if (size > 256 * 1024)
    return 0;
  index = pc_intel_index_parse ((const char *)data, size, &error);
  if (index == NULL)
    {
      if (error == NULL || !g_utf8_validate (error->message, -1, NULL))
        abort ();
    }
  else
    {
      if (error != NULL)
        abort ();
      for (guint i = 0; i < index->entries->len; i++)
        {
          const PcIntelIndexEntry *e = g_ptr_array_index (index->entries, i);

          if (e->categories == 0 || strlen (e->sha256) != 64 || strchr (e->file, '/') != NULL
              || e->file[0] == '.' || e->size > PC_INTEL_MAX_FILE_SIZE)
            abort ();
          /* the check must refuse data that is not what the entry says */
          if (e->size != 1 && pc_intel_index_entry_check (e, "x", 1, NULL))
            abort ();
        }
    }
  g_clear_error (&error);

  {
    gsize line = 0;

    while (line < size && data[line] != '\n')
      line++;
    if (pc_intel_verify_signature ("/nonexistent/portcullis-keys", "data", 4, (const char *)data,
                                   line, &error))
      abort ();
    if (error == NULL)
      abort ();
  }
  return 0;
}
