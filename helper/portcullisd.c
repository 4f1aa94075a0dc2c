/* SPDX-License-Identifier: GPL-3.0-or-later */
/* portcullisd: the root helper. Intercepts new flows, attributes and decides them. */
#define G_LOG_DOMAIN "portcullisd"

#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "pc-cgroup.h"
#include "pc-dns-daemon.h"
#include "pc-engine.h"
#include "pc-geo.h"
#include "pc-history.h"
#include "pc-intel-update.h"
#include "pc-intel.h"
#include "pc-profile.h"
#include "pc-policy-manager.h"
#include "pc-ruleset.h"
#include "pc-service.h"
#include "pc-settings.h"

typedef struct
{
  GMainLoop *loop;
  PcPolicyManager *policy;
  PcFailMode fail_mode; /* the one the installed ruleset has */
  GHashTable *seen;     /* profile ids with new connections since the last touch_cb */
  PcEngine *engine;
  PcService *service;          /* NULL with --no-dbus */
  PcHistory *history;          /* NULL when the history database cannot be used */
  PcIntel *intel;              /* filter lists */
  PcDnsDaemon *dns;            /* the local resolver, following the dns-* settings */
  char **dns_servers_override; /* --dns-servers, --dns-listen: they win over the settings */
  char **dns_listen_override;
  GMutex dns_lock;
  PcPolicySnapshot *dns_snapshot; /* for the resolver thread, under dns_lock */
  PcIntelUpdater *updater;
  char *config_dir;
  char *state_dir;
  char *lists_url; /* the settings the updater was made from */
  char *lists_keys;
  guint lists_interval;
  PcGeo *geo;        /* NULL until the first apply_intel */
  char *custom_list; /* the settings they were made from */
  char *geo_database;
  PcRulesetConfig ruleset;
  int exit_status;
} PcDaemon;

/* "a,b;c" -> {a, b, c}; NULL stays NULL */
static char **
split_list (const char *text)
{
  g_auto (GStrv) parts = NULL;
  g_autoptr (GStrvBuilder) b = NULL;

  if (text == NULL)
    return NULL;
  b = g_strv_builder_new ();
  parts = g_strsplit_set (text, ",;", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_strstrip (parts[i]);
      if (*parts[i] != '\0')
        g_strv_builder_add (b, parts[i]);
    }
  return g_strv_builder_end (b);
}

static gboolean
quit_cb (gpointer user_data)
{
  PcDaemon *daemon = user_data;

  g_message ("stopping");
  g_main_loop_quit (daemon->loop);
  return G_SOURCE_CONTINUE;
}

/* Connections go to the history unless their app's (or the global) "history" setting is off. */
static void
record_history_cb (GArray *changes, gpointer user_data)
{
  PcDaemon *daemon = user_data;
  g_autoptr (PcPolicySnapshot) snapshot = pc_policy_manager_get_snapshot (daemon->policy);
  PcSettings *global = pc_policy_snapshot_get_settings (snapshot);
  g_autoptr (GArray) kept
      = g_array_sized_new (FALSE, FALSE, sizeof (PcConnectionChange), changes->len);

  for (guint i = 0; i < changes->len; i++)
    {
      const PcConnectionChange *change = &g_array_index (changes, PcConnectionChange, i);
      const char *id = change->connection->profile_id;
      const PcProfile *profile
          = id != NULL && *id ? pc_policy_snapshot_get_profile (snapshot, id) : NULL;
      PcSettings *settings = profile != NULL ? profile->settings : global;

      if (settings->history)
        g_array_append_val (kept, *change); /* borrowed: pc_history_record takes references */
    }
  if (kept->len > 0)
    pc_history_record (daemon->history, kept);
}

