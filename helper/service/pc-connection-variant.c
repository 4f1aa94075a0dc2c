/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "pc-service"

#include "pc-connection-variant.h"

#include <sys/socket.h>

const char *
pc_connection_event_to_string (PcConnectionEvent event)
{
  switch (event)
    {
      case PC_CONNECTION_ADDED:
        return "added";
      case PC_CONNECTION_CHANGED:
        return "changed";
      case PC_CONNECTION_ENDED:
        return "ended";
      default:
        return "changed";
    }
}

static inline void
add_string (GVariantBuilder *builder, const char *key, const char *value)
{
  g_variant_builder_add (builder, "{sv}", key, g_variant_new_string (value != NULL ? value : ""));
}

void
pc_connection_variant_add (const PcConnection *c, GVariantBuilder *builder)
{
  char laddr[PC_ADDR_STRLEN];
  char raddr[PC_ADDR_STRLEN];
  const PcFlowKey *key = &c->key;

  g_variant_builder_add (builder, "{sv}", "id", g_variant_new_uint64 (c->id));
  add_string (builder, "profile", c->profile_id);
  add_string (builder, "app-kind", c->app_kind);
  add_string (builder, "app-id", c->app_id);
  g_variant_builder_add (builder, "{sv}", "pid", g_variant_new_uint32 ((guint32)c->pid));
  g_variant_builder_add (builder, "{sv}", "uid", g_variant_new_uint32 ((guint32)c->uid));
  add_string (builder, "comm", c->comm);
  add_string (builder, "exe", c->exe);
  add_string (builder, "cmdline", c->cmdline);
  add_string (builder, "direction", key->direction == PC_DIR_INBOUND ? "inbound" : "outbound");
  add_string (builder, "protocol", pc_proto_to_string (key->proto));
  add_string (builder, "family", key->family == AF_INET6 ? "ipv6" : "ipv4");
  add_string (builder, "local-address", pc_addr_to_string (&key->laddr, laddr));
  g_variant_builder_add (builder, "{sv}", "local-port", g_variant_new_uint16 (key->lport));
  add_string (builder, "remote-address", pc_addr_to_string (&key->raddr, raddr));
  g_variant_builder_add (builder, "{sv}", "remote-port", g_variant_new_uint16 (key->rport));
  add_string (builder, "domain", c->domain);
  /* filled in by the geo lookup (issue "filter lists and geo") */
  add_string (builder, "country", "");
  add_string (builder, "verdict", c->allowed ? "allow" : "block");
  add_string (builder, "reason", c->reason);
  g_variant_builder_add (builder, "{sv}", "bytes-in", g_variant_new_uint64 (c->bytes_in));
  g_variant_builder_add (builder, "{sv}", "bytes-out", g_variant_new_uint64 (c->bytes_out));
  g_variant_builder_add (builder, "{sv}", "started", g_variant_new_int64 (c->started));
  g_variant_builder_add (builder, "{sv}", "ended", g_variant_new_int64 (c->ended));
}

GVariant *
pc_connection_variant_new (const PcConnection *connection, const char *event)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  if (event != NULL)
    add_string (&builder, "event", event);
  pc_connection_variant_add (connection, &builder);
  return g_variant_builder_end (&builder);
}
