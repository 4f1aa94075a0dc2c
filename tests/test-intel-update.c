/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Signed filter-list updates against a real HTTP server on 127.0.0.1 (a small HTTP/1.1 server
 * in a thread of this test, serving a directory, able to cut a file short): a good update and
 * its restart path, up to date, bad signature, tampered index, wrong sum, truncated file,
 * oversized file, server down, rollback, no trusted keys, and keys and signatures made by
 * build-aux/pc-sign-index. After every failure the last good data must still answer. */
#define G_LOG_DOMAIN "portcullis-intel"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <string.h>

#include "pc-error.h"
#include "pc-intel-update.h"
#include "pc-intel.h"

/* ---- a tiny HTTP server ------------------------------------------------------------------ */

typedef struct
{
  GSocket *listener;
  GCancellable *cancellable;
  GThread *thread;
  char *root;
  guint16 port;
  char *truncate_file; /* sent with its full Content-Length but only half the body */
  char *oversize_file; /* sent with extra bytes */
} Server;

static void
send_all (GSocket *conn, const char *data, gsize len)
{
  while (len > 0)
    {
      gssize n = g_socket_send (conn, data, len, NULL, NULL);

      if (n <= 0)
        return;
      data += n;
      len -= (gsize)n;
    }
}

static void
serve_one (Server *srv, GSocket *conn)
{
  char req[8192];
  gsize got = 0;
  g_autofree char *path = NULL;
  g_autofree char *body = NULL;
  g_autoptr (GString) head = g_string_new (NULL);
  gsize body_len = 0, send_len;

  while (got < sizeof req - 1)
    {
      gssize n = g_socket_receive (conn, req + got, sizeof req - 1 - got, NULL, NULL);

      if (n <= 0)
        return;
      got += (gsize)n;
      req[got] = '\0';
      if (strstr (req, "\r\n\r\n") != NULL)
        break;
    }
  if (g_str_has_prefix (req, "GET /"))
    {
      const char *p = req + 5;

      g_autofree char *full = g_strndup (p, strcspn (p, " ?"));

      /* served by file name: any base path works */
      path = g_path_get_basename (full);
    }
  if (path != NULL && strstr (path, "..") == NULL)
    {
      g_autofree char *file = g_build_filename (srv->root, path, NULL);

      g_file_get_contents (file, &body, &body_len, NULL);
    }
  if (body == NULL)
    {
      g_string_append (head,
                       "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      send_all (conn, head->str, head->len);
      return;
    }
  send_len = body_len;
  if (g_strcmp0 (path, srv->oversize_file) == 0)
    {
      g_autofree char *bigger = g_strconcat (body, "extra.example\n", NULL);

      g_free (body);
      body = g_steal_pointer (&bigger);
      body_len = send_len = strlen (body);
    }
  if (g_strcmp0 (path, srv->truncate_file) == 0)
    send_len = body_len / 2;
  g_string_append_printf (
      head,
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %" G_GSIZE_FORMAT
      "\r\nConnection: close\r\n\r\n",
      body_len);
  send_all (conn, head->str, head->len);
  send_all (conn, body, send_len);
}

static gpointer
server_thread (gpointer user_data)
{
  Server *srv = user_data;

  for (;;)
    {
      g_autoptr (GSocket) conn = g_socket_accept (srv->listener, srv->cancellable, NULL);

      if (conn == NULL)
        break;
      serve_one (srv, conn);
      g_socket_shutdown (conn, FALSE, TRUE, NULL);
      g_socket_close (conn, NULL);
    }
  return NULL;
}

/* Listens on 127.0.0.1 only, on a free port. */
static void
server_start (Server *srv, const char *root)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;

  memset (srv, 0, sizeof *srv);
  srv->root = g_strdup (root);
  srv->cancellable = g_cancellable_new ();
  srv->listener
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (srv->listener, addr, TRUE, &error));
  g_assert_true (g_socket_listen (srv->listener, &error));
  bound = g_socket_get_local_address (srv->listener, &error);
  g_assert_no_error (error);
  srv->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  srv->thread = g_thread_new ("http", server_thread, srv);
}

static void
server_stop (Server *srv)
{
  g_cancellable_cancel (srv->cancellable);
  g_thread_join (srv->thread);
  g_socket_close (srv->listener, NULL);
  g_clear_object (&srv->listener);
  g_clear_object (&srv->cancellable);
  g_clear_pointer (&srv->root, g_free);
  g_clear_pointer (&srv->truncate_file, g_free);
  g_clear_pointer (&srv->oversize_file, g_free);
}

