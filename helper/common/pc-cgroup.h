/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Where cgroup v2 is mounted: /sys/fs/cgroup on unified desktops, /sys/fs/cgroup/unified on
 * hybrid systems. NULL when there is no cgroup v2 mount. */
char *pc_cgroup2_find_root (void);

G_END_DECLS
