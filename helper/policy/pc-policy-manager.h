/* SPDX-License-Identifier: GPL-3.0-or-later */
/* CONTRACT between the policy engine (helper/policy, helper/store) and its users: the D-Bus
 * service (helper/service), the packet path (helper/intercept) and portcullisd.c.
 *
 * PcPolicyManager lives in the main thread. It owns global settings and profiles, persists them
 * in sqlite under the state dir (admin defaults read-only from CONFIG_DIR/settings.conf), and
 * publishes an immutable PcPolicySnapshot that the packet thread decides with. Every mutation
 * validates first, persists in a transaction, then publishes a new snapshot and emits
 * "changed". Values cross this API as GVariants so they map 1:1 onto D-Bus.
 *
 * Setting values (the keys of DESIGN.md "Settings"):
 *   default-action, block-reaction, fail-mode, prompt-default: "s" (enumerations)
 *   block-localhost, block-lan, block-internet, block-p2p, block-inbound, prompt-inbound,
 *   dns-block-rebinding, history, bandwidth: "b"
 *   prompt-timeout, history-keep-days: "u"
 *   endpoints, inbound-endpoints, filter-lists, dns-servers: "as"
 * Errors: PC_ERROR_INVALID_SETTING (unknown key, wrong type, bad value), PC_ERROR_INVALID_RULE
 * (with the rule parser's message), PC_ERROR_NOT_FOUND (profile id), PC_ERROR_EXISTS. */
#pragma once

#include <gio/gio.h>

#include "pc-policy-snapshot.h"
#include "pc-process.h"

G_BEGIN_DECLS

#define PC_TYPE_POLICY_MANAGER (pc_policy_manager_get_type ())
G_DECLARE_FINAL_TYPE (PcPolicyManager, pc_policy_manager, PC, POLICY_MANAGER, GObject)

/* Opens (or creates) STATE_DIR/policy.db. A corrupt database is moved aside (its new name and
 * the reason are in pc_policy_manager_get_problems) and the helper starts with defaults; a
 * bad admin settings.conf is reported the same way and ignored. Fails only when the state dir
 * itself cannot be used. */
PcPolicyManager *
pc_policy_manager_new (const char *state_dir, const char *config_dir, GError **error);
/* Re-reads CONFIG_DIR/settings.conf (SIGHUP); on error keeps the last good admin defaults. */
gboolean pc_policy_manager_reload_admin (PcPolicyManager *self, GError **error);
/* Human-readable problems found at start or reload (NULL-terminated, may be empty). */
const char *const *pc_policy_manager_get_problems (PcPolicyManager *self);

/* The current snapshot (new reference); "changed" is emitted after each replacement. */
PcPolicySnapshot *pc_policy_manager_get_snapshot (PcPolicyManager *self);

/* Global settings. get returns the effective value (stored, else admin default, else built-in). */
GVariant *pc_policy_manager_get_global (PcPolicyManager *self, const char *key, GError **error);
gboolean pc_policy_manager_set_global (PcPolicyManager *self,
                                       const char *key,
                                       GVariant *value,
                                       GError **error);
/* Forget the stored value: the admin default or built-in default applies again. */
gboolean pc_policy_manager_reset_global (PcPolicyManager *self, const char *key, GError **error);
/* a{s(vs)}: every key -> (effective value, source: "user" | "admin" | "default"). */
GVariant *pc_policy_manager_list_global (PcPolicyManager *self);

/* Profiles. A profile is a{sv} with: id s, name s, icon s, fingerprints as (see pc-profile.h
 * for the syntax, e.g. "path:/usr/bin/curl", "flatpak:org.example.App"), created x and
 * last-seen x (µs since the epoch), overrides a{sv} (setting key -> value), temporary-rules
 * aa{sv} (rule s, list s, expires x, until-exit b), special b (built-in special profile). */
GVariant *pc_policy_manager_list_profiles (PcPolicyManager *self); /* aa{sv} */
GVariant *pc_policy_manager_get_profile (PcPolicyManager *self, const char *id, GError **error);
/* props: name, icon, fingerprints (others ignored); returns the new id. */
char *pc_policy_manager_create_profile (PcPolicyManager *self, GVariant *props, GError **error);
/* props: any of name, icon, fingerprints. */
gboolean pc_policy_manager_update_profile (PcPolicyManager *self,
                                           const char *id,
                                           GVariant *props,
                                           GError **error);
gboolean pc_policy_manager_delete_profile (PcPolicyManager *self, const char *id, GError **error);
/* value NULL: remove the override (inherit the global value). */
gboolean pc_policy_manager_set_profile_setting (
    PcPolicyManager *self, const char *id, const char *key, GVariant *value, GError **error);
/* a{s(vs)}: key -> (effective value, source: "profile" | "user" | "admin" | "default"). */
GVariant *pc_policy_manager_get_effective (PcPolicyManager *self, const char *id, GError **error);

/* One endpoint rule, appended to (or removed from) "endpoints" or "inbound-endpoints" of a
 * profile, or of the global settings when id is NULL. */
gboolean pc_policy_manager_add_rule (
    PcPolicyManager *self, const char *id, const char *list_key, const char *rule, GError **error);
gboolean pc_policy_manager_remove_rule (
    PcPolicyManager *self, const char *id, const char *list_key, const char *rule, GError **error);

/* A temporary rule, checked before the profile's own rules: expires after seconds (0: no time
 * limit), and/or when the process until_exit_pid exits (> 0); with neither it lasts until the
 * helper restarts. Only purely timed rules are persisted (they survive a restart until they
 * expire); the others end with the helper. id NULL is an error: temporary rules are per app. */
gboolean pc_policy_manager_add_temporary_rule (PcPolicyManager *self,
                                               const char *id,
                                               const char *list_key,
                                               const char *rule,
                                               guint seconds,
                                               pid_t until_exit_pid,
                                               GError **error);

/* Backup: everything (global settings and profiles) as one JSON document, and back. Import is
 * all-or-nothing. */
char *pc_policy_manager_export_json (PcPolicyManager *self, GError **error);
gboolean pc_policy_manager_import_json (PcPolicyManager *self, const char *json, GError **error);

/* The packet path saw a process no profile matches: create its profile (named from a matching
 * .desktop file, else the executable), persist it, publish a new snapshot. Returns the id of
 * the profile that now matches (existing or new). Main thread. */
char *pc_policy_manager_ensure_profile (PcPolicyManager *self, PcProcess *process);
/* Any thread (the packet thread, the resolver): asks the main thread (the one that made the
 * manager) to ensure_profile for process, once per process (pid and start time) until the next
 * snapshot. */
void pc_policy_manager_request_profile (PcPolicyManager *self, PcProcess *process);
/* Update last-seen of profiles (batched by the caller, e.g. once a second). */
void pc_policy_manager_touch_profiles (PcPolicyManager *self, const char *const *ids);

/* Additions. */

/* Directories searched for .desktop files when naming new profiles (default:
 * pc_desktop_default_dirs()); tests point it at their own. */
void pc_policy_manager_set_application_dirs (PcPolicyManager *self, const char *const *dirs);
/* Drops temporary rules whose time ran out or whose process exited, and publishes a new
 * snapshot if any went. Runs every second by itself; callable for tests. */
void pc_policy_manager_expire_temporary_rules (PcPolicyManager *self);

G_END_DECLS
