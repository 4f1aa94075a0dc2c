/* SPDX-License-Identifier: GPL-3.0-or-later */
/* CONTRACT: the immutable policy the packet thread decides with (see pc-policy-manager.h).
 * Plain C, refcounted atomically, shared read-only between threads; no allocation in
 * match/decide. */
#pragma once

#include <glib.h>

#include "pc-net.h"
#include "pc-policy.h"
#include "pc-process.h"
#include "pc-profile.h"
#include "pc-settings.h"

G_BEGIN_DECLS

typedef struct _PcPolicySnapshot PcPolicySnapshot;
/* PcProfile is declared in pc-policy.h and defined in pc-profile.h. */

PcPolicySnapshot *pc_policy_snapshot_ref (PcPolicySnapshot *self);
void pc_policy_snapshot_unref (PcPolicySnapshot *self);

/* The profile for a process by fingerprint scoring (highest specificity wins, ties broken
 * deterministically), or a special profile: "portcullis" (own pid, always allowed),
 * "system-dns" (systemd-resolved, dnsmasq, nscd), "unidentified" (process NULL: owner not
 * found), "kernel" (no socket owner at all). Returns NULL when the process is known but no
 * profile matches yet: the caller decides with the "unidentified"-like global settings and
 * asks the manager (main thread) to create a profile. */
const PcProfile *
pc_policy_snapshot_match (PcPolicySnapshot *self, const PcProcess *process, gboolean no_socket);
const char *pc_profile_get_id (const PcProfile *profile);
const char *pc_profile_get_name (const PcProfile *profile);

/* The decision for a flow. input->profile may be NULL (global settings only). The reason
 * names rule text with its source (profile name or global, list and line), scope, list, or
 * the default, as DESIGN.md "Decision" orders them. */
void
pc_policy_snapshot_decide (PcPolicySnapshot *self, const PcDecisionInput *input, PcDecision *out);

/* Effective values the packet path needs per flow or globally. */
PcBlockReaction pc_policy_snapshot_get_block_reaction (PcPolicySnapshot *self,
                                                       const PcProfile *profile);
PcFailMode pc_policy_snapshot_get_fail_mode (PcPolicySnapshot *self);

/* Additions for the manager, tests and the benchmark. */

/* Ids of the special profiles. */
#define PC_PROFILE_PORTCULLIS "portcullis"
#define PC_PROFILE_SYSTEM_DNS "system-dns"
#define PC_PROFILE_UNIDENTIFIED "unidentified"
#define PC_PROFILE_KERNEL "kernel"

/* A snapshot of global effective settings and compiled profiles (PcProfile*, the array is
 * taken over). own_pid is Portcullis' own process. */
PcPolicySnapshot *pc_policy_snapshot_new (PcSettings *global, GPtrArray *profiles, pid_t own_pid);
PcSettings *pc_policy_snapshot_get_settings (PcPolicySnapshot *self);
const PcProfile *pc_policy_snapshot_get_profile (PcPolicySnapshot *self, const char *id);
/* The best-scoring profile with fingerprints, ignoring special cases; NULL if none matches. */
const PcProfile *pc_policy_snapshot_match_fingerprints (PcPolicySnapshot *self,
                                                        const PcProcess *process);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcPolicySnapshot, pc_policy_snapshot_unref)

G_END_DECLS