/* Hourly retention: history-keep-days of the global settings. */
static gboolean
history_cleanup_cb (gpointer user_data)
{
  PcDaemon *daemon = user_data;
  g_autoptr (PcPolicySnapshot) snapshot = pc_policy_manager_get_snapshot (daemon->policy);
  guint days = pc_policy_snapshot_get_settings (snapshot)->history_keep_days;

  pc_history_cleanup (daemon->history,
                      g_get_real_time () - (gint64)days * 24 * 3600 * G_USEC_PER_SEC);
  return G_SOURCE_CONTINUE;
}

/* The user's custom list and the geo database follow the global settings. */
static void
apply_intel (PcDaemon *daemon, PcPolicySnapshot *snapshot)
{
  PcSettings *global = pc_policy_snapshot_get_settings (snapshot);
  gboolean changed = FALSE;

  if (daemon->geo == NULL || g_strcmp0 (daemon->geo_database, global->geo_database) != 0)
    {
      g_clear_pointer (&daemon->geo, pc_geo_unref);
      daemon->geo = pc_geo_open (global->geo_database, NULL);
      g_message ("geo data: %s", pc_geo_get_status (daemon->geo));
      g_free (daemon->geo_database);
      daemon->geo_database = g_strdup (global->geo_database);
      changed = TRUE;
    }
  if (g_strcmp0 (daemon->custom_list, global->custom_list) != 0)
    {
      g_autoptr (GError) error = NULL;
      if (!pc_intel_set_custom_list (daemon->intel, global->custom_list, &error))
        g_warning ("custom list: %s", error->message);
      g_free (daemon->custom_list);
      daemon->custom_list = g_strdup (global->custom_list);
      changed = TRUE;
    }
  if (changed && daemon->engine != NULL)
    pc_engine_set_intel (daemon->engine, daemon->intel, daemon->geo);

  /* Signed updates: a new updater when where they come from or who signs them changes. */
  if (daemon->updater == NULL || g_strcmp0 (daemon->lists_url, global->lists_url) != 0
      || g_strcmp0 (daemon->lists_keys, global->lists_keys) != 0)
    {
      g_autofree char *keys = *global->lists_keys
                                  ? g_strdup (global->lists_keys)
                                  : g_build_filename (daemon->config_dir, "keys", NULL);
      g_clear_object (&daemon->updater);
      daemon->updater
          = pc_intel_updater_new (daemon->intel, global->lists_url, keys, daemon->state_dir);
      g_free (daemon->lists_url);
      daemon->lists_url = g_strdup (global->lists_url);
      g_free (daemon->lists_keys);
      daemon->lists_keys = g_strdup (global->lists_keys);
      daemon->lists_interval = G_MAXUINT;
      if (daemon->service != NULL)
        pc_service_set_intel (daemon->service, daemon->intel, daemon->updater, daemon->geo);
    }
  if (daemon->lists_interval != global->lists_update_interval)
    {
      daemon->lists_interval = global->lists_update_interval;
      pc_intel_updater_set_interval (daemon->updater,
                                     *global->lists_url ? global->lists_update_interval : 0);
    }
  if (daemon->service != NULL)
    pc_service_set_intel (daemon->service, daemon->intel, daemon->updater, daemon->geo);
}

/* New list data (an update, the custom list file): live flows are judged again. */
static void
intel_changed_cb (PcDaemon *daemon)
{
  g_autoptr (PcPolicySnapshot) snapshot = pc_policy_manager_get_snapshot (daemon->policy);

  if (daemon->engine != NULL)
    pc_engine_set_snapshot (daemon->engine, snapshot);
}

/* The resolver asks for every question and CNAME target (in its own thread): a name an app may
 * not reach by an explicit rule or a filter list gets a refusal. Scopes and the default action
 * stay with the connection that follows (a name has no address yet), and DNS never prompts. */
