/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The sqlite store under kill -9: a writer process acknowledges each change after it returned
 * (over a pipe), is killed in the middle of a burst of writes, and every acknowledged change
 * must be there afterwards; a transaction killed before its commit leaves nothing; a corrupt
 * file is moved aside, never wiped. Real processes, real sqlite. */
#define G_LOG_DOMAIN "portcullis-test"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pc-error.h"
#include "pc-policy-manager.h"
#include "pc-store.h"

static char *
make_dir (void)
{
  return g_dir_make_tmp ("pc-store-XXXXXX", NULL);
}

static void
rm_rf (const char *path)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", path);
  g_assert_cmpint (system (cmd), ==, 0);
}

static void
ack (int fd, guint n)
{
  char line[32];
  int len = g_snprintf (line, sizeof line, "%u\n", n);

  g_assert_cmpint (write (fd, line, len), ==, len);
}

/* Child: writes forever, acknowledging each durable write. Never returns. */
static void G_GNUC_NORETURN
writer_store (const char *path, int fd)
{
  g_autoptr (GError) error = NULL;
  PcStore *store = pc_store_open (path, NULL, &error);

  if (store == NULL)
    _exit (2);
  for (guint n = 1;; n++)
    {
      g_autofree char *id = g_strdup_printf ("item-%06u", n);
      /* Alternate single writes and two-item transactions. */
      if (n % 2 == 0)
        {
          g_autofree char *id2 = g_strdup_printf ("pair-%06u", n);
          if (!pc_store_begin (store, &error)
              || !pc_store_put (store, "test", id, g_variant_new_uint32 (n), &error)
              || !pc_store_put (store, "test", id2, g_variant_new_uint32 (n), &error)
              || !pc_store_commit (store, &error))
            _exit (3);
        }
      else if (!pc_store_put (store, "test", id, g_variant_new_uint32 (n), &error))
        _exit (3);
      ack (fd, n);
    }
}

/* Child: the same through the policy manager (set a global value, create a profile). */
static void G_GNUC_NORETURN
writer_manager (const char *state, int fd)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *config = g_build_filename (state, "no-config", NULL);
  PcPolicyManager *pm = pc_policy_manager_new (state, config, &error);

  if (pm == NULL)
    _exit (2);
  for (guint n = 1;; n++)
    {
      g_autofree char *name = g_strdup_printf ("app %06u", n);
      g_autofree char *fp = g_strdup_printf ("path:/opt/app-%06u", n);
      g_autofree char *id = NULL;
      const char *fps[] = { fp, NULL };
      GVariantBuilder b;

      if (!pc_policy_manager_set_global (pm, "prompt-timeout", g_variant_new_uint32 (1 + n % 3600),
                                         &error))
        _exit (3);
      g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&b, "{sv}", "name", g_variant_new_string (name));
      g_variant_builder_add (&b, "{sv}", "fingerprints", g_variant_new_strv (fps, -1));
      id = pc_policy_manager_create_profile (pm, g_variant_builder_end (&b), &error);
      if (id == NULL)
        _exit (3);
      ack (fd, n);
    }
}

/* Forks a writer, lets it write for ms milliseconds, kills it with SIGKILL and returns the
 * last acknowledged number. */
static guint
run_and_kill (void (*writer) (const char *, int), const char *arg, guint ms)
{
  int fds[2];
  pid_t pid;
  guint last = 0;
  int status;
  g_autoptr (GString) buf = g_string_new (NULL);
  gint64 deadline;

  g_assert_cmpint (pipe (fds), ==, 0);
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      close (fds[0]);
      writer (arg, fds[1]);
    }
  close (fds[1]);
  deadline = g_get_monotonic_time () + ms * 1000;
  /* Read acknowledgements until the deadline, then kill mid-write. */
  while (g_get_monotonic_time () < deadline)
    {
      char chunk[256];
      ssize_t n = read (fds[0], chunk, sizeof chunk);
      if (n <= 0)
        break;
      g_string_append_len (buf, chunk, n);
    }
  kill (pid, SIGKILL);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
  /* Acknowledgements still in the pipe were acknowledged before the kill. */
  for (;;)
    {
      char chunk[256];
      ssize_t n = read (fds[0], chunk, sizeof chunk);
      if (n <= 0)
        break;
      g_string_append_len (buf, chunk, n);
    }
  close (fds[0]);
  {
    g_auto (GStrv) lines = g_strsplit (buf->str, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++)
      /* Only whole lines: the last element is what followed the last newline. */
      if (lines[i][0] != '\0' && lines[i + 1] != NULL)
        last = MAX (last, (guint)atoi (lines[i]));
  }
  return last;
}

static void
test_kill_during_burst (void)
{
  for (guint round = 0; round < 5; round++)
    {
      g_autofree char *dir = make_dir ();
      g_autofree char *path = g_build_filename (dir, "policy.db", NULL);
      g_autoptr (GError) error = NULL;
      g_autoptr (PcStore) store = NULL;
      g_autoptr (GHashTable) items = NULL;
      g_autofree char *problem = NULL;
      /* Different kill points in the write cycle from round to round. */
      guint last
          = run_and_kill ((void (*) (const char *, int))writer_store, path, 150 + round * 37);

      g_assert_cmpuint (last, >, 10);
      store = pc_store_open (path, &problem, &error);
      g_assert_no_error (error);
      g_assert_null (problem);
      items = pc_store_load (store, "test", NULL, &error);
      g_assert_no_error (error);
      for (guint n = 1; n <= last; n++)
        {
          g_autofree char *id = g_strdup_printf ("item-%06u", n);
          GVariant *v = g_hash_table_lookup (items, id);
          g_assert_nonnull (v);
          g_assert_cmpuint (g_variant_get_uint32 (v), ==, n);
        }
      /* a transaction is all or nothing, acknowledged or not */
      for (guint n = 2;; n += 2)
        {
          g_autofree char *item = g_strdup_printf ("item-%06u", n);
          g_autofree char *pair = g_strdup_printf ("pair-%06u", n);
          if (!g_hash_table_contains (items, item))
            {
              g_assert_false (g_hash_table_contains (items, pair));
              break;
            }
          g_assert_true (g_hash_table_contains (items, pair));
        }
      g_test_message ("round %u: %u writes acknowledged, all present", round, last);
      g_clear_pointer (&store, pc_store_free);
      rm_rf (dir);
    }
}

