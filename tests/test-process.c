/* SPDX-License-Identifier: GPL-3.0-or-later */
/* pc_process_read() against real processes: copies of a binary, scripts under several
 * interpreters, AppImage/snap environments, a chrooted "flatpak", argv with spaces. */
#define G_LOG_DOMAIN "portcullis-attrib"

#include <errno.h>
#include <signal.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attrib-testutil.h"
#include "pc-cgroup.h"
#include "pc-process.h"

static char *client_path;
static char *tmpdir;

static char *
realpath_dup (const char *path)
{
  char *r = realpath (path, NULL);
  g_assert_nonnull (r);
  return r;
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

static PcProcess *
read_child (AttribChild *child)
{
  g_autoptr (GError) error = NULL;
  PcProcess *p = pc_process_read (child->pid, &error);

  g_assert_no_error (error);
  g_assert_nonnull (p);
  g_assert_cmpint (p->pid, ==, child->pid);
  g_assert_cmpint (p->ppid, ==, getpid ());
  g_assert_cmpuint (p->start_time, >, 0);
  g_assert_nonnull (p->app_id);
  return p;
}

static void
test_native_copies (void)
{
  g_autofree char *a = g_build_filename (tmpdir, "a", "pc-client", NULL);
  g_autofree char *b = g_build_filename (tmpdir, "b", "pc-client", NULL);
  const char *argv_a[] = { a, "wait", NULL };
  const char *argv_b[] = { b, "wait", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (AttribChild) ca = NULL;
  g_autoptr (AttribChild) cb = NULL;
  g_autoptr (PcProcess) pa = NULL;
  g_autoptr (PcProcess) pb = NULL;

  copy_executable (client_path, a);
  copy_executable (client_path, b);
  ca = attrib_child_spawn (argv_a, NULL, NULL, &error);
  g_assert_no_error (error);
  cb = attrib_child_spawn (argv_b, NULL, NULL, &error);
  g_assert_no_error (error);

  pa = read_child (ca);
  pb = read_child (cb);
  g_assert_cmpstr (pa->exe, ==, a);
  g_assert_cmpstr (pb->exe, ==, b);
  g_assert_cmpint (pa->kind, ==, PC_APP_KIND_NATIVE);
  g_assert_cmpstr (pa->app_id, ==, a);
  g_assert_cmpstr (pb->app_id, ==, b);
  g_assert_cmpstr (pa->comm, ==, "pc-client");
  g_assert_cmpuint (pa->uid, ==, getuid ());
  g_assert_null (pa->interpreter);
  g_assert_nonnull (pa->cgroup);
  g_assert_cmpstr (pc_app_kind_to_string (pa->kind), ==, "native");

  g_assert_cmpint (attrib_child_finish (ca), ==, 0);
  g_assert_cmpint (attrib_child_finish (cb), ==, 0);
}

static void
test_deleted_exe (void)
{
  g_autofree char *path = g_build_filename (tmpdir, "del", "pc-client", NULL);
  const char *argv[] = { path, "wait", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (AttribChild) c = NULL;
  g_autoptr (PcProcess) p = NULL;

  copy_executable (client_path, path);
  c = attrib_child_spawn (argv, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_unlink (path), ==, 0);
  p = read_child (c);
  g_assert_cmpstr (p->exe, ==, path);
  attrib_child_finish (c);
}

static void
test_argv_spaces (void)
{
  const char *argv[] = { client_path, "wait", "hello world", "a  b", "", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (AttribChild) c = attrib_child_spawn (argv, NULL, NULL, &error);
  g_autoptr (PcProcess) p = NULL;
  g_autofree char *expected = NULL;

  g_assert_no_error (error);
  p = read_child (c);
  g_assert_cmpuint (g_strv_length (p->argv), ==, 5);
  g_assert_cmpstr (p->argv[0], ==, client_path);
  g_assert_cmpstr (p->argv[2], ==, "hello world");
  g_assert_cmpstr (p->argv[3], ==, "a  b");
  g_assert_cmpstr (p->argv[4], ==, "");
  expected = g_strdup_printf ("%s wait hello world a  b ", client_path);
  g_assert_cmpstr (p->cmdline, ==, expected);
  attrib_child_finish (c);
}

static char *
write_script (const char *name, const char *content)
{
  char *path = g_build_filename (tmpdir, "scripts", name, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_file_set_contents (path, content, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (chmod (path, 0755), ==, 0);
  return path;
}

/* Runs argv in cwd and checks the process is identified as script_path run by interpreter. */
static void
check_script (const char *const *argv,
              const char *cwd,
              const char *script_path,
              const char *interpreter)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (AttribChild) c = attrib_child_spawn (argv, NULL, cwd, &error);
  g_autoptr (PcProcess) p = NULL;
  g_autofree char *real_interp = realpath_dup (interpreter);

  g_assert_no_error (error);
  g_assert_cmpstr (c->line, ==, "ready");
  p = read_child (c);
  g_assert_cmpstr (p->exe, ==, real_interp);
  g_assert_cmpint (p->kind, ==, PC_APP_KIND_SCRIPT);
  g_assert_cmpstr (p->app_id, ==, script_path);
  g_assert_cmpstr (p->interpreter, ==, real_interp);
  g_assert_cmpint (attrib_child_finish (c), ==, 0);
}

static void
test_shell_scripts (void)
{
  /* "read" is a builtin: the shell itself stays the process that runs the script. */
  g_autofree char *script = write_script ("run.sh", "echo ready\nread x || true\n");
  g_autofree char *dir = g_path_get_dirname (script);
  const char *sh_rel[] = { "/bin/sh", "./run.sh", NULL };
  const char *bash_abs[] = { "/bin/bash", "--norc", "-e", script, "arg", NULL };
  const char *bash_opt[] = { "/bin/bash", "-o", "pipefail", "run.sh", NULL };

  check_script (sh_rel, dir, script, "/bin/sh");
  check_script (bash_abs, "/", script, "/bin/bash");
  check_script (bash_opt, dir, script, "/bin/bash");
}

static void
test_shell_inline_is_native (void)
{
  const char *argv[] = { "/bin/sh", "-c", "echo ready; read x || true", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (AttribChild) c = attrib_child_spawn (argv, NULL, NULL, &error);
  g_autoptr (PcProcess) p = NULL;
  g_autofree char *sh = realpath_dup ("/bin/sh");

  g_assert_no_error (error);
  p = read_child (c);
  /* Inline code has no script file to name: the interpreter is the identity. */
  g_assert_cmpint (p->kind, ==, PC_APP_KIND_NATIVE);
  g_assert_cmpstr (p->app_id, ==, sh);
  attrib_child_finish (c);
}

static void
test_python (void)
{
  g_autofree char *script
      = write_script ("tool.py", "import sys\nprint('ready', flush=True)\nsys.stdin.read()\n");
  g_autofree char *dir = g_path_get_dirname (script);
  g_autofree char *mod = write_script (
      "pcattribmod.py", "import sys\nprint('ready', flush=True)\nsys.stdin.read()\n");
  const char *argv[] = { "/usr/bin/python3", "-u", "-W", "ignore", "tool.py", "--flag", NULL };
  const char *argv_m[] = { "/usr/bin/python3", "-m", "pcattribmod", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (AttribChild) c = NULL;
  g_autoptr (PcProcess) p = NULL;
  g_autofree char *real_py = NULL;
  g_autofree char *expected = NULL;

  if (!g_file_test ("/usr/bin/python3", G_FILE_TEST_IS_EXECUTABLE))
    {
      g_test_skip ("/usr/bin/python3 is not installed");
      return;
    }
  check_script (argv, dir, script, "/usr/bin/python3");

  real_py = realpath_dup ("/usr/bin/python3");
  c = attrib_child_spawn (argv_m, NULL, dir, &error);
  g_assert_no_error (error);
  p = read_child (c);
  g_assert_cmpint (p->kind, ==, PC_APP_KIND_SCRIPT);
  expected = g_strdup_printf ("%s -m pcattribmod", strrchr (real_py, '/') + 1);
  g_assert_cmpstr (p->app_id, ==, expected);
  g_assert_cmpstr (p->interpreter, ==, real_py);
  attrib_child_finish (c);
  (void)mod;
}

static PcProcess *
read_client_with_env (const char *const *extra_env, AttribChild **child_out)
{
  const char *argv[] = { client_path, "wait", NULL };
  g_auto (GStrv) envp = g_get_environ ();
  g_autoptr (GError) error = NULL;
  AttribChild *c;

  for (guint i = 0; extra_env[i] != NULL; i += 2)
    envp = g_environ_setenv (envp, extra_env[i], extra_env[i + 1], TRUE);
  c = attrib_child_spawn (argv, (const char *const *)envp, NULL, &error);
  g_assert_no_error (error);
  *child_out = c;
  return read_child (c);
}

static void
test_appimage (void)
{
  const char *env[] = { "APPIMAGE", "/tmp/x/Foo.AppImage", NULL };
  const char *env_lower[] = { "APPIMAGE", "/opt/Bar.appimage", NULL };
  const char *env_other[] = { "APPIMAGE", "/opt/not-an-image", NULL };
  g_autoptr (AttribChild) c = NULL;
  g_autoptr (PcProcess) p = read_client_with_env (env, &c);

  g_assert_cmpint (p->kind, ==, PC_APP_KIND_APPIMAGE);
  g_assert_cmpstr (p->app_id, ==, "/tmp/x/Foo.AppImage");
  g_assert_cmpstr (p->exe, ==, client_path);
  attrib_child_finish (c);
  g_clear_pointer (&c, attrib_child_free);
  g_clear_pointer (&p, pc_process_unref);

  p = read_client_with_env (env_lower, &c);
  g_assert_cmpint (p->kind, ==, PC_APP_KIND_APPIMAGE);
  g_assert_cmpstr (p->app_id, ==, "/opt/Bar.appimage");
  attrib_child_finish (c);
  g_clear_pointer (&c, attrib_child_free);
  g_clear_pointer (&p, pc_process_unref);

  /* Not an .AppImage path and not running from an AppImage mount: just a native program. */
  p = read_client_with_env (env_other, &c);
  g_assert_cmpint (p->kind, ==, PC_APP_KIND_NATIVE);
  g_assert_cmpstr (p->app_id, ==, client_path);
  attrib_child_finish (c);
}

static void
test_snap (void)
{
  const char *env[] = { "SNAP_NAME", "hello-snap", "SNAP", "/snap/hello-snap/42", NULL };
  g_autoptr (AttribChild) c = NULL;
  g_autoptr (PcProcess) p = read_client_with_env (env, &c);

  g_assert_cmpint (p->kind, ==, PC_APP_KIND_SNAP);
  g_assert_cmpstr (p->app_id, ==, "hello-snap");
  g_assert_cmpstr (pc_app_kind_to_string (p->kind), ==, "snap");
  attrib_child_finish (c);
}

static void
test_flatpak (void)
{
  g_autofree char *root = g_build_filename (tmpdir, "flatpak-root", NULL);
  g_autofree char *bb = g_build_filename (root, "bin", "busybox", NULL);
  g_autofree char *info = g_build_filename (root, ".flatpak-info", NULL);
  const char *argv[] = { "/usr/sbin/chroot",           root, "/bin/busybox", "sh", "-c",
                         "echo ready; read x || true", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (AttribChild) c = NULL;
  g_autoptr (PcProcess) p = NULL;

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
  g_file_set_contents (info,
                       "[Application]\nname=org.example.App\nruntime=runtime/org.example.Platform/"
                       "x86_64/1\n\n[Instance]\ninstance-id=1\n",
                       -1, &error);
  g_assert_no_error (error);

  c = attrib_child_spawn (argv, NULL, NULL, &error);
  g_assert_no_error (error);
  p = read_child (c);
  g_assert_cmpint (p->kind, ==, PC_APP_KIND_FLATPAK);
  g_assert_cmpstr (p->app_id, ==, "org.example.App");
  g_assert_cmpstr (p->exe, ==, bb);
  attrib_child_finish (c);
}

static void
test_cgroup_unit (void)
{
  g_autofree char *cg2 = attrib_find_cgroup2_root ();
  g_autofree char *parent = NULL;
  g_autofree char *unit_dir = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *cgroup_arg = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (AttribChild) c = NULL;
  g_autoptr (PcProcess) p = NULL;

  if (getuid () != 0 || cg2 == NULL)
    {
      g_test_skip ("needs root and a cgroup v2 hierarchy");
      return;
    }
  parent = g_strdup_printf ("%s/pc-process-test-%08x", cg2, g_random_int ());
  unit_dir = g_build_filename (parent, "demo.service", NULL);
  g_assert_cmpint (g_mkdir (parent, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (unit_dir, 0755), ==, 0);
  {
    const char *argv[] = { client_path, "--cgroup", unit_dir, "wait", NULL };
    c = attrib_child_spawn (argv, NULL, NULL, &error);
  }
  g_assert_no_error (error);
  p = read_child (c);
  expected = g_strdup_printf ("/%s/demo.service", strrchr (parent, '/') + 1);
  g_assert_cmpstr (p->cgroup, ==, expected);
  g_assert_cmpstr (p->systemd_unit, ==, "demo.service");
  attrib_child_finish (c);
  g_assert_cmpint (g_rmdir (unit_dir), ==, 0);
  g_assert_cmpint (g_rmdir (parent), ==, 0);
}

static void
test_gone (void)
{
  const char *argv[] = { client_path, "wait", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (AttribChild) c = attrib_child_spawn (argv, NULL, NULL, &error);
  g_autoptr (PcProcess) p = NULL;
  pid_t pid;

  g_assert_no_error (error);
  pid = c->pid;
  attrib_child_finish (c);
  p = pc_process_read (pid, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_null (p);
}

/* A pid that calls exec keeps its start time; its arguments move (what the attribution
 * cache checks without BPF), and a forked record copies its parent's identity. */
static void
test_exec_marks (void)
{
  g_autoptr (PcProcess) before = NULL;
  g_autoptr (PcProcess) after = NULL;
  g_autoptr (PcProcess) forked = NULL;
  guint64 start1, arg1, start2 = 0, arg2 = 0;
  int go[2];
  pid_t pid;
  char c = 'x';

  g_assert_cmpint (pipe (go), ==, 0);
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      close (go[1]);
      if (read (go[0], &c, 1) == 1)
        execl ("/bin/sleep", "sleep", "5", (char *)NULL);
      _exit (1);
    }
  close (go[0]);
  before = pc_process_read (pid, NULL);
  g_assert_nonnull (before);
  g_assert_true (pc_process_read_marks (pid, &start1, &arg1));
  g_assert_cmpuint (start1, ==, before->start_time);
  g_assert_cmpuint (arg1, ==, before->arg_start);
  g_assert_cmpuint (arg1, !=, 0);

  forked = pc_process_new_forked (before, 4242, 1000, "worker", 77);
  g_assert_cmpint (forked->pid, ==, 4242);
  g_assert_cmpint (forked->ppid, ==, pid);
  g_assert_cmpint (forked->uid, ==, 1000);
  g_assert_cmpstr (forked->comm, ==, "worker");
  g_assert_cmpstr (forked->exe, ==, before->exe);
  g_assert_cmpstr (forked->cmdline, ==, before->cmdline);
  g_assert_cmpstr (forked->app_id, ==, before->app_id);
  g_assert_cmpint (forked->kind, ==, before->kind);

  /* the cgroup id (from the pidfd, or before Linux 6.13 from the path) is the inode number of
   * the cgroup's directory, which is what the BPF hooks report */
  {
    g_autofree char *root = pc_cgroup2_find_root ();
    g_autofree char *dir = NULL;
    struct stat st;

    g_assert_nonnull (root);
    g_assert_nonnull (before->cgroup);
    dir = g_build_filename (root, before->cgroup, NULL);
    g_assert_cmpint (stat (dir, &st), ==, 0);
    g_assert_cmpuint (before->cgroup_id, ==, st.st_ino);
  }

  g_assert_cmpint (write (go[1], &c, 1), ==, 1);
  close (go[1]);
  for (int i = 0; i < 500; i++)
    {
      g_clear_pointer (&after, pc_process_unref);
      after = pc_process_read (pid, NULL);
      if (after != NULL && g_strcmp0 (after->comm, "sleep") == 0)
        break;
      g_usleep (10000);
    }
  g_assert_nonnull (after);
  g_assert_cmpstr (after->comm, ==, "sleep");
  g_assert_true (pc_process_read_marks (pid, &start2, &arg2));
  g_assert_cmpuint (start2, ==, start1);
  g_assert_cmpuint (arg2, !=, arg1);
  kill (pid, SIGKILL);
  waitpid (pid, NULL, 0);
}

static void
rm_rf (const char *path)
{
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", path);
  g_assert_cmpint (system (cmd), ==, 0);
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  client_path = attrib_test_built_file ("attrib-client");
  tmpdir = g_dir_make_tmp ("pc-process-XXXXXX", NULL);
  g_assert_nonnull (tmpdir);
  /* The chroot test runs busybox as root inside tmpdir; it must be traversable. */
  chmod (tmpdir, 0755);

  g_test_add_func ("/process/native-copies", test_native_copies);
  g_test_add_func ("/process/deleted-exe", test_deleted_exe);
  g_test_add_func ("/process/argv-spaces", test_argv_spaces);
  g_test_add_func ("/process/shell-scripts", test_shell_scripts);
  g_test_add_func ("/process/shell-inline", test_shell_inline_is_native);
  g_test_add_func ("/process/python", test_python);
  g_test_add_func ("/process/appimage", test_appimage);
  g_test_add_func ("/process/snap", test_snap);
  g_test_add_func ("/process/flatpak", test_flatpak);
  g_test_add_func ("/process/cgroup-unit", test_cgroup_unit);
  g_test_add_func ("/process/gone", test_gone);
  g_test_add_func ("/process/exec-marks", test_exec_marks);
  ret = g_test_run ();
  rm_rf (tmpdir);
  return ret;
}
