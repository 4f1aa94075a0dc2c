/* SPDX-License-Identifier: GPL-3.0-or-later */
/* portcullisctl: the command line of portcullisd's D-Bus interface.
 * Exit codes: 0 ok, 1 error (message on stderr), 2 usage, 4 not authorized. */
#define G_LOG_DOMAIN "portcullisctl"

#include "config.h"

#include <gio/gunixinputstream.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pc-client.h"

#define EXIT_OK 0
#define EXIT_ERROR 1
#define EXIT_USAGE 2
#define EXIT_DENIED 4

typedef struct
{
  gboolean json;
  gboolean follow;
  gboolean inbound;
  char *app;
  char *since; /* history, bandwidth: a time (see parse_time) */
  char *until;
  char *verdict;  /* history: allowed | blocked */
  char *format;   /* history export: csv | json */
  char *scope;    /* prompt answer */
  char *lifetime; /* prompt answer */
  guint limit;
  guint step;
  GPtrArray *args; /* positional words after the global options */
  PcClient *client;
  PcDBusPortcullis1 *proxy;
  GMainLoop *loop;
  int follow_status;
} PcCtl;

static const char usage_text[]
    = "Usage: portcullisctl [--json] COMMAND [ARGS]\n"
      "\n"
      "Commands:\n"
      "  status                                 the helper's state and problems\n"
      "  connections [--follow]                 live connections (--follow: then changes)\n"
      "  apps                                   application profiles with live connections\n"
      "  app show ID                            one profile and its effective settings\n"
      "  app set ID KEY VALUE                   override a setting in a profile\n"
      "  app unset ID KEY                       remove the override\n"
      "  config get [KEY]                       global settings\n"
      "  config set KEY VALUE                   set a global setting\n"
      "  config reset KEY                       back to the admin or built-in default\n"
      "  rules list [--app ID]                  endpoint rules\n"
      "  rules add [--app ID] [--inbound] RULE  add one rule, e.g. '- example.com tcp/443'\n"
      "  rules remove [--app ID] [--inbound] RULE\n"
      "  export FILE                            settings and profiles as JSON ('-': stdout)\n"
      "  import FILE                            replace them from an export ('-': stdin)\n"
      "  history [WORDS] [--app ID] [--since T] [--until T] [--verdict allowed|blocked]\n"
      "          [--limit N]                    search recorded connections (newest first)\n"
      "  history count app|domain|country [filters as above]\n"
      "  history delete [--app ID] [--since T] [--until T]\n"
      "  history export FILE [--format csv|json] [filters as above] ('-': stdout)\n"
      "  bandwidth [--app ID] [--since T] [--until T] [--step SECONDS]\n"
      "                                         bytes in/out over time\n"
      "  lists                                  filter lists, their sizes and the update state\n"
      "  lists show ID                          one list (ID from 'lists', e.g. ads)\n"
      "  lists update                           fetch, verify and load signed list updates now\n"
      "  dns status                             the local resolver, its upstreams and cache\n"
      "  dns query NAME [TYPE]                  ask the resolver (TYPE: A, AAAA, MX, ...)\n"
      "  dns flush                              empty the resolver's cache\n"
      "  prompts                                pending connection prompts\n"
      "  prompt answer ID allow|block [--scope domain|ip|port|all]\n"
      "         [--lifetime once|restart|forever|until-exit|MINUTESm]\n"
      "\n"
      "Times T: 2026-11-28T10:00:00Z (ISO 8601), seconds since the epoch, or an age such as\n"
      "30s, 15m, 2h or 7d (that long ago).\n"
      "\n"
      "Options:\n"
      "  --json      machine-readable output\n"
      "  --help      this text\n"
      "\n"
      "Exit status: 0 ok, 1 error, 2 usage, 4 not authorized.\n";

static int usage_error (const char *fmt, ...) G_GNUC_PRINTF (1, 2);

static int
usage_error (const char *fmt, ...)
{
  va_list args;
  g_autofree char *msg = NULL;

  va_start (args, fmt);
  msg = g_strdup_vprintf (fmt, args);
  va_end (args);
  g_printerr ("portcullisctl: %s\nTry 'portcullisctl --help'.\n", msg);
  return EXIT_USAGE;
}

static int
fail (GError *error)
{
  pc_client_fix_error (error);
  g_printerr ("portcullisctl: %s\n", error->message);
  return pc_client_error_is_denied (error) ? EXIT_DENIED : EXIT_ERROR;
}

static void
print_json (GVariant *value)
{
  g_autoptr (JsonNode) node = json_gvariant_serialize (value);
  g_autofree char *text = json_to_string (node, TRUE);

  g_print ("%s\n", text);
}

static void
print_json_line (GVariant *value)
{
  g_autoptr (JsonNode) node = json_gvariant_serialize (value);
  g_autofree char *text = json_to_string (node, FALSE);

  g_print ("%s\n", text);
  fflush (stdout);
}

static const char *
dict_str (GVariant *dict, const char *key)
{
  const char *value = NULL;

  if (!g_variant_lookup (dict, key, "&s", &value))
    return "";
  return value;
}

static guint64
dict_u64 (GVariant *dict, const char *key)
{
  g_autoptr (GVariant) value = g_variant_lookup_value (dict, key, NULL);

  if (value == NULL)
    return 0;
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT64))
    return g_variant_get_uint64 (value);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT64))
    return (guint64)g_variant_get_int64 (value);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT32))
    return g_variant_get_uint32 (value);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_UINT16))
    return g_variant_get_uint16 (value);
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    return g_variant_get_boolean (value);
  return 0;
}

static const char *
yes_no (gboolean b)
{
  return b ? "yes" : "no";
}

/* A call that changes something: the polkit agent of a desktop session may ask for a
 * password (configure and manage are auth_admin_keep). */
static gboolean
change (PcCtl *ctl, const char *method, GVariant *parameters, GError **error)
{
  g_autoptr (GVariant) reply
      = pc_client_call_interactive_sync (ctl->client, method, parameters, NULL, error);

  return reply != NULL;
}

/* ---- status ------------------------------------------------------------------------------- */

static int
cmd_status (PcCtl *ctl)
{
  g_autoptr (GVariant) status = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree const char **degraded = NULL;
  g_autoptr (GDateTime) started = NULL;
  g_autofree char *started_text = NULL;

  if (ctl->args->len != 1)
    return usage_error ("status takes no arguments");
  if (!pc_dbus_portcullis1_call_status_sync (ctl->proxy, &status, NULL, &error))
    return fail (error);
  if (ctl->json)
    {
      print_json (status);
      return EXIT_OK;
    }
  g_variant_lookup (status, "degraded", "^a&s", &degraded);
  started = g_date_time_new_from_unix_local ((gint64)dict_u64 (status, "started") / G_USEC_PER_SEC);
  started_text = started != NULL ? g_date_time_format (started, "%F %T") : g_strdup ("?");
  g_print ("Portcullis %s, running since %s\n", dict_str (status, "version"), started_text);
  g_print ("%-14s IPv4 %s, IPv6 %s (nfqueue %" G_GUINT64_FORMAT ")\n", "Interception",
           yes_no (dict_u64 (status, "ipv4")), yes_no (dict_u64 (status, "ipv6")),
           dict_u64 (status, "queue"));
  g_print ("%-14s %s\n", "Attribution", dict_str (status, "attribution"));
  g_print ("%-14s %s\n", "DNS", dict_str (status, "dns"));
  g_print ("%-14s %" G_GUINT64_FORMAT " live; %" G_GUINT64_FORMAT " decided (%" G_GUINT64_FORMAT
           " allowed, %" G_GUINT64_FORMAT " blocked)\n",
           "Connections", dict_u64 (status, "live-connections"), dict_u64 (status, "flows"),
           dict_u64 (status, "allowed"), dict_u64 (status, "blocked"));
  g_print ("%-14s %" G_GUINT64_FORMAT "\n", "Prompts", dict_u64 (status, "prompts"));
  g_print ("%-14s %" G_GUINT64_FORMAT "\n", "Subscribers", dict_u64 (status, "subscribers"));
  if (degraded == NULL || degraded[0] == NULL)
    g_print ("%-14s none\n", "Problems");
  else
    for (guint i = 0; degraded[i] != NULL; i++)
      g_print ("%-14s %s\n", i == 0 ? "Problems" : "", degraded[i]);
  return EXIT_OK;
}

