/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Asynchronous polkit checks with a caller's unique bus name as the subject. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define PC_TYPE_POLKIT_AUTHORITY (pc_polkit_authority_get_type ())
G_DECLARE_FINAL_TYPE (PcPolkitAuthority, pc_polkit_authority, PC, POLKIT_AUTHORITY, GObject)

PcPolkitAuthority *pc_polkit_authority_new (void);

/* Is the bus name sender authorized for action_id? Fails with PC_ERROR_ACCESS_DENIED when
 * polkit says no, wants an authentication that did not happen, or cannot be asked at all.
 * interactive: the caller allowed interactive authorization (an agent may ask the user). */
void pc_polkit_authority_check_async (PcPolkitAuthority *self,
                                      const char *sender,
                                      const char *action_id,
                                      gboolean interactive,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data);
gboolean
pc_polkit_authority_check_finish (PcPolkitAuthority *self, GAsyncResult *result, GError **error);

G_END_DECLS
