/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Profiles matched to real processes by every fingerprint kind: a copied binary at two paths,
 * a script run by two interpreters, a chrooted "flatpak" (busybox-static and .flatpak-info),
 * snap and AppImage environments, a systemd unit's cgroup, environment variables, command
 * lines, prefixes and globs;
 * the scoring order, deterministic ties, and automatic profiles named from .desktop files. */
#define G_LOG_DOMAIN "portcullis-test"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "attrib-testutil.h"
#include "pc-error.h"
#include "pc-policy-manager.h"

static char *client_path;
static char *tmpdir;

typedef struct
{
  char *state;
  PcPolicyManager *pm;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *config = g_build_filename (tmpdir, "config", NULL);
  const char *none[] = { NULL };

  f->state = g_dir_make_tmp ("pc-profile-state-XXXXXX", NULL);
  f->pm = pc_policy_manager_new (f->state, config, &error);
  g_assert_no_error (error);
  pc_policy_manager_set_application_dirs (f->pm, none);
}

static void
rm_rf (const char *path)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", path);
  g_assert_cmpint (system (cmd), ==, 0);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->pm);
  rm_rf (f->state);
  g_free (f->state);
}

static void
copy_executable (const char *from, const char *to)
{
  g_autoptr (GFile) src = g_file_new_for_path (from);
  g_autoptr (GFile) dst = g_file_new_for_path (to);
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_path_get_dirname (to);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_file_copy (src, dst, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (chmod (to, 0755), ==, 0);
}

static char *
create (Fixture *f, const char *name, const char *const *fps)
{
  g_autoptr (GError) error = NULL;
  GVariantBuilder b;
  char *id;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&b, "{sv}", "name", g_variant_new_string (name));
  g_variant_builder_add (&b, "{sv}", "fingerprints", g_variant_new_strv (fps, -1));
  id = pc_policy_manager_create_profile (f->pm, g_variant_builder_end (&b), &error);
  g_assert_no_error (error);
  return id;
}

static void delete (Fixture *f, const char *id)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (pc_policy_manager_delete_profile (f->pm, id, &error));
  g_assert_no_error (error);
}

/* The id of the profile the running child matches now, or NULL. */
static char *
match_child (Fixture *f, AttribChild *child)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PcProcess) p = pc_process_read (child->pid, &error);
  g_autoptr (PcPolicySnapshot) snap = pc_policy_manager_get_snapshot (f->pm);
  const PcProfile *profile;

  g_assert_no_error (error);
  profile = pc_policy_snapshot_match (snap, p, FALSE);
  return profile != NULL ? g_strdup (pc_profile_get_id (profile)) : NULL;
}

static void
assert_match (Fixture *f, AttribChild *child, const char *expected)
{
  g_autofree char *id = match_child (f, child);

  g_assert_cmpstr (id, ==, expected);
}

/* Spawns argv with extra environment variables (NAME, VALUE pairs) and waits for "ready". */
static AttribChild *
spawn (const char *const *argv, const char *const *extra_env)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) envp = g_get_environ ();
  AttribChild *c;

  for (guint i = 0; extra_env != NULL && extra_env[i] != NULL; i += 2)
    envp = g_environ_setenv (envp, extra_env[i], extra_env[i + 1], TRUE);
  c = attrib_child_spawn (argv, (const char *const *)envp, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (c->line, ==, "ready");
  return c;
}

