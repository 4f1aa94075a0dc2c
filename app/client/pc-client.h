/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The one client library of portcullisd's D-Bus interface, shared by portcullisctl and the GTK
 * app: the generated proxy, the project's D-Bus errors, and small helpers over the interface's
 * dictionaries. */
#pragma once

#include <gio/gio.h>

#include "pc-dbus-generated.h"
#include "pc-error.h"

G_BEGIN_DECLS

#define PC_CLIENT_BUS_NAME "org.portcullis.Portcullis1"
#define PC_CLIENT_OBJECT_PATH "/org/portcullis/Portcullis1"

#define PC_TYPE_CLIENT (pc_client_get_type ())
G_DECLARE_FINAL_TYPE (PcClient, pc_client, PC, CLIENT, GObject)

/* Connects to the system bus (DBUS_SYSTEM_BUS_ADDRESS, as any GDBus client). */
void
pc_client_new_async (GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
PcClient *pc_client_new_finish (GAsyncResult *result, GError **error);
PcClient *pc_client_new_sync (GCancellable *cancellable, GError **error);

/* The generated proxy; its call_*() methods are the interface (see the XML). */
PcDBusPortcullis1 *pc_client_get_proxy (PcClient *self);
/* Calls a method that changes something, allowing interactive authorization: on a desktop the
 * polkit agent may ask for a password (auth_admin_keep). parameters may be floating. */
GVariant *pc_client_call_interactive_sync (PcClient *self,
                                           const char *method,
                                           GVariant *parameters,
                                           GCancellable *cancellable,
                                           GError **error);
/* Is a helper running (does the name have an owner)? */
gboolean pc_client_is_running (PcClient *self);

/* Normalizes an error of a call: a remote org.portcullis.Portcullis1.Error.* becomes PC_ERROR
 * with the helper's message (no "GDBus.Error:..." prefix); a missing helper becomes
 * PC_ERROR_UNAVAILABLE with a message that says so. */
void pc_client_fix_error (GError *error);
/* The error means "not authorized" (polkit or bus policy). */
gboolean pc_client_error_is_denied (const GError *error);

/* Parses text into a value of type ("b", "u", "i", "x", "as"; anything else is a string):
 * booleans as true/false/yes/no/on/off/1/0, lists separated by ';', ',' or newlines. */
GVariant *pc_client_parse_value (const char *text, const GVariantType *type, GError **error);
/* A value as a person writes it (strings unquoted, lists joined with "; "). */
char *pc_client_format_value (GVariant *value);

G_END_DECLS