/* ---- keys, lists and signatures -------------------------------------------------------- */

static gnutls_privkey_t
make_key (const char *pub_path)
{
  gnutls_privkey_t key;
  gnutls_pubkey_t pub;
  gnutls_datum_t pem = { NULL, 0 };
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (gnutls_privkey_init (&key), ==, 0);
  g_assert_cmpint (gnutls_privkey_generate (key, GNUTLS_PK_EDDSA_ED25519, 256, 0), ==, 0);
  g_assert_cmpint (gnutls_pubkey_init (&pub), ==, 0);
  g_assert_cmpint (gnutls_pubkey_import_privkey (pub, key, 0, 0), ==, 0);
  g_assert_cmpint (gnutls_pubkey_export2 (pub, GNUTLS_X509_FMT_PEM, &pem), ==, 0);
  if (pub_path != NULL)
    {
      g_file_set_contents (pub_path, (const char *)pem.data, pem.size, &error);
      g_assert_no_error (error);
    }
  gnutls_free (pem.data);
  gnutls_pubkey_deinit (pub);
  return key;
}

static void
write_file (const char *dir, const char *name, const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *p = g_build_filename (dir, name, NULL);

  g_file_set_contents (p, text, -1, &error);
  g_assert_no_error (error);
}

static char *
read_file (const char *dir, const char *name)
{
  g_autofree char *p = g_build_filename (dir, name, NULL);
  char *text = NULL;

  g_assert_true (g_file_get_contents (p, &text, NULL, NULL));
  return text;
}

static void
sign_index (const char *dir, gnutls_privkey_t key)
{
  g_autofree char *index = read_file (dir, "index.json");
  gnutls_datum_t data = { (unsigned char *)index, (unsigned int)strlen (index) };
  gnutls_datum_t sig = { NULL, 0 };
  g_autofree char *b64 = NULL;
  g_autofree char *line = NULL;

  g_assert_cmpint (gnutls_privkey_sign_data2 (key, GNUTLS_SIGN_EDDSA_ED25519, 0, &data, &sig), ==,
                   0);
  b64 = g_base64_encode (sig.data, sig.size);
  line = g_strconcat (b64, "\n", NULL);
  write_file (dir, "index.json.sig", line);
  gnutls_free (sig.data);
}

/* Publishes one MAL list holding `domains` under serial, signed with key. */
static void
publish (const char *dir, gint64 serial, const char *domains, gnutls_privkey_t key)
{
  g_autofree char *sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, domains, -1);
  g_autofree char *index = g_strdup_printf (
      "{\"version\": 1, \"serial\": %" G_GINT64_FORMAT ", \"lists\": [{\"id\": \"mal\", "
      "\"file\": \"mal.txt\", \"format\": \"domains\", \"categories\": [\"MAL\"], \"size\": %zu, "
      "\"sha256\": \"%s\"}]}\n",
      serial, strlen (domains), sum);

  write_file (dir, "mal.txt", domains);
  write_file (dir, "index.json", index);
  sign_index (dir, key);
}

typedef struct
{
  char *tmp;
  char *keys;
  char *served;
  char *state;
  char *url;
  Server server;
  gnutls_privkey_t trusted;
  gnutls_privkey_t untrusted;
  PcIntel *intel;
  PcIntelUpdater *updater;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *pub = NULL;

  f->tmp = g_dir_make_tmp ("test-intel-update-XXXXXX", &error);
  g_assert_no_error (error);
  f->keys = g_build_filename (f->tmp, "keys", NULL);
  f->served = g_build_filename (f->tmp, "served", NULL);
  f->state = g_build_filename (f->tmp, "state", NULL);
  g_assert_cmpint (g_mkdir (f->keys, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (f->served, 0755), ==, 0);
  pub = g_build_filename (f->keys, "test.pub", NULL);
  f->trusted = make_key (pub);
  f->untrusted = make_key (NULL);
  server_start (&f->server, f->served);
  f->url = g_strdup_printf ("http://127.0.0.1:%u/lists/", f->server.port);
  /* the server serves by file name only, so any base path works */
  f->intel = pc_intel_new ();
  f->updater = pc_intel_updater_new (f->intel, f->url, f->keys, f->state);

  /* a first good update: the "last good data" every failure must keep */
  publish (f->served, 5, "old.example\n", f->trusted);
  g_assert_true (pc_intel_updater_update_sync (f->updater, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (pc_intel_match (f->intel, "MAL", "old.example", NULL, NULL));
}

static void
rm_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *p = g_build_filename (path, name, NULL);

      if (g_file_test (p, G_FILE_TEST_IS_DIR) && !g_file_test (p, G_FILE_TEST_IS_SYMLINK))
        rm_tree (p);
      else
        g_unlink (p);
    }
  g_rmdir (path);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->updater);
  g_clear_object (&f->intel);
  server_stop (&f->server);
  gnutls_privkey_deinit (f->trusted);
  gnutls_privkey_deinit (f->untrusted);
  rm_tree (f->tmp);
  g_free (f->tmp);
  g_free (f->keys);
  g_free (f->served);
  g_free (f->state);
  g_free (f->url);
}

