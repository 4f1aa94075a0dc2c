/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _PcTestHook PcTestHook;

/* Only when PORTCULLIS_TEST_SOCKET names a path: the integration tests drive the app through
 * a unix socket there (see pc-test-hook.c). */
PcTestHook *pc_test_hook_new (const char *path, GError **error);
void pc_test_hook_free (PcTestHook *hook);

G_END_DECLS
