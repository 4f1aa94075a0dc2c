/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-attrib"

#include "attrib-testutil.h"

#include "pc-cgroup.h"

#include <errno.h>
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

AttribChild *
attrib_child_spawn (const char *const *argv,
                    const char *const *envp,
                    const char *cwd,
                    GError **error)
{
  g_autoptr (AttribChild) child = g_new0 (AttribChild, 1);
  g_autoptr (GString) line = g_string_new (NULL);

  child->in_fd = -1;
  child->out_fd = -1;
  if (!g_spawn_async_with_pipes (cwd, (char **)argv, (char **)envp, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                                 NULL, &child->pid, &child->in_fd, &child->out_fd, NULL, error))
    return NULL;
  for (;;)
    {
      char c;
      ssize_t n = read (child->out_fd, &c, 1);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "child %s exited before reporting",
                       argv[0]);
          return NULL;
        }
      if (c == '\n')
        break;
      g_string_append_c (line, c);
    }
  child->line = g_string_free (g_steal_pointer (&line), FALSE);
  return g_steal_pointer (&child);
}

int
attrib_child_wait (AttribChild *child)
{
  int status = 0;

  if (child->pid <= 0)
    return 0;
  while (waitpid (child->pid, &status, 0) < 0 && errno == EINTR)
    ;
  child->pid = 0;
  return status;
}

int
attrib_child_finish (AttribChild *child)
{
  if (child->in_fd >= 0)
    {
      close (child->in_fd);
      child->in_fd = -1;
    }
  return attrib_child_wait (child);
}

void
attrib_child_free (AttribChild *child)
{
  if (child == NULL)
    return;
  if (child->pid > 0)
    {
      kill (child->pid, SIGKILL);
      attrib_child_finish (child);
    }
  if (child->in_fd >= 0)
    close (child->in_fd);
  if (child->out_fd >= 0)
    close (child->out_fd);
  g_free (child->line);
  g_free (child);
}

char *
attrib_test_built_file (const char *name)
{
  const char *dir = g_getenv ("ATTRIB_TEST_BUILDDIR");

  if (dir == NULL)
    {
      g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
      g_autofree char *self_dir = self != NULL ? g_path_get_dirname (self) : g_strdup (".");
      return g_build_filename (self_dir, name, NULL);
    }
  return g_build_filename (dir, name, NULL);
}

char *
attrib_find_cgroup2_root (void)
{
  return pc_cgroup2_find_root ();
}