/* ---- connections ---------------------------------------------------------------------------- */

static char *
format_endpoint (GVariant *c, const char *addr_key, const char *port_key)
{
  const char *addr = dict_str (c, addr_key);

  if (strchr (addr, ':') != NULL)
    return g_strdup_printf ("[%s]:%" G_GUINT64_FORMAT, addr, dict_u64 (c, port_key));
  return g_strdup_printf ("%s:%" G_GUINT64_FORMAT, addr, dict_u64 (c, port_key));
}

static const char *
connection_app (GVariant *c)
{
  const char *profile = dict_str (c, "profile");
  const char *exe = dict_str (c, "exe");

  if (profile[0] != '\0')
    return profile;
  if (exe[0] != '\0')
    return exe;
  if (dict_str (c, "comm")[0] != '\0')
    return dict_str (c, "comm");
  return "(unknown)";
}

static void
print_connection_header (gboolean with_event)
{
  if (with_event)
    g_print ("%-8s ", "EVENT");
  g_print ("%-8s %-24s %7s %-3s %-6s %-22s %-46s %-6s %s\n", "ID", "APP", "PID", "DIR", "PROTO",
           "LOCAL", "REMOTE", "VERDICT", "REASON");
}

static void
print_connection_row (GVariant *c, const char *event)
{
  g_autofree char *local = format_endpoint (c, "local-address", "local-port");
  g_autofree char *remote = format_endpoint (c, "remote-address", "remote-port");
  const char *domain = dict_str (c, "domain");
  g_autofree char *remote_text
      = domain[0] != '\0' ? g_strdup_printf ("%s (%s)", remote, domain) : g_strdup (remote);

  if (event != NULL)
    g_print ("%-8s ", event);
  g_print ("%-8" G_GUINT64_FORMAT " %-24s %7" G_GUINT64_FORMAT " %-3s %-6s %-22s %-46s %-7s %s\n",
           dict_u64 (c, "id"), connection_app (c), dict_u64 (c, "pid"),
           g_str_equal (dict_str (c, "direction"), "inbound") ? "in" : "out",
           dict_str (c, "protocol"), local, remote_text, dict_str (c, "verdict"),
           dict_str (c, "reason"));
}

static void
connections_changed_cb (PcDBusPortcullis1 *proxy, GVariant *changes, gpointer user_data)
{
  PcCtl *ctl = user_data;
  GVariantIter iter;
  GVariant *c;

  g_variant_iter_init (&iter, changes);
  while ((c = g_variant_iter_next_value (&iter)) != NULL)
    {
      if (ctl->json)
        print_json_line (c);
      else
        print_connection_row (c, dict_str (c, "event"));
      g_variant_unref (c);
    }
  fflush (stdout);
}

static void
name_owner_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  PcCtl *ctl = user_data;

  if (!pc_client_is_running (ctl->client))
    {
      g_printerr ("portcullisctl: portcullisd stopped\n");
      ctl->follow_status = EXIT_ERROR;
      g_main_loop_quit (ctl->loop);
    }
}

static gboolean
follow_quit_cb (gpointer user_data)
{
  PcCtl *ctl = user_data;

  g_main_loop_quit (ctl->loop);
  return G_SOURCE_REMOVE;
}

static int
cmd_connections (PcCtl *ctl)
{
  g_autoptr (GVariant) connections = NULL;
  g_autoptr (GError) error = NULL;
  GVariantIter iter;
  GVariant *c;

  if (ctl->args->len != 1)
    return usage_error ("connections takes no arguments");
  /* Subscribe before listing, so nothing falls between the list and the first signal. */
  if (ctl->follow)
    {
      g_signal_connect (ctl->proxy, "connections-changed", G_CALLBACK (connections_changed_cb),
                        ctl);
      if (!pc_dbus_portcullis1_call_subscribe_sync (ctl->proxy, NULL, &error))
        return fail (error);
    }
  if (!pc_dbus_portcullis1_call_list_connections_sync (ctl->proxy, &connections, NULL, &error))
    return fail (error);

  if (ctl->json && !ctl->follow)
    print_json (connections);
  else
    {
      if (!ctl->json)
        print_connection_header (ctl->follow);
      g_variant_iter_init (&iter, connections);
      while ((c = g_variant_iter_next_value (&iter)) != NULL)
        {
          if (ctl->json)
            {
              /* connections that were live already: event "live" (then the stream's events) */
              g_autoptr (GVariant) marked = NULL;
              GVariantDict dict;

              g_variant_dict_init (&dict, c);
              g_variant_dict_insert (&dict, "event", "s", "live");
              marked = g_variant_ref_sink (g_variant_dict_end (&dict));
              print_json_line (marked);
            }
          else
            print_connection_row (c, ctl->follow ? "live" : NULL);
          g_variant_unref (c);
        }
    }
  fflush (stdout);
  if (!ctl->follow)
    return EXIT_OK;

  ctl->loop = g_main_loop_new (NULL, FALSE);
  g_signal_connect (ctl->proxy, "notify::g-name-owner", G_CALLBACK (name_owner_cb), ctl);
  g_unix_signal_add (SIGINT, follow_quit_cb, ctl);
  g_unix_signal_add (SIGTERM, follow_quit_cb, ctl);
  g_main_loop_run (ctl->loop);
  return ctl->follow_status;
}

/* ---- settings ------------------------------------------------------------------------------- */

/* The type a setting's value has, from the helper's own list (so this tool never keeps a copy
 * of the keys). NULL when the key is unknown: the helper then says so. */
static const GVariantType *
setting_type (GVariant *settings, const char *key)
{
  g_autoptr (GVariant) entry = g_variant_lookup_value (settings, key, G_VARIANT_TYPE ("(vs)"));
  g_autoptr (GVariant) value = NULL;

  if (entry == NULL)
    return NULL;
  g_variant_get_child (entry, 0, "v", &value);
  return g_variant_get_type (value); /* lives in the settings variant's type info */
}

static GVariant *
value_for_key (GVariant *settings, const char *key, const char *text, GError **error)
{
  const GVariantType *type = setting_type (settings, key);

  return pc_client_parse_value (text, type != NULL ? type : G_VARIANT_TYPE_STRING, error);
}

static void
print_settings_table (GVariant *settings, const char *only_key)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;
  const char *source;

  g_variant_iter_init (&iter, settings);
  while (g_variant_iter_next (&iter, "{&s(v&s)}", &key, &value, &source))
    {
      g_autofree char *text = pc_client_format_value (value);

      if (only_key == NULL || g_str_equal (key, only_key))
        g_print ("%-22s %-9s %s\n", key, source, text);
      g_variant_unref (value);
    }
}