static gboolean
dns_policy_cb (const PcDnsPolicyRequest *request, char **reason, gpointer user_data)
{
  PcDaemon *daemon = user_data;
  g_autoptr (PcPolicySnapshot) snapshot = NULL;
  g_autoptr (PcProcess) process = NULL;
  PcFlowKey key = { 0 };
  PcDecision decision;
  PcDecisionInput input = { 0 };

  g_mutex_lock (&daemon->dns_lock);
  if (daemon->dns_snapshot != NULL)
    snapshot = pc_policy_snapshot_ref (daemon->dns_snapshot);
  g_mutex_unlock (&daemon->dns_lock);
  if (snapshot == NULL)
    return FALSE;
  process = request->process != NULL ? pc_process_ref (request->process) : NULL;
  /* no address yet: 0.0.0.0 is in no scope and matches no address rule */
  key.family = key.laddr.family = key.raddr.family = AF_INET;
  key.direction = PC_DIR_OUTBOUND;
  input.key = &key;
  input.domain = request->name;
  input.profile = pc_policy_snapshot_match (snapshot, process, FALSE);
  input.process = process;
  /* an app that asks before it connects anywhere gets its profile now (not a D-Bus client
   * that asked through QueryDns: that is no traffic of its own) */
  if (input.profile == NULL && process != NULL && !request->from_helper)
    pc_policy_manager_request_profile (daemon->policy, process);
  input.had_dns_answer = TRUE;
  input.in_list = daemon->intel != NULL ? pc_intel_rule_in_list_cb : NULL;
  input.in_list_data = daemon->intel;
  pc_policy_snapshot_decide (snapshot, &input, &decision);
  if (decision.verdict != PC_VERDICT_BLOCK
      || (decision.kind != PC_REASON_RULE && decision.kind != PC_REASON_LIST))
    return FALSE;
  *reason = g_strdup (decision.reason);
  return TRUE;
}

static void
set_dns_snapshot (PcDaemon *daemon, PcPolicySnapshot *snapshot)
{
  g_mutex_lock (&daemon->dns_lock);
  g_clear_pointer (&daemon->dns_snapshot, pc_policy_snapshot_unref);
  daemon->dns_snapshot = pc_policy_snapshot_ref (snapshot);
  g_mutex_unlock (&daemon->dns_lock);
}

/* The resolver follows the global dns-* settings (the flags win over dns-servers/dns-listen). */
static void
apply_dns (PcDaemon *daemon, PcPolicySnapshot *snapshot)
{
  PcSettings *global = pc_policy_snapshot_get_settings (snapshot);
  PcDnsSettings settings = {
    .enabled = global->dns_resolver || daemon->dns_servers_override != NULL
               || daemon->dns_listen_override != NULL,
    .listen
    = (const char *const *)(daemon->dns_listen_override != NULL ? daemon->dns_listen_override
                                                                : global->dns_listen),
    .servers
    = (const char *const *)(daemon->dns_servers_override != NULL ? daemon->dns_servers_override
                                                                 : global->dns_servers),
    .block_rebinding = global->dns_block_rebinding,
    .block_reply = global->dns_block_reply == PC_DNS_BLOCK_ANSWER_ZERO ? PC_DNS_BLOCK_ZERO_ADDRESS
                                                                       : PC_DNS_BLOCK_NXDOMAIN,
    .bypass_prevention = global->dns_bypass_prevention,
  };

  if (daemon->dns != NULL)
    pc_dns_daemon_apply (daemon->dns, &settings);
}

/* The resolver started, moved or stopped: connections are named and judged by what it answered
 * (its memory outlives every resolver the daemon runs), and its own listeners are known. */
static void
dns_changed_cb (PcDnsDaemon *dns, PcDnsServer *server, gpointer user_data)
{
  PcDaemon *daemon = user_data;
  g_autoptr (GArray) bound = server != NULL ? pc_dns_server_get_bound (server) : NULL;

  if (daemon->engine == NULL)
    return;
  pc_engine_set_resolver (daemon->engine,
                          server != NULL ? (PcEngineDomainFunc)pc_dns_memory_lookup : NULL,
                          pc_dns_daemon_get_memory (dns), bound);
}