/* The update failed, said why (message contains `says`), and nothing changed. */
static void
assert_failed_and_kept_by (Fixture *f, PcIntelUpdater *updater, GError *error, const char *says)
{
  g_autoptr (GVariant) status = pc_intel_dup_status (f->intel);
  g_autoptr (GVariant) ustatus = pc_intel_updater_dup_status (updater);
  const char *last_error = NULL, *last_result = NULL;
  g_autoptr (GDir) dir = g_dir_open (f->state, 0, NULL);
  const char *name;
  guint n_data_dirs = 0;

  g_assert_nonnull (error);
  if (strstr (error->message, says) == NULL)
    g_error ("error '%s' does not say '%s'", error->message, says);
  g_assert_true (pc_intel_match (f->intel, "MAL", "old.example", NULL, NULL));
  g_assert_false (pc_intel_match (f->intel, "MAL", "new.example", NULL, NULL));
  g_assert_cmpint (pc_intel_get_serial (f->intel), ==, 5);
  g_assert_true (g_variant_lookup (status, "last-error", "&s", &last_error));
  g_assert_nonnull (strstr (last_error, says));
  g_assert_true (g_variant_lookup (ustatus, "last-result", "&s", &last_result));
  g_assert_nonnull (strstr (last_result, says));
  /* no download left behind; only the installed data */
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_assert_false (g_str_has_prefix (name, ".download-"));
      n_data_dirs += g_str_has_prefix (name, "lists-");
    }
  g_assert_cmpuint (n_data_dirs, ==, 1);
}

static void
assert_failed_and_kept (Fixture *f, GError *error, const char *says)
{
  assert_failed_and_kept_by (f, f->updater, error, says);
}

