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

/* Keys are made once: every signal carries thousands of them. */
typedef enum
{
  K_EVENT,
  K_ID,
  K_PROFILE,
  K_APP_KIND,
  K_APP_ID,
  K_PID,
  K_UID,
  K_COMM,
  K_EXE,
  K_CMDLINE,
  K_DIRECTION,
  K_PROTOCOL,
  K_FAMILY,
  K_LOCAL_ADDRESS,
  K_LOCAL_PORT,
  K_REMOTE_ADDRESS,
  K_REMOTE_PORT,
  K_DOMAIN,
  K_COUNTRY,
  K_VERDICT,
  K_REASON,
  K_BYTES_IN,
  K_BYTES_OUT,
  K_STARTED,
  K_ENDED,
  K_RATE_IN,
  K_RATE_OUT,
  N_KEYS
} PcKey;

static const char *const key_names[N_KEYS] = {
  "event",       "id",
  "profile",     "app-kind",
  "app-id",      "pid",
  "uid",         "comm",
  "exe",         "cmdline",
  "direction",   "protocol",
  "family",      "local-address",
  "local-port",  "remote-address",
  "remote-port", "domain",
  "country",     "verdict",
  "reason",      "bytes-in",
  "bytes-out",   "started",
  "ended",       "rate-in",
  "rate-out",
};

static GVariant **
keys_get (void)
{
  static GVariant *keys[N_KEYS];
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized))
    {
      for (guint i = 0; i < N_KEYS; i++)
        keys[i] = g_variant_ref_sink (g_variant_new_string (key_names[i]));
      g_once_init_leave (&initialized, 1);
    }
  return keys;
}

static inline GVariant *
entry (GVariant **keys, PcKey key, GVariant *value)
{
  return g_variant_new_dict_entry (keys[key], g_variant_new_variant (value));
}

static inline GVariant *
string_value (const char *value)
{
  return g_variant_new_string (value != NULL ? value : "");
}

static guint
connection_entries (const PcConnection *c, GVariant **keys, GVariant **out)
{
  char laddr[PC_ADDR_STRLEN];
  char raddr[PC_ADDR_STRLEN];
  const PcFlowKey *key = &c->key;
  guint n = 0;

  out[n++] = entry (keys, K_ID, g_variant_new_uint64 (c->id));
  out[n++] = entry (keys, K_PROFILE, string_value (c->profile_id));
  out[n++] = entry (keys, K_APP_KIND, string_value (c->app_kind));
  out[n++] = entry (keys, K_APP_ID, string_value (c->app_id));
  out[n++] = entry (keys, K_PID, g_variant_new_uint32 ((guint32)c->pid));
  out[n++] = entry (keys, K_UID, g_variant_new_uint32 ((guint32)c->uid));
  out[n++] = entry (keys, K_COMM, string_value (c->comm));
  out[n++] = entry (keys, K_EXE, string_value (c->exe));
  out[n++] = entry (keys, K_CMDLINE, string_value (c->cmdline));
  out[n++] = entry (keys, K_DIRECTION,
                    string_value (key->direction == PC_DIR_INBOUND ? "inbound" : "outbound"));
  out[n++] = entry (keys, K_PROTOCOL, string_value (pc_proto_to_string (key->proto)));
  out[n++] = entry (keys, K_FAMILY, string_value (key->family == AF_INET6 ? "ipv6" : "ipv4"));
  out[n++] = entry (keys, K_LOCAL_ADDRESS, string_value (pc_addr_to_string (&key->laddr, laddr)));
  out[n++] = entry (keys, K_LOCAL_PORT, g_variant_new_uint16 (key->lport));
  out[n++] = entry (keys, K_REMOTE_ADDRESS, string_value (pc_addr_to_string (&key->raddr, raddr)));
  out[n++] = entry (keys, K_REMOTE_PORT, g_variant_new_uint16 (key->rport));
  out[n++] = entry (keys, K_DOMAIN, string_value (c->domain));
  out[n++] = entry (keys, K_COUNTRY, string_value (c->country));
  out[n++] = entry (keys, K_VERDICT, string_value (c->allowed ? "allow" : "block"));
  out[n++] = entry (keys, K_REASON, string_value (c->reason));
  out[n++] = entry (keys, K_BYTES_IN, g_variant_new_uint64 (c->bytes_in));
  out[n++] = entry (keys, K_BYTES_OUT, g_variant_new_uint64 (c->bytes_out));
  out[n++] = entry (keys, K_STARTED, g_variant_new_int64 (c->started));
  out[n++] = entry (keys, K_ENDED, g_variant_new_int64 (c->ended));
  out[n++] = entry (keys, K_RATE_IN, g_variant_new_uint64 (c->rate_in));
  out[n++] = entry (keys, K_RATE_OUT, g_variant_new_uint64 (c->rate_out));
  return n;
}

void
pc_connection_variant_add (const PcConnection *connection, GVariantBuilder *builder)
{
  GVariant *entries[N_KEYS];
  guint n = connection_entries (connection, keys_get (), entries);

  for (guint i = 0; i < n; i++)
    g_variant_builder_add_value (builder, entries[i]);
}

GVariant *
pc_connection_variant_new (const PcConnection *connection, const char *event)
{
  GVariant **keys = keys_get ();
  GVariant *entries[N_KEYS];
  guint n = 0;

  if (event != NULL)
    entries[n++] = entry (keys, K_EVENT, string_value (event));
  n += connection_entries (connection, keys, entries + n);
  return g_variant_new_array (G_VARIANT_TYPE ("{sv}"), entries, n);
}