static int
cmd_config (PcCtl *ctl)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) settings = NULL;
  const char *verb = ctl->args->len > 1 ? ctl->args->pdata[1] : NULL;

  if (g_strcmp0 (verb, "get") == 0 && ctl->args->len <= 3)
    {
      const char *key = ctl->args->len == 3 ? ctl->args->pdata[2] : NULL;

      if (key != NULL)
        {
          g_autoptr (GVariant) value = NULL;
          g_autofree char *text = NULL;

          if (!pc_dbus_portcullis1_call_get_setting_sync (ctl->proxy, key, &value, NULL, &error))
            return fail (error);
          if (ctl->json)
            {
              print_json (value);
              return EXIT_OK;
            }
          text = pc_client_format_value (value);
          g_print ("%s\n", text);
          return EXIT_OK;
        }
      if (!pc_dbus_portcullis1_call_get_settings_sync (ctl->proxy, &settings, NULL, &error))
        return fail (error);
      if (ctl->json)
        print_json (settings);
      else
        print_settings_table (settings, NULL);
      return EXIT_OK;
    }
  if (g_strcmp0 (verb, "set") == 0 && ctl->args->len == 4)
    {
      GVariant *value;

      if (!pc_dbus_portcullis1_call_get_settings_sync (ctl->proxy, &settings, NULL, &error))
        return fail (error);
      value = value_for_key (settings, ctl->args->pdata[2], ctl->args->pdata[3], &error);
      if (value == NULL)
        return fail (error);
      if (!change (ctl, "SetSetting",
                   g_variant_new ("(sv)", (const char *)ctl->args->pdata[2], value), &error))
        return fail (error);
      return EXIT_OK;
    }
  if (g_strcmp0 (verb, "reset") == 0 && ctl->args->len == 3)
    {
      if (!change (ctl, "ResetSetting", g_variant_new ("(s)", (const char *)ctl->args->pdata[2]),
                   &error))
        return fail (error);
      return EXIT_OK;
    }
  return usage_error ("config get [KEY] | config set KEY VALUE | config reset KEY");
}

/* ---- profiles ------------------------------------------------------------------------------- */

static int
cmd_apps (PcCtl *ctl)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) profiles = NULL;
  g_autoptr (GVariant) connections = NULL;
  g_autoptr (GHashTable) counts = g_hash_table_new (g_str_hash, g_str_equal);
  GVariantBuilder out;
  GVariantIter iter;
  GVariant *p;

  if (ctl->args->len != 1)
    return usage_error ("apps takes no arguments");
  if (!pc_dbus_portcullis1_call_list_profiles_sync (ctl->proxy, &profiles, NULL, &error)
      || !pc_dbus_portcullis1_call_list_connections_sync (ctl->proxy, &connections, NULL, &error))
    return fail (error);

  g_variant_iter_init (&iter, connections);
  while ((p = g_variant_iter_next_value (&iter)) != NULL)
    {
      const char *id = dict_str (p, "profile");
      g_hash_table_insert (
          counts, (gpointer)id,
          GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (counts, id)) + 1));
      g_variant_unref (p);
    }

  g_variant_builder_init (&out, G_VARIANT_TYPE ("aa{sv}"));
  if (!ctl->json)
    g_print ("%-24s %-28s %5s %s\n", "ID", "NAME", "LIVE", "FINGERPRINTS");
  g_variant_iter_init (&iter, profiles);
  while ((p = g_variant_iter_next_value (&iter)) != NULL)
    {
      const char *id = dict_str (p, "id");
      guint live = GPOINTER_TO_UINT (g_hash_table_lookup (counts, id));

      if (ctl->json)
        {
          GVariantBuilder entry;
          GVariantIter fields;
          const char *key;
          GVariant *value;

          g_variant_builder_init (&entry, G_VARIANT_TYPE_VARDICT);
          g_variant_iter_init (&fields, p);
          while (g_variant_iter_next (&fields, "{&sv}", &key, &value))
            {
              g_variant_builder_add (&entry, "{sv}", key, value);
              g_variant_unref (value);
            }
          g_variant_builder_add (&entry, "{sv}", "live-connections", g_variant_new_uint32 (live));
          g_variant_builder_add_value (&out, g_variant_builder_end (&entry));
        }
      else
        {
          g_autofree const char **fps = NULL;
          g_autofree char *fp_text = NULL;

          g_variant_lookup (p, "fingerprints", "^a&s", &fps);
          fp_text = fps != NULL ? g_strjoinv (", ", (char **)fps) : g_strdup ("");
          g_print ("%-24s %-28s %5u %s\n", id, dict_str (p, "name"), live, fp_text);
        }
      g_variant_unref (p);
    }
  if (ctl->json)
    {
      g_autoptr (GVariant) result = g_variant_ref_sink (g_variant_builder_end (&out));
      print_json (result);
    }
  else
    g_variant_builder_clear (&out);
  return EXIT_OK;
}

static int
cmd_app (PcCtl *ctl)
{
  g_autoptr (GError) error = NULL;
  const char *verb = ctl->args->len > 1 ? ctl->args->pdata[1] : NULL;
  const char *id = ctl->args->len > 2 ? ctl->args->pdata[2] : NULL;

  if (g_strcmp0 (verb, "show") == 0 && ctl->args->len == 3)
    {
      g_autoptr (GVariant) profile = NULL;
      g_autoptr (GVariant) effective = NULL;
      g_autofree const char **fps = NULL;
      g_autofree char *fp_text = NULL;

      if (!pc_dbus_portcullis1_call_get_profile_sync (ctl->proxy, id, &profile, NULL, &error)
          || !pc_dbus_portcullis1_call_get_effective_settings_sync (ctl->proxy, id, &effective,
                                                                    NULL, &error))
        return fail (error);
      if (ctl->json)
        {
          g_autoptr (GVariant) both = g_variant_ref_sink (g_variant_new_parsed (
              "{'profile': <%@a{sv}>, 'effective': <%@a{s(vs)}>}", profile, effective));
          print_json (both);
          return EXIT_OK;
        }
      g_variant_lookup (profile, "fingerprints", "^a&s", &fps);
      fp_text = fps != NULL ? g_strjoinv (", ", (char **)fps) : g_strdup ("");
      g_print ("%-22s %s\n%-22s %s\n%-22s %s\n\n", "Profile", dict_str (profile, "id"), "Name",
               dict_str (profile, "name"), "Fingerprints", fp_text);
      print_settings_table (effective, NULL);
      return EXIT_OK;
    }
  if (g_strcmp0 (verb, "set") == 0 && ctl->args->len == 5)
    {
      g_autoptr (GVariant) effective = NULL;
      GVariant *value;

      if (!pc_dbus_portcullis1_call_get_effective_settings_sync (ctl->proxy, id, &effective, NULL,
                                                                 &error))
        return fail (error);
      value = value_for_key (effective, ctl->args->pdata[3], ctl->args->pdata[4], &error);
      if (value == NULL)
        return fail (error);
      if (!change (ctl, "SetProfileSetting",
                   g_variant_new ("(ssv)", id, (const char *)ctl->args->pdata[3], value), &error))
        return fail (error);
      return EXIT_OK;
    }
  if (g_strcmp0 (verb, "unset") == 0 && ctl->args->len == 4)
    {
      if (!change (ctl, "UnsetProfileSetting",
                   g_variant_new ("(ss)", id, (const char *)ctl->args->pdata[3]), &error))
        return fail (error);
      return EXIT_OK;
    }
  return usage_error ("app show ID | app set ID KEY VALUE | app unset ID KEY");
}

/* ---- rules ---------------------------------------------------------------------------------- */