static void
test_copies_at_two_paths (Fixture *f, gconstpointer data)
{
  g_autofree char *a = g_build_filename (tmpdir, "a", "pc-client", NULL);
  g_autofree char *b = g_build_filename (tmpdir, "b", "pc-client", NULL);
  g_autofree char *fp_a = g_strconcat ("path:", a, NULL);
  g_autofree char *fp_b = g_strconcat ("path:", b, NULL);
  g_autofree char *fp_prefix = g_strconcat ("path-prefix:", tmpdir, "/a/", NULL);
  g_autofree char *fp_glob = g_strconcat ("path-glob:", tmpdir, "/*/pc-client", NULL);
  const char *argv_a[] = { a, "wait", NULL };
  const char *argv_b[] = { b, "wait", NULL };
  const char *fps_a[] = { fp_a, NULL };
  const char *fps_b[] = { fp_b, NULL };
  const char *fps_prefix[] = { fp_prefix, NULL };
  const char *fps_glob[] = { fp_glob, NULL };
  const char *fps_both[] = { fp_a, fp_b, NULL };
  g_autoptr (AttribChild) ca = NULL;
  g_autoptr (AttribChild) cb = NULL;
  g_autofree char *id_a = NULL;
  g_autofree char *id_b = NULL;
  g_autofree char *id_prefix = NULL;
  g_autofree char *id_glob = NULL;
  g_autofree char *id_both = NULL;

  copy_executable (client_path, a);
  copy_executable (client_path, b);
  ca = spawn (argv_a, NULL);
  cb = spawn (argv_b, NULL);

  /* nothing matches yet */
  g_assert_null (match_child (f, ca));
  id_glob = create (f, "Glob", fps_glob);
  id_prefix = create (f, "Prefix", fps_prefix);
  id_a = create (f, "A", fps_a);
  id_b = create (f, "B", fps_b);
  /* exact path beats prefix beats glob */
  assert_match (f, ca, id_a);
  assert_match (f, cb, id_b);
  delete (f, id_a);
  assert_match (f, ca, id_prefix);
  delete (f, id_b);
  assert_match (f, cb, id_glob);
  /* one profile for both copies: alternatives of one kind */
  id_both = create (f, "Both", fps_both);
  assert_match (f, ca, id_both);
  assert_match (f, cb, id_both);
  attrib_child_finish (ca);
  attrib_child_finish (cb);
}

