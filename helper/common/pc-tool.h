/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Runs argv (iptables-save/-restore and the like) with input on stdin and waits; output gets
 * its stdout when non-NULL. A failing exit is PC_ERROR_FAILED with the tool's stderr. Not for
 * the packet path: it blocks until the tool exits. */
gboolean pc_tool_run (const char *const *argv, const char *input, char **output, GError **error);

G_END_DECLS
