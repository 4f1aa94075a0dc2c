/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Settings (DESIGN.md "Settings"): the key table with types and built-in defaults, validation
 * of values (as GVariants, the form they take on D-Bus and in the store), the admin file, and
 * PcSettings: one immutable, refcounted set of effective values shared with the packet thread.
 *
 * Layers, lowest first: built-in default < admin file (CONFIG_DIR/settings.conf) < user value
 * (stored) < profile override. pc_settings_new_layered() resolves one value per key from such
 * layers. */
#pragma once

#include <glib.h>

#include "pc-rule.h"

G_BEGIN_DECLS

typedef enum
{
  PC_DEFAULT_ALLOW,
  PC_DEFAULT_BLOCK,
  PC_DEFAULT_PROMPT,
} PcDefaultAction;

typedef enum
{
  PC_REACTION_DROP,
  PC_REACTION_REJECT,
} PcBlockReaction;

typedef enum
{
  PC_DNS_BLOCK_ANSWER_NXDOMAIN,
  PC_DNS_BLOCK_ANSWER_ZERO,
} PcDnsBlockAnswer;

typedef enum
{
  PC_FAIL_OPEN,
  PC_FAIL_CLOSED,
} PcFailMode;

/* Every setting key; the order of the table in pc-settings.c. */
typedef enum
{
  PC_KEY_DEFAULT_ACTION,
  PC_KEY_BLOCK_LOCALHOST,
  PC_KEY_BLOCK_LAN,
  PC_KEY_BLOCK_INTERNET,
  PC_KEY_BLOCK_P2P,
  PC_KEY_BLOCK_INBOUND,
  PC_KEY_ENDPOINTS,
  PC_KEY_INBOUND_ENDPOINTS,
  PC_KEY_FILTER_LISTS,
  PC_KEY_BLOCK_REACTION,
  PC_KEY_PROMPT_TIMEOUT,
  PC_KEY_PROMPT_DEFAULT,
  PC_KEY_PROMPT_INBOUND,
  PC_KEY_DNS_RESOLVER,
  PC_KEY_DNS_SERVERS,
  PC_KEY_DNS_LISTEN,
  PC_KEY_DNS_BLOCK_REBINDING,
  PC_KEY_DNS_BLOCK_REPLY,
  PC_KEY_DNS_BYPASS_PREVENTION,
  PC_KEY_HISTORY,
  PC_KEY_HISTORY_KEEP_DAYS,
  PC_KEY_BANDWIDTH,
  PC_KEY_FAIL_MODE,
  PC_KEY_CUSTOM_LIST,
  PC_KEY_GEO_DATABASE,
  PC_KEY_LISTS_URL,
  PC_KEY_LISTS_KEYS,
  PC_KEY_LISTS_UPDATE_INTERVAL,
  PC_N_KEYS,
} PcSettingKey;

typedef struct
{
  gint ref_count;
  PcDefaultAction default_action;
  PcBlockReaction block_reaction;
  PcFailMode fail_mode;
  PcRuleList *endpoints;         /* outbound rules, never NULL (maybe empty) */
  PcRuleList *inbound_endpoints; /* inbound rules, never NULL */
  gboolean block_localhost;
  gboolean block_lan;
  gboolean block_internet;
  gboolean block_p2p;
  gboolean block_inbound;
  PcDefaultAction prompt_default; /* allow or block: an unanswered prompt */
  guint prompt_timeout;           /* seconds */
  gboolean prompt_inbound;        /* inbound flows may prompt too (else prompt-default) */
  char **filter_lists;            /* list ids, never NULL */
  /* the local resolver (global only: profile overrides of these are not used) */
  gboolean dns_resolver;
  char **dns_servers; /* upstream URLs, never NULL */
  char **dns_listen;  /* "ADDR[:PORT]", never NULL */
  gboolean dns_block_rebinding;
  PcDnsBlockAnswer dns_block_reply;
  gboolean dns_bypass_prevention;
  gboolean history;
  guint history_keep_days;
  gboolean bandwidth;
  char *custom_list;           /* the user's own filter list file ("" none), category CUSTOM */
  char *geo_database;          /* MMDB/GeoIP file or directory ("" the standard places) */
  char *lists_url;             /* where signed filter-list updates come from ("" none) */
  char *lists_keys;            /* directory of trusted .pub keys ("" CONFIG_DIR/keys) */
  guint lists_update_interval; /* seconds, 0 never */
  /* The value of each key as a GVariant (never NULL), for queries. */
  GVariant *values[PC_N_KEYS];
} PcSettings;

/* The key's name ("block-lan"), its GVariant type string ("b") and built-in default. */
const char *pc_setting_key_name (PcSettingKey key);
const char *pc_setting_key_type (PcSettingKey key);
GVariant *pc_setting_key_default (PcSettingKey key); /* new floating-free reference */
gboolean pc_setting_key_from_name (const char *name, PcSettingKey *out);
/* Checks type and value (enumerations, rule lists, list ids, URLs, ranges). Errors:
 * PC_ERROR_INVALID_SETTING, or PC_ERROR_INVALID_RULE for a bad rule list; messages name the key
 * and the bad value. */
gboolean pc_setting_validate (const char *name, GVariant *value, GError **error);

/* Built-in defaults: allow, reject, fail open, no rules, no scope blocked, prompt 60 s then
 * block, history 30 days, bandwidth on; the resolver on with the `system` upstreams on
 * 127.0.0.17:53 and [::1]:53, rebinding guard and bypass prevention on, NXDOMAIN for blocked
 * names. */
PcSettings *pc_settings_new_default (void);
/* Effective settings from layers (each a GHashTable of key name -> GVariant, or NULL), highest
 * first; a key absent from all layers takes its built-in default. Values must be valid. */
PcSettings *pc_settings_new_layered (GHashTable *const *layers, guint n_layers);
/* Reads a GKeyFile with a [global] group into key name -> GVariant (new table). A missing file
 * yields an empty table; a bad file fails with an error naming the file, the key and the
 * reason, and nothing is returned. Unknown keys are errors (they are usually typos). */
GHashTable *pc_settings_read_keyfile (const char *path, GError **error);
/* pc_settings_read_keyfile() resolved over the defaults. */
PcSettings *pc_settings_load (const char *path, GError **error);
PcSettings *pc_settings_ref (PcSettings *self);
void pc_settings_unref (PcSettings *self);

const char *pc_default_action_to_string (PcDefaultAction action);
const char *pc_block_reaction_to_string (PcBlockReaction reaction);
const char *pc_fail_mode_to_string (PcFailMode mode);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcSettings, pc_settings_unref)

G_END_DECLS