static void
test_script_two_interpreters (Fixture *f, gconstpointer data)
{
  g_autofree char *script = g_build_filename (tmpdir, "scripts", "run.sh", NULL);
  g_autofree char *dir = g_path_get_dirname (script);
  g_autofree char *fp_script = g_strconcat ("script:", script, NULL);
  g_autofree char *bash = realpath ("/bin/bash", NULL);
  g_autofree char *fp_bash = g_strconcat ("path:", bash, NULL);
  const char *argv_sh[] = { "/bin/sh", script, NULL };
  const char *argv_bash[] = { "/bin/bash", "--norc", script, NULL };
  const char *argv_inline[] = { "/bin/bash", "-c", "echo ready; read x || true", NULL };
  const char *fps_script[] = { fp_script, NULL };
  const char *fps_bash[] = { fp_bash, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (AttribChild) c1 = NULL;
  g_autoptr (AttribChild) c2 = NULL;
  g_autoptr (AttribChild) c3 = NULL;
  g_autofree char *id_script = NULL;
  g_autofree char *id_bash = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_file_set_contents (script, "echo ready\nread x || true\n", -1, &error);
  g_assert_no_error (error);
  id_bash = create (f, "Bash", fps_bash);
  id_script = create (f, "Run", fps_script);
  c1 = spawn (argv_sh, NULL);
  c2 = spawn (argv_bash, NULL);
  c3 = spawn (argv_inline, NULL);
  /* the script is the identity, whichever interpreter runs it; it beats the interpreter */
  assert_match (f, c1, id_script);
  assert_match (f, c2, id_script);
  /* inline code has no script: the interpreter's profile */
  assert_match (f, c3, id_bash);
  attrib_child_finish (c1);
  attrib_child_finish (c2);
  attrib_child_finish (c3);
}

static void
test_flatpak (Fixture *f, gconstpointer data)
{
  g_autofree char *root = g_build_filename (tmpdir, "flatpak-root", NULL);
  g_autofree char *bb = g_build_filename (root, "bin", "busybox", NULL);
  g_autofree char *info = g_build_filename (root, ".flatpak-info", NULL);
  g_autofree char *apps = g_build_filename (tmpdir, "apps-flatpak", NULL);
  g_autofree char *desktop = g_build_filename (apps, "org.example.App.desktop", NULL);
  g_autofree char *fp_path = g_strconcat ("path:", bb, NULL);
  const char *argv[] = { "/usr/sbin/chroot",           root, "/bin/busybox", "sh", "-c",
                         "echo ready; read x || true", NULL };
  const char *fps_path[] = { fp_path, NULL };
  const char *dirs[] = { apps, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (AttribChild) c = NULL;
  g_autoptr (PcProcess) p = NULL;
  g_autoptr (GVariant) profile = NULL;
  g_autofree char *id_path = NULL;
  g_autofree char *id = NULL;
  g_autofree char *again = NULL;
  const char *s;

  if (getuid () != 0)
    {
      g_test_skip ("chroot needs root");
      return;
    }
  if (!g_file_test ("/bin/busybox", G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("busybox-static is not installed");
      return;
    }
  copy_executable ("/bin/busybox", bb);
  g_file_set_contents (info, "[Application]\nname=org.example.App\n", -1, &error);
  g_assert_no_error (error);
  g_mkdir_with_parents (apps, 0755);
  g_file_set_contents (desktop,
                       "[Desktop Entry]\nType=Application\nName=Example App\n"
                       "Icon=org.example.App\nExec=/usr/bin/flatpak run org.example.App\n"
                       "X-Flatpak=org.example.App\n",
                       -1, &error);
  g_assert_no_error (error);
  pc_policy_manager_set_application_dirs (f->pm, dirs);

  c = spawn (argv, NULL);
  p = pc_process_read (c->pid, &error);
  g_assert_no_error (error);
  g_assert_cmpint (p->kind, ==, PC_APP_KIND_FLATPAK);
  /* a profile by the binary's path would match, but the flatpak id is the stronger identity */
  id_path = create (f, "Busybox", fps_path);
  assert_match (f, c, id_path);
  delete (f, id_path);
  id = pc_policy_manager_ensure_profile (f->pm, p);
  g_assert_cmpstr (id, ==, "example-app");
  profile = pc_policy_manager_get_profile (f->pm, id, &error);
  g_assert_true (g_variant_lookup (profile, "name", "&s", &s));
  g_assert_cmpstr (s, ==, "Example App");
  g_assert_true (g_variant_lookup (profile, "icon", "&s", &s));
  g_assert_cmpstr (s, ==, "org.example.App");
  {
    g_autofree const char **fps = NULL;
    g_assert_true (g_variant_lookup (profile, "fingerprints", "^a&s", &fps));
    g_assert_cmpstr (fps[0], ==, "flatpak:org.example.App");
  }
  g_free (id_path);
  id_path = create (f, "Busybox", fps_path);
  assert_match (f, c, id);
  again = pc_policy_manager_ensure_profile (f->pm, p);
  g_assert_cmpstr (again, ==, id);
  attrib_child_finish (c);
}

static void
test_snap_and_appimage (Fixture *f, gconstpointer data)
{
  const char *argv[] = { client_path, "wait", NULL };
  const char *env_snap[] = { "SNAP_NAME", "hello-snap", "SNAP", "/snap/hello-snap/42", NULL };
  const char *env_appimage[] = { "APPIMAGE", "/tmp/x/Foo.AppImage", NULL };
  const char *fps_snap[] = { "snap:hello-snap", NULL };
  const char *fps_appimage[] = { "appimage:/tmp/x/Foo.AppImage", NULL };
  g_autofree char *fp_client = g_strconcat ("path:", client_path, NULL);
  const char *fps_client[] = { fp_client, NULL };
  g_autoptr (AttribChild) snap = spawn (argv, env_snap);
  g_autoptr (AttribChild) appimage = spawn (argv, env_appimage);
  g_autoptr (AttribChild) plain = spawn (argv, NULL);
  g_autofree char *id_client = create (f, "Client", fps_client);
  g_autofree char *id_snap = create (f, "Hello", fps_snap);
  g_autofree char *id_appimage = create (f, "Foo", fps_appimage);

  assert_match (f, snap, id_snap);
  assert_match (f, appimage, id_appimage);
  assert_match (f, plain, id_client);
  /* an existing match is kept; without one, a profile named from the identity is made */
  delete (f, id_appimage);
  {
    g_autoptr (PcProcess) p = pc_process_read (appimage->pid, NULL);
    g_autofree char *id = pc_policy_manager_ensure_profile (f->pm, p);
    g_assert_cmpstr (id, ==, id_client);
  }
  delete (f, id_client);
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (PcProcess) p = pc_process_read (appimage->pid, &error);
    g_autofree char *id = pc_policy_manager_ensure_profile (f->pm, p);
    g_autoptr (GVariant) profile = pc_policy_manager_get_profile (f->pm, id, &error);
    const char *name;
    g_assert_true (g_variant_lookup (profile, "name", "&s", &name));
    g_assert_cmpstr (name, ==, "Foo.AppImage");
    assert_match (f, appimage, id);
  }
  attrib_child_finish (snap);
  attrib_child_finish (appimage);
  attrib_child_finish (plain);
}

static void
test_env_cmdline_scoring (Fixture *f, gconstpointer data)
{
  const char *argv_server[] = { client_path, "wait", "--server", NULL };
  const char *argv_plain[] = { client_path, "wait", NULL };
  const char *env_role[] = { "PC_TEST_ROLE", "server-1", NULL };
  g_autofree char *fp_client = g_strconcat ("path:", client_path, NULL);
  const char *fps_path[] = { fp_client, NULL };
  const char *fps_env[] = { fp_client, "env:PC_TEST_ROLE=server-*", NULL };
  const char *fps_cmd[] = { fp_client, "cmdline:* --server*", NULL };
  const char *fps_env_only[] = { "env:PC_TEST_ROLE", NULL };
  g_autoptr (AttribChild) both = spawn (argv_server, env_role);
  g_autoptr (AttribChild) server = spawn (argv_server, NULL);
  g_autoptr (AttribChild) plain = spawn (argv_plain, NULL);
  g_autoptr (AttribChild) role = spawn (argv_plain, env_role);
  g_autofree char *id_path = create (f, "Client", fps_path);
  g_autofree char *id_env = create (f, "Client server by env", fps_env);
  g_autofree char *id_cmd = create (f, "Client server by cmdline", fps_cmd);
  g_autofree char *id_env_only = NULL;
  g_autofree char *twin = NULL;

  /* env (400 + literals) beats cmdline (300 + literals) on top of the same path */
  assert_match (f, both, id_env);
  assert_match (f, server, id_cmd);
  assert_match (f, role, id_env);
  assert_match (f, plain, id_path);
  /* different kinds must all match: the env-only profile loses to path+env, beats nothing */
  id_env_only = create (f, "Any role", fps_env_only);
  assert_match (f, role, id_env);
  delete (f, id_path);
  delete (f, id_env);
  delete (f, id_cmd);
  assert_match (f, role, id_env_only);
  g_assert_null (match_child (f, plain));
  /* equal scores: the smaller id wins, whatever the creation order */
  twin = create (f, "A twin", fps_env_only);
  g_assert_cmpstr (twin, <, id_env_only);
  assert_match (f, role, twin);
  attrib_child_finish (both);
  attrib_child_finish (server);
  attrib_child_finish (plain);
  attrib_child_finish (role);
}

static void
test_desktop_naming (Fixture *f, gconstpointer data)
{
  g_autofree char *exe = g_build_filename (tmpdir, "opt", "viewer", "pc-viewer", NULL);
  g_autofree char *other = g_build_filename (tmpdir, "opt", "plain", "pc-plain", NULL);
  g_autofree char *apps = g_build_filename (tmpdir, "apps-native", NULL);
  g_autofree char *desktop = g_build_filename (apps, "viewer.desktop", NULL);
  g_autofree char *hidden = g_build_filename (apps, "aaa-hidden.desktop", NULL);
  g_autofree char *text = NULL;
  const char *argv[] = { exe, "wait", NULL };
  const char *argv_other[] = { other, "wait", NULL };
  const char *dirs[] = { "/nonexistent", apps, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (AttribChild) c = NULL;
  g_autoptr (AttribChild) c2 = NULL;
  g_autoptr (PcProcess) p = NULL;
  g_autoptr (PcProcess) p2 = NULL;
  g_autofree char *id = NULL;
  g_autofree char *id2 = NULL;
  g_autoptr (GVariant) profile = NULL;
  const char *s;

  copy_executable (client_path, exe);
  copy_executable (client_path, other);
  g_mkdir_with_parents (apps, 0755);
  text = g_strdup_printf ("[Desktop Entry]\nType=Application\nName=Picture Viewer\n"
                          "Icon=viewer-icon\nExec=env LANG=C \"%s\" %%U\n",
                          exe);
  g_file_set_contents (desktop, text, -1, &error);
  g_assert_no_error (error);
  g_file_set_contents (hidden,
                       "[Desktop Entry]\nType=Application\nName=Hidden\nHidden=true\n"
                       "Exec=pc-viewer\n",
                       -1, &error);
  pc_policy_manager_set_application_dirs (f->pm, dirs);

  c = spawn (argv, NULL);
  c2 = spawn (argv_other, NULL);
  p = pc_process_read (c->pid, &error);
  p2 = pc_process_read (c2->pid, &error);
  id = pc_policy_manager_ensure_profile (f->pm, p);
  g_assert_cmpstr (id, ==, "picture-viewer");
  profile = pc_policy_manager_get_profile (f->pm, id, &error);
  g_assert_true (g_variant_lookup (profile, "name", "&s", &s));
  g_assert_cmpstr (s, ==, "Picture Viewer");
  g_assert_true (g_variant_lookup (profile, "icon", "&s", &s));
  g_assert_cmpstr (s, ==, "viewer-icon");
  /* no desktop file: named after the executable */
  id2 = pc_policy_manager_ensure_profile (f->pm, p2);
  g_assert_cmpstr (id2, ==, "pc-plain");

  /* automatic profiles are stored like any other */
  g_clear_object (&f->pm);
  {
    g_autofree char *config = g_build_filename (tmpdir, "config", NULL);
    f->pm = pc_policy_manager_new (f->state, config, &error);
    g_assert_no_error (error);
    assert_match (f, c, id);
    assert_match (f, c2, id2);
  }
  attrib_child_finish (c);
  attrib_child_finish (c2);
}

static void
test_systemd_unit (Fixture *f, gconstpointer data)
{
  g_autofree char *cg2 = attrib_find_cgroup2_root ();
  g_autofree char *parent = NULL;
  g_autofree char *unit_dir = NULL;
  g_autofree char *fp_client = g_strconcat ("path:", client_path, NULL);
  const char *fps_path[] = { fp_client, NULL };
  const char *fps_unit[] = { "systemd-unit:demo.service", NULL };
  const char *plain_argv[] = { client_path, "wait", NULL };
  g_autofree char *id_path = NULL;
  g_autofree char *id_unit = NULL;
  g_autoptr (AttribChild) c = NULL;
  g_autoptr (AttribChild) plain = NULL;

  if (getuid () != 0 || cg2 == NULL)
    {
      g_test_skip ("needs root and a cgroup v2 hierarchy");
      return;
    }
  /* A child cgroup of our own, named like a service: never the machine's cgroups. */
  parent = g_strdup_printf ("%s/pc-profile-test-%08x", cg2, g_random_int ());
  unit_dir = g_build_filename (parent, "demo.service", NULL);
  g_assert_cmpint (g_mkdir (parent, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (unit_dir, 0755), ==, 0);
  {
    const char *argv[] = { client_path, "--cgroup", unit_dir, "wait", NULL };
    c = spawn (argv, NULL);
  }
  plain = spawn (plain_argv, NULL);
  id_path = create (f, "Client", fps_path);
  id_unit = create (f, "Demo service", fps_unit);
  /* the unit (800) beats the executable (700); outside the unit only the path matches */
  assert_match (f, c, id_unit);
  assert_match (f, plain, id_path);
  attrib_child_finish (c);
  attrib_child_finish (plain);
  g_assert_cmpint (g_rmdir (unit_dir), ==, 0);
  g_assert_cmpint (g_rmdir (parent), ==, 0);
}

static void
test_bad_fingerprints (Fixture *f, gconstpointer data)
{
  struct
  {
    const char *fp;
    const char *message;
  } cases[] = {
    { "curl", "fingerprint 'curl': expected KIND:VALUE" },
    { "exe:/usr/bin/curl", "fingerprint 'exe:/usr/bin/curl': unknown kind 'exe'" },
    { "path:usr/bin/curl", "'usr/bin/curl' is not an absolute path" },
    { "path:", "fingerprint 'path:': empty value" },
    { "env:=x", "empty variable name" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      const char *fps[] = { cases[i].fp, NULL };
      GVariantBuilder b;
      g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&b, "{sv}", "name", g_variant_new_string ("x"));
      g_variant_builder_add (&b, "{sv}", "fingerprints", g_variant_new_strv (fps, -1));
      g_assert_null (pc_policy_manager_create_profile (f->pm, g_variant_builder_end (&b), &error));
      g_assert_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS);
      g_assert_nonnull (strstr (error->message, cases[i].message));
    }
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  client_path = attrib_test_built_file ("attrib-client");
  tmpdir = g_dir_make_tmp ("pc-profile-XXXXXX", NULL);
  g_assert_nonnull (tmpdir);
  /* The chroot test runs busybox as root inside tmpdir; it must be traversable. */
  chmod (tmpdir, 0755);

#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/profile/copies-at-two-paths", test_copies_at_two_paths);
  ADD ("/profile/script-two-interpreters", test_script_two_interpreters);
  ADD ("/profile/flatpak", test_flatpak);
  ADD ("/profile/snap-and-appimage", test_snap_and_appimage);
  ADD ("/profile/env-cmdline-scoring", test_env_cmdline_scoring);
  ADD ("/profile/desktop-naming", test_desktop_naming);
  ADD ("/profile/systemd-unit", test_systemd_unit);
  ADD ("/profile/bad-fingerprints", test_bad_fingerprints);
#undef ADD
  ret = g_test_run ();
  rm_rf (tmpdir);
  return ret;
}