static void
test_good (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PcIntel) intel2 = NULL;
  g_autoptr (PcIntelUpdater) updater2 = NULL;
  g_autoptr (GVariant) status = NULL;
  g_autofree char *link = g_build_filename (f->state, "lists", NULL);
  const char *result = NULL;
  gboolean updated = TRUE;

  /* nothing new */
  g_assert_true (pc_intel_updater_update_sync (f->updater, &updated, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (updated);

  publish (f->served, 6, "new.example\n", f->trusted);
  g_assert_true (pc_intel_updater_update_sync (f->updater, &updated, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (updated);
  g_assert_true (pc_intel_match (f->intel, "MAL", "x.new.example", NULL, NULL));
  g_assert_false (pc_intel_match (f->intel, "MAL", "old.example", NULL, NULL));
  g_assert_cmpint (pc_intel_get_serial (f->intel), ==, 6);
  g_assert_true (g_file_test (link, G_FILE_TEST_IS_SYMLINK));
  status = pc_intel_updater_dup_status (f->updater);
  g_assert_true (g_variant_lookup (status, "last-result", "&s", &result));
  g_assert_cmpstr (result, ==, "updated to serial 6");

  /* after a restart, the installed update is verified and loaded */
  intel2 = pc_intel_new ();
  updater2 = pc_intel_updater_new (intel2, f->url, f->keys, f->state);
  g_assert_true (pc_intel_updater_load_installed (updater2, &error));
  g_assert_no_error (error);
  g_assert_true (pc_intel_match (intel2, "MAL", "new.example", NULL, NULL));

  /* ... and refused when the installed index was altered */
  {
    g_autofree char *index = read_file (link, "index.json");
    g_autofree char *changed = g_strdup (index);

    changed[strlen (changed) - 1] = ' ';
    write_file (link, "index.json", changed);
    g_assert_false (pc_intel_updater_load_installed (updater2, &error));
    g_assert_error (error, PC_ERROR, PC_ERROR_ACCESS_DENIED);
  }
}

static void
async_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **)user_data = g_object_ref (result);
}

static void
test_async (Fixture *f, gconstpointer data)
{
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  gboolean updated = FALSE;

  publish (f->served, 9, "new.example\n", f->trusted);
  pc_intel_updater_update_async (f->updater, NULL, async_done_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (pc_intel_updater_update_finish (f->updater, result, &updated, &error));
  g_assert_no_error (error);
  g_assert_true (updated);
  g_assert_cmpint (pc_intel_get_serial (f->intel), ==, 9);
  g_assert_true (pc_intel_match (f->intel, "MAL", "new.example", NULL, NULL));
  g_assert_true (pc_intel_updater_update_sync (f->updater, &updated, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (updated);
}

static gboolean
schedule_timeout_cb (gpointer user_data)
{
  g_error ("the scheduled update did not happen within 20 s");
  return G_SOURCE_REMOVE;
}

/* pc_intel_updater_set_interval(): updates come by themselves, from the main context */
static void
test_schedule (Fixture *f, gconstpointer data)
{
  guint guard = g_timeout_add_seconds (20, schedule_timeout_cb, NULL);

  publish (f->served, 7, "new.example\n", f->trusted);
  pc_intel_updater_set_interval (f->updater, 1);
  while (pc_intel_get_serial (f->intel) != 7)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (pc_intel_match (f->intel, "MAL", "new.example", NULL, NULL));
  pc_intel_updater_set_interval (f->updater, 0);
  /* let the finished task report back before the fixture goes */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  while (TRUE)
    {
      g_autoptr (GVariant) status = pc_intel_updater_dup_status (f->updater);
      gboolean running = TRUE;

      g_variant_lookup (status, "running", "b", &running);
      if (!running)
        break;
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (guard);
}

static void
test_bad_signature (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  publish (f->served, 6, "new.example\n", f->untrusted);
  g_assert_false (pc_intel_updater_update_sync (f->updater, NULL, NULL, &error));
  g_assert_error (error, PC_ERROR, PC_ERROR_ACCESS_DENIED);
  assert_failed_and_kept (f, error, "bad signature");
}

static void
test_tampered_index (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *index = NULL;

  publish (f->served, 6, "new.example\n", f->trusted);
  index = read_file (f->served, "index.json");
  {
    /* the serial 6 -> 7: a valid index, but not the one that was signed */
    char *six = strstr (index, "\"serial\": 6");

    g_assert_nonnull (six);
    six[10] = '7';
  }
  write_file (f->served, "index.json", index);
  g_assert_false (pc_intel_updater_update_sync (f->updater, NULL, NULL, &error));
  assert_failed_and_kept (f, error, "bad signature");

  /* and a signature that is not even base64 */
  g_clear_error (&error);
  write_file (f->served, "index.json.sig", "this is not a signature\n");
  g_assert_false (pc_intel_updater_update_sync (f->updater, NULL, NULL, &error));
  assert_failed_and_kept (f, error, "not base64");
}

static void
test_wrong_sum (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  publish (f->served, 6, "new.example\n", f->trusted);
  write_file (f->served, "mal.txt", "bad.example\n"); /* same size, other bytes */
  g_assert_false (pc_intel_updater_update_sync (f->updater, NULL, NULL, &error));
  g_assert_error (error, PC_ERROR, PC_ERROR_CORRUPT);
  assert_failed_and_kept (f, error, "sha256");
}

static void
test_truncated (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  publish (f->served, 6, "new.example\nmore.example\neven-more.example\n", f->trusted);
  f->server.truncate_file = g_strdup ("mal.txt");
  g_assert_false (pc_intel_updater_update_sync (f->updater, NULL, NULL, &error));
  /* curl: "transfer closed with N bytes remaining to read" */
  assert_failed_and_kept (f, error, "mal.txt");
}

static void
test_oversized (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  publish (f->served, 6, "new.example\n", f->trusted);
  f->server.oversize_file = g_strdup ("mal.txt");
  g_assert_false (pc_intel_updater_update_sync (f->updater, NULL, NULL, &error));
  g_assert_error (error, PC_ERROR, PC_ERROR_LIMIT);
  assert_failed_and_kept (f, error, "more than the 12 bytes");
}

static void
test_server_down (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PcIntelUpdater) down = NULL;
  g_autofree char *url = NULL;
  guint16 port;

  /* a port nobody listens on: bind one, note it, close it */
  {
    g_autoptr (GSocket) s
        = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
    g_autoptr (GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
    g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (lo, 0);
    g_autoptr (GSocketAddress) bound = NULL;

    g_assert_true (g_socket_bind (s, addr, TRUE, NULL));
    bound = g_socket_get_local_address (s, NULL);
    port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
    g_socket_close (s, NULL);
  }
  url = g_strdup_printf ("http://127.0.0.1:%u/", port);
  down = pc_intel_updater_new (f->intel, url, f->keys, f->state);
  publish (f->served, 6, "new.example\n", f->trusted);
  g_assert_false (pc_intel_updater_update_sync (down, NULL, NULL, &error));
  g_assert_error (error, PC_ERROR, PC_ERROR_UNAVAILABLE);
  assert_failed_and_kept_by (f, down, error, "index.json");

  /* and a server that answers 404 */
  g_clear_error (&error);
  {
    g_autofree char *p = g_build_filename (f->served, "mal.txt", NULL);

    g_unlink (p);
  }
  g_assert_false (pc_intel_updater_update_sync (f->updater, NULL, NULL, &error));
  assert_failed_and_kept (f, error, "404");
}

static void
test_rollback (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  publish (f->served, 4, "new.example\n", f->trusted);
  g_assert_false (pc_intel_updater_update_sync (f->updater, NULL, NULL, &error));
  assert_failed_and_kept (f, error, "refusing a rollback");
}

static void
test_no_keys (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *pub = g_build_filename (f->keys, "test.pub", NULL);

  g_assert_cmpint (g_unlink (pub), ==, 0);
  publish (f->served, 6, "new.example\n", f->trusted);
  g_assert_false (pc_intel_updater_update_sync (f->updater, NULL, NULL, &error));
  assert_failed_and_kept (f, error, "no trusted keys");
}

/* build-aux/pc-sign-index: keys, index and signature made by the tool (GnuTLS through ctypes) */
static void
test_sign_tool (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *tool = g_build_filename (PC_SOURCE_DIR, "build-aux", "pc-sign-index", NULL);
  g_autofree char *name = g_build_filename (f->tmp, "tool", NULL);
  g_autofree char *key = g_strconcat (name, ".key", NULL);
  g_autofree char *pub = g_strconcat (name, ".pub", NULL);
  g_autofree char *trusted = g_build_filename (f->keys, "tool.pub", NULL);
  g_autofree char *old_pub = g_build_filename (f->keys, "test.pub", NULL);
  g_autofree char *pub_text = NULL;
  const char *steps[][5] = {
    { tool, "keygen", name, NULL },
    { tool, "index", f->served, "--serial", "8" },
    { tool, "sign", f->served, key, NULL },
  };

  g_autofree char *served_index = g_build_filename (f->served, "index.json", NULL);
  g_autofree char *served_sig = g_build_filename (f->served, "index.json.sig", NULL);

  g_unlink (served_index);
  g_unlink (served_sig);
  write_file (f->served, "mal.txt", "# by the tool\nnew.example\n");
  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    {
      int status = 0;
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      const char *argv[7]
          = { "python3", steps[i][0], steps[i][1], steps[i][2], steps[i][3], steps[i][4], NULL };

      g_assert_true (g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                                   &err, &status, &error));
      g_assert_no_error (error);
      if (!g_spawn_check_wait_status (status, NULL))
        g_error ("pc-sign-index %s failed: %s%s", steps[i][1], out, err);
    }
  /* the tool names the list after its file and its category after the name: MAL */
  g_assert_true (g_file_get_contents (pub, &pub_text, NULL, NULL));
  write_file (f->keys, "tool.pub", pub_text);
  g_assert_cmpint (g_unlink (old_pub), ==, 0);
  g_assert_true (pc_intel_updater_update_sync (f->updater, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (pc_intel_match (f->intel, "MAL", "new.example", NULL, NULL));
  g_assert_cmpint (pc_intel_get_serial (f->intel), ==, 8);
  g_unlink (key);
  g_unlink (pub);
  g_unlink (trusted);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* failed updates are reported with g_warning(), which these tests provoke on purpose */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  gnutls_global_init ();
#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/intel-update/good", test_good);
  ADD ("/intel-update/async", test_async);
  ADD ("/intel-update/schedule", test_schedule);
  ADD ("/intel-update/bad-signature", test_bad_signature);
  ADD ("/intel-update/tampered-index", test_tampered_index);
  ADD ("/intel-update/wrong-sum", test_wrong_sum);
  ADD ("/intel-update/truncated", test_truncated);
  ADD ("/intel-update/oversized", test_oversized);
  ADD ("/intel-update/server-down", test_server_down);
  ADD ("/intel-update/rollback", test_rollback);
  ADD ("/intel-update/no-keys", test_no_keys);
  ADD ("/intel-update/sign-tool", test_sign_tool);
#undef ADD
  return g_test_run ();
}