static int
cmd_rules (PcCtl *ctl)
{
  g_autoptr (GError) error = NULL;
  const char *verb = ctl->args->len > 1 ? ctl->args->pdata[1] : NULL;
  const char *id = ctl->app != NULL ? ctl->app : "";

  if (g_strcmp0 (verb, "list") == 0 && ctl->args->len == 2)
    {
      g_autoptr (GVariant) settings = NULL;
      static const char *const keys[] = { "endpoints", "inbound-endpoints" };
      GVariantBuilder out;

      if (ctl->app != NULL)
        {
          if (!pc_dbus_portcullis1_call_get_effective_settings_sync (ctl->proxy, id, &settings,
                                                                     NULL, &error))
            return fail (error);
        }
      else if (!pc_dbus_portcullis1_call_get_settings_sync (ctl->proxy, &settings, NULL, &error))
        return fail (error);

      g_variant_builder_init (&out, G_VARIANT_TYPE ("aa{sv}"));
      for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
        {
          g_autoptr (GVariant) value = NULL;
          const char *source = "";
          g_autofree const char **rules = NULL;

          if (!g_variant_lookup (settings, keys[k], "(v&s)", &value, &source))
            continue;
          if (!g_variant_is_of_type (value, G_VARIANT_TYPE_STRING_ARRAY))
            continue;
          rules = g_variant_get_strv (value, NULL);
          for (guint i = 0; rules[i] != NULL; i++)
            {
              if (ctl->json)
                g_variant_builder_add_parsed (&out,
                                              "{'rule': <%s>, 'inbound': <%b>, 'source': <%s>}",
                                              rules[i], k == 1, source);
              else
                g_print ("%-8s %-8s %s\n", k == 1 ? "inbound" : "outbound", source, rules[i]);
            }
        }
      if (ctl->json)
        {
          g_autoptr (GVariant) result = g_variant_ref_sink (g_variant_builder_end (&out));
          print_json (result);
        }
      else
        g_variant_builder_clear (&out);
      return EXIT_OK;
    }
  if ((g_strcmp0 (verb, "add") == 0 || g_strcmp0 (verb, "remove") == 0) && ctl->args->len == 3)
    {
      gboolean ok;

      ok = change (ctl, g_str_equal (verb, "add") ? "AddRule" : "RemoveRule",
                   g_variant_new ("(sbs)", id, ctl->inbound, (const char *)ctl->args->pdata[2]),
                   &error);
      return ok ? EXIT_OK : fail (error);
    }
  return usage_error ("rules list [--app ID] | rules add|remove [--app ID] [--inbound] RULE");
}

/* ---- backup --------------------------------------------------------------------------------- */

static int
cmd_export (PcCtl *ctl)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *json = NULL;
  const char *path;

  if (ctl->args->len != 2)
    return usage_error ("export FILE");
  path = ctl->args->pdata[1];
  if (!pc_dbus_portcullis1_call_export_sync (ctl->proxy, &json, NULL, &error))
    return fail (error);
  if (g_str_equal (path, "-"))
    {
      g_print ("%s\n", json);
      return EXIT_OK;
    }
  if (!g_file_set_contents_full (path, json, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
    return fail (error);
  return EXIT_OK;
}

static int
cmd_import (PcCtl *ctl)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *json = NULL;
  const char *path;

  if (ctl->args->len != 2)
    return usage_error ("import FILE");
  path = ctl->args->pdata[1];
  if (g_str_equal (path, "-"))
    {
      g_autoptr (GInputStream) in = g_unix_input_stream_new (0, FALSE);
      g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();

      if (g_output_stream_splice (out, in, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, &error) < 0)
        return fail (error);
      g_output_stream_write (out, "", 1, NULL, NULL);
      json = g_memory_output_stream_steal_data (G_MEMORY_OUTPUT_STREAM (out));
    }
  else if (!g_file_get_contents (path, &json, NULL, &error))
    return fail (error);
  if (!g_utf8_validate (json, -1, NULL))
    {
      g_printerr ("portcullisctl: %s is not UTF-8 text\n", path);
      return EXIT_ERROR;
    }
  if (!change (ctl, "Import", g_variant_new ("(s)", json), &error))
    return fail (error);
  return EXIT_OK;
}

/* ---- history, bandwidth ----------------------------------------------------------------- */

/* "2026-11-28T10:00:00Z", "1764324000" (seconds since the epoch) or an age "15m" -> µs since the
 * epoch. */
static gboolean
parse_time (const char *text, gint64 *out)
{
  g_autoptr (GDateTime) dt = NULL;
  guint64 n;
  char *end = NULL;

  if (text == NULL)
    {
      *out = 0;
      return TRUE;
    }
  if (g_ascii_string_to_unsigned (text, 10, 0, G_MAXINT64 / G_USEC_PER_SEC, &n, NULL))
    {
      *out = (gint64)n * G_USEC_PER_SEC;
      return TRUE;
    }
  n = g_ascii_strtoull (text, &end, 10);
  if (end != text && end[0] != '\0' && end[1] == '\0' && strchr ("smhd", end[0]) != NULL)
    {
      guint64 unit = end[0] == 's' ? 1 : end[0] == 'm' ? 60 : end[0] == 'h' ? 3600 : 86400;
      *out = g_get_real_time () - (gint64)(n * unit) * G_USEC_PER_SEC;
      return TRUE;
    }
  dt = g_date_time_new_from_iso8601 (text, NULL);
  if (dt == NULL)
    return FALSE;
  *out = g_date_time_to_unix (dt) * G_USEC_PER_SEC + g_date_time_get_microsecond (dt);
  return TRUE;
}

static char *
format_time (gint64 usec)
{
  g_autoptr (GDateTime) dt
      = usec > 0 ? g_date_time_new_from_unix_local (usec / G_USEC_PER_SEC) : NULL;

  return dt != NULL ? g_date_time_format (dt, "%Y-%m-%d %H:%M:%S") : g_strdup ("-");
}

/* The query dictionary of SearchHistory from the options and free words from index first. */
static GVariant *
history_query (PcCtl *ctl, guint first, GError **error)
{
  GVariantDict d;
  gint64 since = 0, until = 0;

  if (!parse_time (ctl->since, &since) || !parse_time (ctl->until, &until))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "cannot read the time '%s': use ISO 8601, seconds, or an age like 2h",
                   !parse_time (ctl->since, &since) ? ctl->since : ctl->until);
      return NULL;
    }
  g_variant_dict_init (&d, NULL);
  if (ctl->args->len > first)
    {
      g_autoptr (GString) text = g_string_new (NULL);
      for (guint i = first; i < ctl->args->len; i++)
        g_string_append_printf (text, "%s%s", i > first ? " " : "",
                                (const char *)ctl->args->pdata[i]);
      g_variant_dict_insert (&d, "text", "s", text->str);
    }
  if (ctl->app != NULL)
    g_variant_dict_insert (&d, "app", "s", ctl->app);
  if (ctl->verdict != NULL)
    g_variant_dict_insert (&d, "verdict", "s", ctl->verdict);
  if (since > 0)
    g_variant_dict_insert (&d, "since", "x", since);
  if (until > 0)
    g_variant_dict_insert (&d, "until", "x", until);
  if (ctl->limit > 0)
    g_variant_dict_insert (&d, "limit", "u", ctl->limit);
  return g_variant_ref_sink (g_variant_dict_end (&d));
}