static void
test_kill_manager_during_burst (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *config = g_build_filename (dir, "no-config", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (PcPolicyManager) pm = NULL;
  g_autoptr (GVariant) profiles = NULL;
  g_autoptr (GVariant) timeout = NULL;
  guint last = run_and_kill ((void (*) (const char *, int))writer_manager, dir, 300);
  guint found = 0;

  g_assert_cmpuint (last, >, 5);
  pm = pc_policy_manager_new (dir, config, &error);
  g_assert_no_error (error);
  g_assert_null (pc_policy_manager_get_problems (pm)[0]);
  profiles = pc_policy_manager_list_profiles (pm);
  for (guint n = 1; n <= last; n++)
    {
      g_autofree char *id = g_strdup_printf ("app-%06u", n);
      g_autoptr (GVariant) p = pc_policy_manager_get_profile (pm, id, NULL);
      g_assert_nonnull (p);
      found++;
    }
  /* the value of the last acknowledged set, or of the one after it (written, not yet acked) */
  timeout = pc_policy_manager_get_global (pm, "prompt-timeout", &error);
  g_assert_true (g_variant_get_uint32 (timeout) == 1 + last % 3600
                 || g_variant_get_uint32 (timeout) == 1 + (last + 1) % 3600);
  g_test_message ("%u profiles acknowledged, %u present", last, found);
  rm_rf (dir);
}

static void
test_uncommitted_transaction_is_lost_whole (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *path = g_build_filename (dir, "policy.db", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) items = NULL;
  PcStore *store;
  pid_t pid;
  int status;

  pid = fork ();
  if (pid == 0)
    {
      store = pc_store_open (path, NULL, NULL);
      if (store == NULL || !pc_store_put (store, "test", "before", g_variant_new_uint32 (1), NULL)
          || !pc_store_begin (store, NULL)
          || !pc_store_put (store, "test", "a", g_variant_new_uint32 (2), NULL)
          || !pc_store_put (store, "test", "b", g_variant_new_uint32 (3), NULL))
        _exit (3);
      raise (SIGKILL);
    }
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFSIGNALED (status));
  store = pc_store_open (path, NULL, &error);
  g_assert_no_error (error);
  items = pc_store_load (store, "test", NULL, &error);
  g_assert_true (g_hash_table_contains (items, "before"));
  g_assert_false (g_hash_table_contains (items, "a"));
  g_assert_false (g_hash_table_contains (items, "b"));
  pc_store_free (store);
  rm_rf (dir);
}

static void
test_corrupt_file_moved_aside (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *path = g_build_filename (dir, "policy.db", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *problem = NULL;
  g_autoptr (PcStore) store = NULL;
  g_autoptr (GDir) d = NULL;
  const char *name;
  guint aside = 0;

  /* a real database first, then its middle overwritten */
  store = pc_store_open (path, NULL, &error);
  for (guint n = 0; n < 500; n++)
    {
      g_autofree char *id = g_strdup_printf ("k%u", n);
      g_assert_true (pc_store_put (store, "test", id, g_variant_new_string (id), &error));
    }
  g_clear_pointer (&store, pc_store_free);
  {
    FILE *fp = fopen (path, "r+");
    char junk[4096];
    memset (junk, 0xff, sizeof junk);
    g_assert_nonnull (fp);
    fseek (fp, 4096, SEEK_SET);
    fwrite (junk, 1, sizeof junk, fp);
    fseek (fp, 0, SEEK_SET);
    fwrite ("not sqlite at all", 1, 17, fp);
    fclose (fp);
  }
  g_test_expect_message ("portcullis-store", G_LOG_LEVEL_WARNING, "*is corrupt*moved aside*");
  store = pc_store_open (path, &problem, &error);
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  g_assert_nonnull (problem);
  g_assert_nonnull (strstr (problem, path));
  d = g_dir_open (dir, 0, NULL);
  while ((name = g_dir_read_name (d)) != NULL)
    aside += g_str_has_prefix (name, "policy.db.corrupt-") && !g_str_has_suffix (name, "-wal")
             && !g_str_has_suffix (name, "-shm");
  g_assert_cmpuint (aside, ==, 1);
  /* and the fresh one is empty and usable */
  {
    g_autoptr (GHashTable) items = pc_store_load (store, "test", NULL, &error);
    g_assert_cmpuint (g_hash_table_size (items), ==, 0);
    g_assert_true (pc_store_put (store, "test", "x", g_variant_new_boolean (TRUE), &error));
  }
  g_clear_pointer (&store, pc_store_free);
  rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/store/kill-during-burst", test_kill_during_burst);
  g_test_add_func ("/store/kill-manager-during-burst", test_kill_manager_during_burst);
  g_test_add_func ("/store/uncommitted-transaction", test_uncommitted_transaction_is_lost_whole);
  g_test_add_func ("/store/corrupt-file-moved-aside", test_corrupt_file_moved_aside);
  return g_test_run ();
}
