/* SPDX-License-Identifier: GPL-3.0-or-later */
/* A stand-in for libFuzzer's driver so any fuzz target can be built with any compiler and run
 * as a regular test over a committed corpus:
 *
 *   fuzz-foo FILE|DIR...
 *
 * feeds every FILE, and every regular file directly inside each DIR (in name order, so runs are
 * reproducible), to LLVMFuzzerTestOneInput() once. Arguments starting with '-' are libFuzzer
 * options and are ignored, so the same command line works for both builds. Fails when an input
 * cannot be read or when there were no inputs at all (a mistyped corpus path must not pass). */
#define G_LOG_DOMAIN "portcullis-fuzz"

#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
/* optional, as with libFuzzer */
int LLVMFuzzerInitialize (int *argc, char ***argv) __attribute__ ((weak));

static gboolean
run_file (const char *path, guint *n_inputs)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &data, &len, &error))
    {
      g_printerr ("fuzz-main: %s\n", error->message);
      return FALSE;
    }
  /* a copy of exactly len bytes, so ASan catches reads past the end as libFuzzer would */
  {
    g_autofree guint8 *copy = g_memdup2 (data, len);

    LLVMFuzzerTestOneInput (copy, len);
  }
  (*n_inputs)++;
  return TRUE;
}

static int
compare_paths (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

static gboolean
run_dir (const char *path, guint *n_inputs)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) dir = g_dir_open (path, 0, &error);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  gboolean ok = TRUE;

  if (dir == NULL)
    {
      g_printerr ("fuzz-main: %s\n", error->message);
      return FALSE;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_build_filename (path, name, NULL));
  g_ptr_array_sort (names, compare_paths);

  for (guint i = 0; i < names->len; i++)
    {
      const char *file = g_ptr_array_index (names, i);

      if (g_file_test (file, G_FILE_TEST_IS_REGULAR))
        ok = run_file (file, n_inputs) && ok;
    }
  return ok;
}

int
main (int argc, char **argv)
{
  guint n_inputs = 0;
  gboolean ok = TRUE;

  if (LLVMFuzzerInitialize != NULL)
    LLVMFuzzerInitialize (&argc, &argv);

  for (int i = 1; i < argc; i++)
    {
      if (argv[i][0] == '-')
        continue;
      if (g_file_test (argv[i], G_FILE_TEST_IS_DIR))
        ok = run_dir (argv[i], &n_inputs) && ok;
      else
        ok = run_file (argv[i], &n_inputs) && ok;
    }

  if (n_inputs == 0)
    {
      g_printerr ("fuzz-main: no inputs (usage: %s FILE|DIR...)\n", argv[0]);
      return EXIT_FAILURE;
    }
  printf ("%u inputs ran\n", n_inputs);
  return ok ? EXIT_SUCCESS : EXIT_FAILURE;
}