static int
history_search (PcCtl *ctl, guint first)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) query = history_query (ctl, first, &error);
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) rows = NULL;
  GVariantIter iter;
  GVariant *row;

  if (query == NULL)
    return usage_error ("%s", error->message);
  reply = g_dbus_proxy_call_sync (G_DBUS_PROXY (ctl->proxy), "SearchHistory",
                                  g_variant_new ("(@a{sv})", query), G_DBUS_CALL_FLAGS_NONE, -1,
                                  NULL, &error);
  if (reply == NULL)
    return fail (error);
  rows = g_variant_get_child_value (reply, 0);
  if (ctl->json)
    {
      print_json (rows);
      return EXIT_OK;
    }
  g_print ("%-19s %-3s %-5s %-24s %-40s %-7s %s\n", "STARTED", "DIR", "PROTO", "APP", "REMOTE",
           "VERDICT", "BYTES IN/OUT");
  g_variant_iter_init (&iter, rows);
  while ((row = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autoptr (GVariant) r = row;
      g_autofree char *when = format_time ((gint64)dict_u64 (r, "started"));
      g_autofree char *remote
          = g_strdup_printf ("%s:%" G_GUINT64_FORMAT "%s%s%s", dict_str (r, "remote"),
                             dict_u64 (r, "remote-port"), *dict_str (r, "domain") ? " (" : "",
                             dict_str (r, "domain"), *dict_str (r, "domain") ? ")" : "");
      gboolean allowed = FALSE;
      g_variant_lookup (r, "allowed", "b", &allowed);
      g_print ("%-19s %-3s %-5s %-24s %-40s %-7s %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT "\n",
               when, dict_str (r, "direction"), dict_str (r, "protocol"), dict_str (r, "app"),
               remote, allowed ? "allowed" : "blocked", dict_u64 (r, "bytes-in"),
               dict_u64 (r, "bytes-out"));
    }
  return EXIT_OK;
}

static int
cmd_history (PcCtl *ctl)
{
  const char *verb = ctl->args->len > 1 ? ctl->args->pdata[1] : NULL;
  g_autoptr (GError) error = NULL;

  if (g_strcmp0 (verb, "delete") == 0)
    {
      gint64 since = 0, until = 0, deleted = 0;
      g_autoptr (GVariant) reply = NULL;

      if (ctl->args->len != 2)
        return usage_error ("history delete [--app ID] [--since T] [--until T]");
      if (!parse_time (ctl->since, &since) || !parse_time (ctl->until, &until))
        return usage_error ("cannot read --since/--until: use ISO 8601, seconds, or an age");
      reply = pc_client_call_interactive_sync (
          ctl->client, "DeleteHistory",
          g_variant_new ("(sxx)", ctl->app != NULL ? ctl->app : "", since, until), NULL, &error);
      if (reply == NULL)
        return fail (error);
      g_variant_get (reply, "(x)", &deleted);
      if (ctl->json)
        g_print ("{\"deleted\": %" G_GINT64_FORMAT "}\n", deleted);
      else
        g_print ("%" G_GINT64_FORMAT " connections deleted\n", deleted);
      return EXIT_OK;
    }
  if (g_strcmp0 (verb, "count") == 0)
    {
      g_autoptr (GVariant) query = NULL;
      g_autoptr (GVariant) reply = NULL;
      g_autoptr (GVariant) counts = NULL;
      GVariantIter iter;
      const char *group;
      guint64 n;

      if (ctl->args->len < 3)
        return usage_error ("history count app|domain|country [WORDS]");
      query = history_query (ctl, 3, &error);
      if (query == NULL)
        return usage_error ("%s", error->message);
      reply = g_dbus_proxy_call_sync (
          G_DBUS_PROXY (ctl->proxy), "CountHistory",
          g_variant_new ("(@a{sv}s)", query, (const char *)ctl->args->pdata[2]),
          G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
      if (reply == NULL)
        return fail (error);
      counts = g_variant_get_child_value (reply, 0);
      if (ctl->json)
        {
          print_json (counts);
          return EXIT_OK;
        }
      g_variant_iter_init (&iter, counts);
      while (g_variant_iter_next (&iter, "(&st)", &group, &n))
        g_print ("%8" G_GUINT64_FORMAT "  %s\n", n, *group ? group : "(none)");
      return EXIT_OK;
    }
  if (g_strcmp0 (verb, "export") == 0)
    {
      g_autoptr (GVariant) query = NULL;
      g_autoptr (GVariant) reply = NULL;
      g_autoptr (GVariant) data = NULL;
      const char *path;
      const char *format = ctl->format;
      gsize len = 0;
      const char *bytes;

      if (ctl->args->len != 3)
        return usage_error ("history export FILE [--format csv|json]");
      path = ctl->args->pdata[2];
      if (format == NULL)
        format = g_str_has_suffix (path, ".json") ? "json" : "csv";
      query = history_query (ctl, 3, &error);
      if (query == NULL)
        return usage_error ("%s", error->message);
      reply = g_dbus_proxy_call_sync (G_DBUS_PROXY (ctl->proxy), "ExportHistory",
                                      g_variant_new ("(@a{sv}s)", query, format),
                                      G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
      if (reply == NULL)
        return fail (error);
      data = g_variant_get_child_value (reply, 0);
      bytes = g_variant_get_fixed_array (data, &len, 1);
      if (g_str_equal (path, "-"))
        {
          fwrite (bytes, 1, len, stdout);
          return EXIT_OK;
        }
      if (!g_file_set_contents_full (path, bytes, (gssize)len, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                     &error))
        return fail (error);
      return EXIT_OK;
    }
  return history_search (ctl, 1);
}

static int
cmd_bandwidth (PcCtl *ctl)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) series = NULL;
  gint64 since = 0, until = 0, t;
  guint64 bin, bout;
  GVariantIter iter;

  if (ctl->args->len != 1)
    return usage_error ("bandwidth [--app ID] [--since T] [--until T] [--step SECONDS]");
  if (!parse_time (ctl->since != NULL ? ctl->since : "1h", &since)
      || !parse_time (ctl->until, &until))
    return usage_error ("cannot read --since/--until: use ISO 8601, seconds, or an age");
  reply = g_dbus_proxy_call_sync (G_DBUS_PROXY (ctl->proxy), "GetBandwidth",
                                  g_variant_new ("(sxxu)", ctl->app != NULL ? ctl->app : "", since,
                                                 until, ctl->step > 0 ? ctl->step : 60),
                                  G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  if (reply == NULL)
    return fail (error);
  series = g_variant_get_child_value (reply, 0);
  if (ctl->json)
    {
      print_json (series);
      return EXIT_OK;
    }
  g_print ("%-19s %14s %14s\n", "FROM", "BYTES IN", "BYTES OUT");
  g_variant_iter_init (&iter, series);
  while (g_variant_iter_next (&iter, "(xtt)", &t, &bin, &bout))
    {
      g_autofree char *when = format_time (t);
      g_print ("%-19s %14" G_GUINT64_FORMAT " %14" G_GUINT64_FORMAT "\n", when, bin, bout);
    }
  return EXIT_OK;
}

/* ---- filter lists --------------------------------------------------------------------------- */

static void
print_list (GVariant *list)
{
  g_autofree const char **cats = NULL;
  g_autofree char *joined = NULL;

  g_variant_lookup (list, "categories", "^a&s", &cats);
  joined = cats != NULL ? g_strjoinv (",", (char **)cats) : g_strdup ("");
  g_print ("%-20s %-24s %9" G_GUINT64_FORMAT " %9" G_GUINT64_FORMAT " %9" G_GUINT64_FORMAT "  %s\n",
           dict_str (list, "id"), joined, dict_u64 (list, "domains"), dict_u64 (list, "networks"),
           dict_u64 (list, "rejected"), dict_str (list, "file"));
}

/* lists update on a terminal: UpdateFilterLists runs while ListFilterLists is polled for its
 * progress, shown on one line that the result then replaces. */
typedef struct
{
  PcCtl *ctl;
  GVariant *reply;
  GError *error;
  gboolean polling;
  gboolean shown;
} ListsUpdate;

/* "downloading  45%  1.2 MB of 2.7 MB", "verifying...", or NULL when no update runs. */
static char *
format_update_progress (GVariant *update)
{
  const char *phase = dict_str (update, "phase");
  double fraction = -1;

  if (*phase == '\0')
    return NULL;
  g_variant_lookup (update, "fraction", "d", &fraction);
  if (g_str_equal (phase, "downloading") && fraction >= 0)
    {
      g_autofree char *done = g_format_size (dict_u64 (update, "bytes-done"));
      g_autofree char *total = g_format_size (dict_u64 (update, "bytes-total"));

      return g_strdup_printf ("%s %3d%%  %s of %s", phase, (int)(fraction * 100 + 0.5), done,
                              total);
    }
  return g_strdup_printf ("%s...", phase);
}

static void
lists_progress_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ListsUpdate *u = user_data;
  g_autoptr (GVariant) reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), result, NULL);
  g_autoptr (GVariant) status = NULL;
  g_autoptr (GVariant) update = NULL;
  g_autofree char *line = NULL;

  u->polling = FALSE;
  /* a failed poll (e.g. not allowed to monitor) only means no progress line */
  if (reply == NULL || u->reply != NULL || u->error != NULL)
    return;
  status = g_variant_get_child_value (reply, 0);
  update = g_variant_lookup_value (status, "update", G_VARIANT_TYPE_VARDICT);
  line = update != NULL ? format_update_progress (update) : NULL;
  if (line == NULL)
    return;
  g_print ("\r\033[K%s", line);
  fflush (stdout);
  u->shown = TRUE;
}