/* Any policy change (D-Bus, SIGHUP, a new profile, an expired temporary rule): the packet
 * thread gets the new snapshot and re-decides live flows; a new fail-mode needs new rules. */
static void
policy_changed_cb (PcDaemon *daemon)
{
  g_autoptr (PcPolicySnapshot) snapshot = pc_policy_manager_get_snapshot (daemon->policy);
  PcFailMode fail_mode = pc_policy_snapshot_get_fail_mode (snapshot);

  if (daemon->engine == NULL)
    return;
  if (fail_mode != daemon->fail_mode)
    {
      g_autoptr (GError) error = NULL;
      PcRulesetState state = { 0 };
      daemon->ruleset.fail_open = fail_mode == PC_FAIL_OPEN;
      if (!pc_ruleset_install (&daemon->ruleset, &state, &error))
        g_warning ("cannot switch to fail-mode %s: %s", pc_fail_mode_to_string (fail_mode),
                   error->message);
      else
        daemon->fail_mode = fail_mode;
      pc_ruleset_state_clear (&state);
    }
  apply_intel (daemon, snapshot);
  set_dns_snapshot (daemon, snapshot);
  apply_dns (daemon, snapshot);
  pc_engine_set_snapshot (daemon->engine, snapshot);
}

static gboolean
reload_cb (gpointer user_data)
{
  PcDaemon *daemon = user_data;
  g_autoptr (GError) error = NULL;

  if (!pc_policy_manager_reload_admin (daemon->policy, &error))
    {
      g_warning ("keeping the last good settings: %s", error->message);
      return G_SOURCE_CONTINUE;
    }
  g_message ("admin settings reloaded");
  return G_SOURCE_CONTINUE;
}

/* Profiles with new connections, for their last-seen time. */
static void
profiles_seen_cb (GArray *changes, gpointer user_data)
{
  PcDaemon *daemon = user_data;

  for (guint i = 0; i < changes->len; i++)
    {
      const PcConnectionChange *change = &g_array_index (changes, PcConnectionChange, i);
      const char *id = change->connection->profile_id;
      if (change->event == PC_CONNECTION_ADDED && id != NULL && *id != '\0')
        g_hash_table_add (daemon->seen, g_strdup (id));
    }
}

/* last-seen is written every few seconds at most: each write is an fsync'd transaction. */
static gboolean
touch_cb (gpointer user_data)
{
  PcDaemon *daemon = user_data;
  g_autofree const char **ids = NULL;

  if (g_hash_table_size (daemon->seen) == 0)
    return G_SOURCE_CONTINUE;
  ids = (const char **)g_hash_table_get_keys_as_array (daemon->seen, NULL);
  pc_policy_manager_touch_profiles (daemon->policy, ids);
  g_hash_table_remove_all (daemon->seen);
  return G_SOURCE_CONTINUE;
}

/* The packet thread saw a process without a profile (packet thread: only asks). */
static void
unknown_process_cb (PcProcess *process, gpointer user_data)
{
  PcDaemon *daemon = user_data;

  pc_policy_manager_request_profile (daemon->policy, process);
}

