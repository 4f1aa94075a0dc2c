/* SPDX-License-Identifier: GPL-3.0-or-later */
/* PcConnection records as the a{sv} dictionaries of the D-Bus interface. */
#pragma once

#include <glib.h>

#include "pc-connection.h"

G_BEGIN_DECLS

/* Adds the keys of one connection (see ListConnections in the interface XML) to builder, an
 * open a{sv}. */
void pc_connection_variant_add (const PcConnection *connection, GVariantBuilder *builder);
/* One connection as a floating a{sv}; event: "added", "changed", "ended" or NULL for none. */
GVariant *pc_connection_variant_new (const PcConnection *connection, const char *event);

const char *pc_connection_event_to_string (PcConnectionEvent event);

G_END_DECLS