static gboolean
lists_poll_cb (gpointer user_data)
{
  ListsUpdate *u = user_data;

  if (!u->polling)
    {
      u->polling = TRUE;
      g_dbus_proxy_call (G_DBUS_PROXY (u->ctl->proxy), "ListFilterLists", NULL,
                         G_DBUS_CALL_FLAGS_NONE, -1, NULL, lists_progress_cb, u);
    }
  return G_SOURCE_CONTINUE;
}

static void
lists_update_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ListsUpdate *u = user_data;

  u->reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), result, &u->error);
  g_main_loop_quit (u->ctl->loop);
}

static GVariant *
lists_update_with_progress (PcCtl *ctl, GError **error)
{
  ListsUpdate u = { ctl, NULL, NULL, FALSE, FALSE };
  guint timer;

  ctl->loop = g_main_loop_new (NULL, FALSE);
  /* polkit may wait for a person to type a password: no D-Bus timeout */
  g_dbus_proxy_call (G_DBUS_PROXY (ctl->proxy), "UpdateFilterLists", NULL,
                     G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION, G_MAXINT, NULL,
                     lists_update_done_cb, &u);
  timer = g_timeout_add (200, lists_poll_cb, &u);
  g_main_loop_run (ctl->loop);
  g_source_remove (timer);
  /* a poll still in flight must not outlive u */
  while (u.polling)
    g_main_context_iteration (NULL, TRUE);
  if (u.shown)
    g_print ("\r\033[K");
  if (u.error != NULL)
    g_propagate_error (error, u.error);
  return u.reply;
}

static int
cmd_lists (PcCtl *ctl)
{
  const char *verb = ctl->args->len > 1 ? ctl->args->pdata[1] : NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) status = NULL;
  g_autoptr (GVariant) lists = NULL;
  GVariantIter iter;
  GVariant *list;

  if (g_strcmp0 (verb, "update") == 0)
    {
      gboolean updated = FALSE;

      if (ctl->args->len != 2)
        return usage_error ("lists update");
      if (!ctl->json && isatty (STDOUT_FILENO))
        reply = lists_update_with_progress (ctl, &error);
      else
        reply = pc_client_call_interactive_sync (ctl->client, "UpdateFilterLists", NULL, NULL,
                                                 &error);
      if (reply == NULL)
        return fail (error);
      g_variant_get (reply, "(b)", &updated);
      if (ctl->json)
        g_print ("{\"updated\": %s}\n", updated ? "true" : "false");
      else
        g_print ("%s\n", updated ? "filter lists updated" : "filter lists are up to date");
      return EXIT_OK;
    }
  if (verb != NULL && !(g_str_equal (verb, "show") && ctl->args->len == 3))
    return usage_error ("lists | lists show ID | lists update");
  reply = g_dbus_proxy_call_sync (G_DBUS_PROXY (ctl->proxy), "ListFilterLists", NULL,
                                  G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  if (reply == NULL)
    return fail (error);
  status = g_variant_get_child_value (reply, 0);
  lists = g_variant_lookup_value (status, "lists", G_VARIANT_TYPE ("aa{sv}"));
  if (verb != NULL)
    {
      const char *id = ctl->args->pdata[2];
      g_variant_iter_init (&iter, lists);
      while ((list = g_variant_iter_next_value (&iter)) != NULL)
        {
          g_autoptr (GVariant) l = list;
          if (!g_str_equal (dict_str (l, "id"), id))
            continue;
          if (ctl->json)
            print_json (l);
          else
            {
              g_print ("%-20s %-24s %9s %9s %9s  %s\n", "ID", "CATEGORIES", "DOMAINS", "NETWORKS",
                       "REJECTED", "FILE");
              print_list (l);
              if (dict_u64 (l, "rejected") > 0)
                g_print ("first rejected line %" G_GUINT64_FORMAT ": %s\n",
                         dict_u64 (l, "first-rejected-line"),
                         dict_str (l, "first-rejected-reason"));
            }
          return EXIT_OK;
        }
      g_printerr ("portcullisctl: no filter list '%s' (see portcullisctl lists)\n", id);
      return EXIT_ERROR;
    }
  if (ctl->json)
    {
      print_json (status);
      return EXIT_OK;
    }
  g_print ("%-20s %-24s %9s %9s %9s  %s\n", "ID", "CATEGORIES", "DOMAINS", "NETWORKS", "REJECTED",
           "FILE");
  if (lists != NULL)
    {
      g_variant_iter_init (&iter, lists);
      while ((list = g_variant_iter_next_value (&iter)) != NULL)
        {
          g_autoptr (GVariant) l = list;
          print_list (l);
        }
    }
  if (*dict_str (status, "custom-list"))
    g_print ("custom list %s: %" G_GUINT64_FORMAT " domains, %" G_GUINT64_FORMAT " networks%s%s\n",
             dict_str (status, "custom-list"), dict_u64 (status, "custom-domains"),
             dict_u64 (status, "custom-networks"), *dict_str (status, "custom-error") ? ": " : "",
             dict_str (status, "custom-error"));
  {
    g_autoptr (GVariant) update = g_variant_lookup_value (status, "update", G_VARIANT_TYPE_VARDICT);
    g_autofree char *progress = update != NULL ? format_update_progress (update) : NULL;

    if (update != NULL)
      g_print ("updates from %s: %s\n",
               *dict_str (update, "url") ? dict_str (update, "url") : "(no lists-url set)",
               *dict_str (update, "last-result") ? dict_str (update, "last-result")
                                                 : "not tried yet");
    if (progress != NULL)
      g_print ("update running: %s\n", progress);
  }
  g_print ("geo data: %s\n", dict_str (status, "geo"));
  if (*dict_str (status, "last-error"))
    g_print ("last error: %s\n", dict_str (status, "last-error"));
  return EXIT_OK;
}

