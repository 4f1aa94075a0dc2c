/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Finding a program's .desktop file to name its profile (Name, Icon). */
#pragma once

#include <glib.h>

#include "pc-process.h"

G_BEGIN_DECLS

/* The directories searched by default: the XDG data dirs' applications/ plus flatpak's
 * exported ones (NULL-terminated, static). */
const char *const *pc_desktop_default_dirs (void);
/* Looks for a desktop entry of the process in dirs (in order, files by name): a flatpak app by
 * its id (ID.desktop or X-Flatpak=ID), anything else by the basename of TryExec or of the
 * first Exec word (after "env VAR=..." prefixes) equal to the basename of the executable, or
 * of the script for scripts. Hidden entries are skipped. Returns FALSE if none matches. */
gboolean
pc_desktop_lookup (const PcProcess *process, const char *const *dirs, char **name, char **icon);

G_END_DECLS
