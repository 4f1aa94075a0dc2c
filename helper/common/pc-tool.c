/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "pc-tool.h"

#include <gio/gio.h>

#include "pc-error.h"

gboolean
pc_tool_run (const char *const *argv, const char *input, char **output, GError **error)
{
  g_autoptr (GSubprocess) proc = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  proc = g_subprocess_newv (argv,
                            G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                            error);
  if (proc == NULL || !g_subprocess_communicate_utf8 (proc, input, NULL, &out, &err, error))
    return FALSE;
  if (!g_subprocess_get_successful (proc))
    {
      g_set_error (error, PC_ERROR, PC_ERROR_FAILED, "%s failed: %s", argv[0],
                   err != NULL && *err ? g_strstrip (err) : "no message");
      return FALSE;
    }
  if (output != NULL)
    *output = g_steal_pointer (&out);
  return TRUE;
}