/* ---- dns ------------------------------------------------------------------------------------ */

static int
dns_status (PcCtl *ctl)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) status = NULL;
  g_autoptr (GVariant) cache = NULL;
  g_autoptr (GVariant) upstreams = NULL;
  g_autofree const char **listen = NULL;
  g_autofree char *listen_text = NULL;
  g_autofree char *memory = NULL;
  GVariantIter iter;
  GVariant *u;

  reply = g_dbus_proxy_call_sync (G_DBUS_PROXY (ctl->proxy), "GetDnsStatus", NULL,
                                  G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  if (reply == NULL)
    return fail (error);
  status = g_variant_get_child_value (reply, 0);
  if (ctl->json)
    {
      print_json (status);
      return EXIT_OK;
    }
  g_variant_lookup (status, "listen", "^a&s", &listen);
  listen_text = listen != NULL ? g_strjoinv (", ", (char **)listen) : g_strdup ("");
  if (!dict_u64 (status, "enabled"))
    g_print ("%-16s off (dns-resolver = false)\n", "Resolver");
  else if (!dict_u64 (status, "running"))
    g_print ("%-16s not running\n", "Resolver");
  else
    g_print ("%-16s running on %s; queries to other servers %s\n", "Resolver", listen_text,
             dict_u64 (status, "intercepting") ? "redirected to it" : "NOT redirected");
  if (*dict_str (status, "listen-error"))
    g_print ("%-16s %s\n", "Cannot listen", dict_str (status, "listen-error"));
  if (*dict_str (status, "error"))
    g_print ("%-16s %s\n", "Error", dict_str (status, "error"));
  g_print ("%-16s rebinding guard %s, blocked names get %s, bypass prevention %s\n", "Policy",
           dict_u64 (status, "block-rebinding") ? "on" : "off", dict_str (status, "block-reply"),
           dict_u64 (status, "bypass-prevention") ? "on" : "off");
  g_print ("%-16s %" G_GUINT64_FORMAT " answered, %" G_GUINT64_FORMAT " blocked\n", "Queries",
           dict_u64 (status, "queries"), dict_u64 (status, "blocked"));
  cache = g_variant_lookup_value (status, "cache", G_VARIANT_TYPE_VARDICT);
  if (cache != NULL)
    {
      memory = g_format_size (dict_u64 (cache, "memory"));
      g_print ("%-16s %" G_GUINT64_FORMAT " entries (%s), %" G_GUINT64_FORMAT
               " hits, %" G_GUINT64_FORMAT " misses\n",
               "Cache", dict_u64 (cache, "entries"), memory, dict_u64 (cache, "hits"),
               dict_u64 (cache, "misses"));
    }
  upstreams = g_variant_lookup_value (status, "upstreams", G_VARIANT_TYPE ("aa{sv}"));
  if (upstreams == NULL || g_variant_n_children (upstreams) == 0)
    return EXIT_OK;
  g_print ("\n%-32s %-9s %-12s %10s %8s %8s  %s\n", "UPSTREAM", "TRANSPORT", "STATE", "LATENCY",
           "QUERIES", "FAILURES", "LAST ERROR");
  g_variant_iter_init (&iter, upstreams);
  while ((u = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autoptr (GVariant) up = u;
      guint64 queries = dict_u64 (up, "queries");
      g_autofree char *latency
          = dict_u64 (up, "latency-us") > 0
                ? g_strdup_printf ("%.1f ms", (double)dict_u64 (up, "latency-us") / 1000.0)
                : g_strdup ("-");

      g_print ("%-32s %-9s %-12s %10s %8" G_GUINT64_FORMAT " %8" G_GUINT64_FORMAT "  %s\n",
               dict_str (up, "name"), dict_str (up, "transport"),
               queries == 0                 ? "not asked"
               : dict_u64 (up, "reachable") ? "reachable"
                                            : "unreachable",
               latency, queries, dict_u64 (up, "failures"), dict_str (up, "last-error"));
    }
  return EXIT_OK;
}

static int
dns_query (PcCtl *ctl)
{
  const char *name = ctl->args->pdata[2];
  const char *type = ctl->args->len > 3 ? ctl->args->pdata[3] : "A";
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariant) result = NULL;
  g_autofree const char **answers = NULL;
  const char *upstream;

  reply = g_dbus_proxy_call_sync (G_DBUS_PROXY (ctl->proxy), "QueryDns",
                                  g_variant_new ("(ss)", name, type), G_DBUS_CALL_FLAGS_NONE, -1,
                                  NULL, &error);
  if (reply == NULL)
    return fail (error);
  result = g_variant_get_child_value (reply, 0);
  if (ctl->json)
    {
      print_json (result);
      return EXIT_OK;
    }
  g_variant_lookup (result, "answers", "^a&s", &answers);
  for (guint i = 0; answers != NULL && answers[i] != NULL; i++)
    g_print ("%s\n", answers[i]);
  upstream = dict_str (result, "upstream");
  g_print (";; %s in %.1f ms%s%s%s\n", dict_str (result, "rcode"),
           (double)dict_u64 (result, "elapsed-us") / 1000.0,
           dict_u64 (result, "cached") ? ", from the cache" : "", *upstream ? ", from " : "",
           upstream);
  if (dict_u64 (result, "blocked"))
    g_print (";; blocked: %s\n", dict_str (result, "reason"));
  return EXIT_OK;
}

static int
cmd_dns (PcCtl *ctl)
{
  const char *verb = ctl->args->len > 1 ? ctl->args->pdata[1] : NULL;

  if (g_strcmp0 (verb, "status") == 0 && ctl->args->len == 2)
    return dns_status (ctl);
  if (g_strcmp0 (verb, "query") == 0 && (ctl->args->len == 3 || ctl->args->len == 4))
    return dns_query (ctl);
  if (g_strcmp0 (verb, "flush") == 0 && ctl->args->len == 2)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GVariant) reply
          = pc_client_call_interactive_sync (ctl->client, "FlushDnsCache", NULL, NULL, &error);
      guint32 flushed = 0;

      if (reply == NULL)
        return fail (error);
      g_variant_get (reply, "(u)", &flushed);
      if (ctl->json)
        g_print ("{\"flushed\": %u}\n", flushed);
      else
        g_print ("flushed %u cache entries\n", flushed);
      return EXIT_OK;
    }
  return usage_error ("dns status | dns query NAME [TYPE] | dns flush");
}

/* ---- prompts -------------------------------------------------------------------------------- */

static int
cmd_prompts (PcCtl *ctl)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) prompts = NULL;
  GVariantIter iter;
  GVariant *p;

  if (ctl->args->len != 1)
    return usage_error ("prompts");
  if (!pc_dbus_portcullis1_call_list_prompts_sync (ctl->proxy, &prompts, NULL, &error))
    return fail (error);
  if (ctl->json)
    {
      print_json (prompts);
      return EXIT_OK;
    }
  g_variant_iter_init (&iter, prompts);
  while ((p = g_variant_iter_next_value (&iter)) != NULL)
    {
      g_autoptr (GVariant) prompt = p;
      g_autoptr (GVariant) c
          = g_variant_lookup_value (prompt, "connection", G_VARIANT_TYPE_VARDICT);
      g_print ("%s  %s wants %s:%" G_GUINT64_FORMAT " (%s)\n", dict_str (prompt, "id"),
               c != NULL ? dict_str (c, "exe") : "?", c != NULL ? dict_str (c, "remote") : "?",
               c != NULL ? dict_u64 (c, "remote-port") : 0,
               c != NULL ? dict_str (c, "protocol") : "?");
    }
  return EXIT_OK;
}