int
main (int argc, char **argv)
{
  g_autofree char *state_dir = NULL;
  g_autofree char *config_dir = NULL;
  g_autofree char *cgroup = NULL;
  gint queue_num = 0;
  gboolean no_bpf = FALSE;
  g_autofree char *lists_dir = NULL;
  gboolean no_dbus = FALSE;
  gboolean verbose = FALSE;
  g_autofree char *dns_servers = NULL;
  g_autofree char *dns_listen = NULL;
  gboolean version = FALSE;
  GOptionEntry entries[] = {
    { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir, "State directory", "DIR" },
    { "config-dir", 0, 0, G_OPTION_ARG_FILENAME, &config_dir, "Admin configuration directory",
      "DIR" },
    { "cgroup", 0, 0, G_OPTION_ARG_FILENAME, &cgroup,
      "cgroup v2 directory to attach BPF attribution to (default: the cgroup v2 root)", "PATH" },
    { "queue-num", 0, 0, G_OPTION_ARG_INT, &queue_num, "nfqueue number (default 0)", "N" },
    { "no-bpf", 0, 0, G_OPTION_ARG_NONE, &no_bpf, "Attribute with /proc only", NULL },
    { "lists-dir", 0, 0, G_OPTION_ARG_FILENAME, &lists_dir,
      "Shipped filter lists (default: the installed ones)", "DIR" },
    { "no-dbus", 0, 0, G_OPTION_ARG_NONE, &no_dbus,
      "Do not offer the D-Bus service on the system bus", NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log every decision", NULL },
    { "dns-servers", 0, 0, G_OPTION_ARG_STRING, &dns_servers,
      "Upstream URLs of the local resolver (instead of the dns-servers setting; turns the "
      "resolver on)",
      "URL,URL" },
    { "dns-listen", 0, 0, G_OPTION_ARG_STRING, &dns_listen,
      "Addresses the local resolver listens on (instead of the dns-listen setting; turns the "
      "resolver on)",
      "ADDR:PORT,..." },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- Portcullis firewall helper");
  g_autoptr (GError) error = NULL;
  PcDaemon daemon = { 0 };
  PcEngineConfig engine_config = { 0 };
  PcRulesetState state = { 0 };

  /* Every new flow allocates (its state and its record); in a burst of thousands the heaps
   * grow page by page and shrink again as flows end, each step a system call and page faults
   * on the packet path. A few MiB of slack per heap keep that off it (packet thread: 1.3 ->
   * 0.6 µs per new flow to replenish its pool of flow states). */
  mallopt (M_TOP_PAD, 4 * 1024 * 1024);

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("portcullisd: %s\n", error->message);
      return 2;
    }
  if (version)
    {
      g_print ("portcullisd %s\n", PACKAGE_VERSION);
      return 0;
    }
  if (queue_num < 0 || queue_num > 65535)
    {
      g_printerr ("portcullisd: --queue-num %d: must be 0-65535\n", queue_num);
      return 2;
    }
  if (state_dir == NULL)
    state_dir = g_strdup (PC_LOCALSTATEDIR);
  if (config_dir == NULL)
    config_dir = g_strdup (PC_SYSCONFDIR);
  if (cgroup == NULL && !no_bpf)
    cgroup = pc_cgroup2_find_root ();

  if (g_mkdir_with_parents (state_dir, 0700) < 0)
    {
      g_printerr ("portcullisd: cannot create state directory %s: %s\n", state_dir,
                  g_strerror (errno));
      return 1;
    }

  /* A corrupt database or a bad admin file is reported (get_problems) and the helper starts
   * with what it has; only an unusable state dir stops it. */
  g_mutex_init (&daemon.dns_lock);
  daemon.policy = pc_policy_manager_new (state_dir, config_dir, &error);
  if (daemon.policy == NULL)
    {
      g_printerr ("portcullisd: %s\n", error->message);
      return 1;
    }
  {
    g_autoptr (PcPolicySnapshot) snapshot = pc_policy_manager_get_snapshot (daemon.policy);
    daemon.fail_mode = pc_policy_snapshot_get_fail_mode (snapshot);
  }

  engine_config.queue_num = (guint16)queue_num;
  engine_config.cgroup_path = no_bpf ? NULL : cgroup;
  engine_config.verbose = verbose;
  /* The queue is bound before any rule sends packets to it, so fail-closed never drops
   * traffic during start-up. */
  {
    g_autoptr (PcPolicySnapshot) snapshot = pc_policy_manager_get_snapshot (daemon.policy);
    daemon.engine = pc_engine_new (&engine_config, snapshot, &error);
  }
  if (daemon.engine != NULL)
    {
      pc_engine_set_unknown_process_func (daemon.engine, unknown_process_cb, &daemon);
      daemon.seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      pc_engine_add_changes_func (daemon.engine, profiles_seen_cb, &daemon);
      g_timeout_add_seconds (5, touch_cb, &daemon);
    }
  if (daemon.engine != NULL)
    {
      g_autoptr (PcPolicySnapshot) snapshot = pc_policy_manager_get_snapshot (daemon.policy);
      g_autoptr (GError) lists_error = NULL;
      const char *dir = lists_dir != NULL ? lists_dir : pc_intel_get_shipped_dir ();

      daemon.intel = pc_intel_new ();
      daemon.config_dir = g_strdup (config_dir);
      daemon.state_dir = g_strdup (state_dir);
      apply_intel (&daemon, snapshot);
      /* The last verified update, else the lists that came with the package. */
      if (!pc_intel_updater_load_installed (daemon.updater, NULL)
          && !pc_intel_load_dir (daemon.intel, dir, &lists_error))
        g_warning ("no filter lists: %s", lists_error->message);
      g_signal_connect_swapped (daemon.intel, "changed", G_CALLBACK (intel_changed_cb), &daemon);
    }
  if (daemon.engine == NULL || !pc_engine_start (daemon.engine, &error))
    {
      g_printerr ("portcullisd: %s\n", error->message);
      g_clear_pointer (&daemon.engine, pc_engine_free);
      return 1;
    }
  if (pc_attrib_get_degraded_reason (pc_engine_get_attrib (daemon.engine)) != NULL)
    g_warning ("%s", pc_attrib_get_degraded_reason (pc_engine_get_attrib (daemon.engine)));

  daemon.ruleset.queue_num = (guint16)queue_num;
  daemon.ruleset.fail_open = daemon.fail_mode == PC_FAIL_OPEN;
  if (!pc_ruleset_install (&daemon.ruleset, &state, &error))
    {
      g_printerr ("portcullisd: %s\n", error->message);
      g_clear_pointer (&daemon.engine, pc_engine_free);
      return 1;
    }
  if (state.ipv6_error != NULL)
    g_warning ("%s", state.ipv6_error);
  /* the local resolver, from the dns-* settings (and the flags) */
  daemon.dns_servers_override = split_list (dns_servers);
  daemon.dns_listen_override = split_list (dns_listen);
  daemon.dns = pc_dns_daemon_new ();
  {
    g_autoptr (PcPolicySnapshot) snapshot = pc_policy_manager_get_snapshot (daemon.policy);
    /* per-app DNS policy; the data first, so the resolver thread never sees the function
     * without it */
    set_dns_snapshot (&daemon, snapshot);
    pc_dns_daemon_set_policy_func (daemon.dns, dns_policy_cb, &daemon);
    pc_dns_daemon_set_changed_func (daemon.dns, dns_changed_cb, &daemon);
    apply_dns (&daemon, snapshot);
  }

  daemon.loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, quit_cb, &daemon);
  g_unix_signal_add (SIGINT, quit_cb, &daemon);
  g_unix_signal_add (SIGHUP, reload_cb, &daemon);
  g_signal_connect_swapped (daemon.policy, "changed", G_CALLBACK (policy_changed_cb), &daemon);

  {
    g_autofree char *path = g_build_filename (state_dir, "history.db", NULL);
    g_autofree char *problem = NULL;
    daemon.history = pc_history_new (path, &problem, &error);
    if (problem != NULL)
      g_warning ("%s", problem);
    if (daemon.history == NULL)
      {
        g_warning ("no connection history: %s", error->message);
        g_clear_error (&error);
      }
    else
      {
        pc_engine_add_changes_func (daemon.engine, record_history_cb, &daemon);
        history_cleanup_cb (&daemon);
        g_timeout_add_seconds (3600, history_cleanup_cb, &daemon);
      }
  }

  /* The D-Bus service is asynchronous: without a system bus it warns and firewalling goes on. */
  if (!no_dbus)
    {
      PcServiceInterception interception
          = { (guint)queue_num, state.ipv4, state.ipv6, state.ipv6_error };

      daemon.service = pc_service_new (daemon.engine);
      pc_service_set_policy_manager (daemon.service, daemon.policy);
      pc_service_set_history (daemon.service, daemon.history);
      pc_service_set_intel (daemon.service, daemon.intel, daemon.updater, daemon.geo);
      pc_service_set_dns (daemon.service, daemon.dns);
      pc_service_set_interception (daemon.service, &interception);
      g_signal_connect_swapped (daemon.service, "stop", G_CALLBACK (g_main_loop_quit), daemon.loop);
      pc_service_start (daemon.service);
    }

  g_message ("intercepting on queue %d (IPv4%s, attribution: %s, fail-mode %s)", queue_num,
             state.ipv6 ? ", IPv6" : "",
             pc_attrib_get_mode (pc_engine_get_attrib (daemon.engine)) == PC_ATTRIB_MODE_BPF
                 ? "bpf"
                 : "proc",
             pc_fail_mode_to_string (daemon.fail_mode));
  fprintf (stderr, "portcullisd: ready\n");
  fflush (stderr);

  g_main_loop_run (daemon.loop);

  if (!pc_ruleset_remove (&error))
    {
      g_warning ("%s", error->message);
      daemon.exit_status = 1;
    }
  {
    PcEngineStats stats;
    pc_engine_get_stats (daemon.engine, &stats);
    g_message ("%" G_GUINT64_FORMAT " flows decided (%" G_GUINT64_FORMAT
               " allowed, %" G_GUINT64_FORMAT " blocked, %" G_GUINT64_FORMAT
               " cut) from %" G_GUINT64_FORMAT " queued packets",
               stats.flows, stats.allowed, stats.blocked, stats.cut, stats.packets);
  }
  g_clear_object (&daemon.service);
  if (daemon.history != NULL)
    pc_engine_remove_changes_func (daemon.engine, record_history_cb, &daemon);
  g_clear_pointer (&daemon.engine, pc_engine_free);
  /* the engine used the resolver's memory until it stopped; DNS answers until the very end */
  g_clear_pointer (&daemon.dns, pc_dns_daemon_free);
  g_strfreev (daemon.dns_servers_override);
  g_strfreev (daemon.dns_listen_override);
  g_clear_pointer (&daemon.dns_snapshot, pc_policy_snapshot_unref);
  g_mutex_clear (&daemon.dns_lock);
  /* Everything recorded so far is committed before the helper exits. */
  if (daemon.history != NULL)
    pc_history_flush (daemon.history);
  g_clear_pointer (&daemon.history, pc_history_free);
  g_clear_object (&daemon.updater);
  if (daemon.intel != NULL)
    g_signal_handlers_disconnect_by_data (daemon.intel, &daemon);
  g_clear_object (&daemon.intel);
  g_free (daemon.config_dir);
  g_free (daemon.state_dir);
  g_free (daemon.lists_url);
  g_free (daemon.lists_keys);
  g_clear_pointer (&daemon.geo, pc_geo_unref);
  g_free (daemon.custom_list);
  g_free (daemon.geo_database);
  if (daemon.policy != NULL)
    g_signal_handlers_disconnect_by_data (daemon.policy, &daemon);
  if (daemon.policy != NULL && daemon.seen != NULL)
    touch_cb (&daemon);
  g_clear_pointer (&daemon.seen, g_hash_table_unref);
  g_clear_object (&daemon.policy);
  g_clear_pointer (&daemon.loop, g_main_loop_unref);
  pc_ruleset_state_clear (&state);
  return daemon.exit_status;
}