static int
cmd_prompt (PcCtl *ctl)
{
  g_autoptr (GError) error = NULL;
  GVariantDict d;
  const char *lifetime = ctl->lifetime;

  if (ctl->args->len != 4 || !g_str_equal (ctl->args->pdata[1], "answer"))
    return usage_error ("prompt answer ID allow|block [--scope S] [--lifetime L]");
  g_variant_dict_init (&d, NULL);
  g_variant_dict_insert (&d, "verdict", "s", (const char *)ctl->args->pdata[3]);
  if (ctl->scope != NULL)
    g_variant_dict_insert (&d, "scope", "s", ctl->scope);
  if (lifetime != NULL && g_ascii_isdigit (lifetime[0]) && g_str_has_suffix (lifetime, "m"))
    {
      g_variant_dict_insert (&d, "lifetime", "s", "minutes");
      g_variant_dict_insert (&d, "minutes", "u", (guint32)g_ascii_strtoull (lifetime, NULL, 10));
    }
  else if (lifetime != NULL)
    g_variant_dict_insert (&d, "lifetime", "s", lifetime);
  if (!change (
          ctl, "AnswerPrompt",
          g_variant_new ("(s@a{sv})", (const char *)ctl->args->pdata[2], g_variant_dict_end (&d)),
          &error))
    return fail (error);
  return EXIT_OK;
}

/* ---- main ----------------------------------------------------------------------------------- */

typedef struct
{
  const char *name;
  int (*func) (PcCtl *ctl);
} PcCommand;

static const PcCommand commands[] = {
  { "status", cmd_status },   { "connections", cmd_connections },
  { "apps", cmd_apps },       { "app", cmd_app },
  { "config", cmd_config },   { "rules", cmd_rules },
  { "export", cmd_export },   { "import", cmd_import },
  { "history", cmd_history }, { "bandwidth", cmd_bandwidth },
  { "prompts", cmd_prompts }, { "prompt", cmd_prompt },
  { "lists", cmd_lists },     { "dns", cmd_dns },
};

int
main (int argc, char **argv)
{
  PcCtl ctl = { 0 };
  const PcCommand *command = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  gboolean options_done = FALSE;
  int status;

  setlocale (LC_ALL, "");
  for (int i = 1; i < argc; i++)
    {
      const char *a = argv[i];

      /* Options are words starting with "--" (and -h, -f): a rule such as "- example.com"
       * or a file named "-" is an argument. */
      if (options_done
          || !(g_str_has_prefix (a, "--") || g_str_equal (a, "-h") || g_str_equal (a, "-f")))
        g_ptr_array_add (args, argv[i]);
      else if (g_str_equal (a, "--"))
        options_done = TRUE;
      else if (g_str_equal (a, "--json"))
        ctl.json = TRUE;
      else if (g_str_equal (a, "--follow") || g_str_equal (a, "-f"))
        ctl.follow = TRUE;
      else if (g_str_equal (a, "--inbound"))
        ctl.inbound = TRUE;
      else if (g_str_equal (a, "--app") || g_str_has_prefix (a, "--app="))
        {
          if (a[5] == '=')
            ctl.app = (char *)a + 6;
          else if (i + 1 < argc)
            ctl.app = argv[++i];
          else
            return usage_error ("--app needs a profile id");
        }
      else if (g_str_has_prefix (a, "--since=") || g_str_has_prefix (a, "--until=")
               || g_str_has_prefix (a, "--verdict=") || g_str_has_prefix (a, "--format=")
               || g_str_has_prefix (a, "--scope=") || g_str_has_prefix (a, "--lifetime=")
               || g_str_has_prefix (a, "--limit=") || g_str_has_prefix (a, "--step=")
               || g_str_equal (a, "--since") || g_str_equal (a, "--until")
               || g_str_equal (a, "--verdict") || g_str_equal (a, "--format")
               || g_str_equal (a, "--scope") || g_str_equal (a, "--lifetime")
               || g_str_equal (a, "--limit") || g_str_equal (a, "--step"))
        {
          /* options with a value: --name=VALUE or --name VALUE */
          const char *eq = strchr (a, '=');
          g_autofree char *name = eq != NULL ? g_strndup (a + 2, eq - a - 2) : g_strdup (a + 2);
          char *value;
          guint64 n;

          if (eq != NULL)
            value = (char *)eq + 1;
          else if (i + 1 < argc)
            value = argv[++i];
          else
            return usage_error ("--%s needs a value", name);
          if (g_str_equal (name, "since"))
            ctl.since = value;
          else if (g_str_equal (name, "until"))
            ctl.until = value;
          else if (g_str_equal (name, "verdict"))
            {
              if (!g_str_equal (value, "allowed") && !g_str_equal (value, "blocked"))
                return usage_error ("--verdict is allowed or blocked, not '%s'", value);
              ctl.verdict = value;
            }
          else if (g_str_equal (name, "format"))
            {
              if (!g_str_equal (value, "csv") && !g_str_equal (value, "json"))
                return usage_error ("--format is csv or json, not '%s'", value);
              ctl.format = value;
            }
          else if (g_str_equal (name, "scope"))
            ctl.scope = value;
          else if (g_str_equal (name, "lifetime"))
            ctl.lifetime = value;
          else if (!g_ascii_string_to_unsigned (value, 10, 1, G_MAXUINT32, &n, NULL))
            return usage_error ("--%s needs a positive number, not '%s'", name, value);
          else if (g_str_equal (name, "limit"))
            ctl.limit = (guint)n;
          else
            ctl.step = (guint)n;
        }
      else if (g_str_equal (a, "--help") || g_str_equal (a, "-h"))
        {
          g_print ("%s", usage_text);
          return EXIT_OK;
        }
      else if (g_str_equal (a, "--version"))
        {
          g_print ("portcullisctl %s\n", PACKAGE_VERSION);
          return EXIT_OK;
        }
      else
        return usage_error ("unknown option '%s'", a);
    }
  if (args->len == 0)
    return usage_error ("no command given");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (commands[i].name, args->pdata[0]))
      command = &commands[i];
  if (command == NULL)
    return usage_error ("unknown command '%s'", (const char *)args->pdata[0]);
  if (ctl.follow && command->func != cmd_connections)
    return usage_error ("--follow goes with connections only");
  if (ctl.app != NULL && command->func != cmd_rules && command->func != cmd_history
      && command->func != cmd_bandwidth)
    return usage_error ("--app goes with rules, history and bandwidth only");
  if (ctl.inbound && command->func != cmd_rules)
    return usage_error ("--inbound goes with rules add and rules remove only");

  ctl.args = args;
  ctl.client = pc_client_new_sync (NULL, &error);
  if (ctl.client == NULL)
    return fail (error);
  ctl.proxy = pc_client_get_proxy (ctl.client);
  if (!pc_client_is_running (ctl.client))
    {
      g_printerr ("portcullisctl: portcullisd is not running (no owner of %s on the system bus)\n",
                  PC_CLIENT_BUS_NAME);
      g_clear_object (&ctl.client);
      return EXIT_ERROR;
    }
  status = command->func (&ctl);
  g_clear_pointer (&ctl.loop, g_main_loop_unref);
  g_clear_object (&ctl.client);
  return status;
}
