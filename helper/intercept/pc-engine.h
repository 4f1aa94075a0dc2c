/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The packet path: a dedicated thread that receives the first packet of every new flow from
 * nfqueue, attributes it to a process, decides, and verdicts it. Nothing here waits on disk,
 * D-Bus or a person; settings arrive as immutable snapshots. */
#pragma once

#include <glib.h>

#include "pc-attrib.h"
#include "pc-connection.h"
#include "pc-geo.h"
#include "pc-intel.h"
#include "pc-policy-snapshot.h"
#include "pc-settings.h"

G_BEGIN_DECLS

typedef struct _PcEngine PcEngine;

typedef struct
{
  guint16 queue_num;
  const char *cgroup_path; /* NULL: no BPF, /proc attribution */
  gboolean verbose;        /* log every decision */
} PcEngineConfig;

typedef struct
{
  guint64 packets; /* packets received from the queue */
  guint64 flows;   /* flows decided */
  guint64 allowed;
  guint64 blocked;
  guint64 cut;      /* live flows cut after a settings change */
  guint live_flows; /* flows in the table now */
} PcEngineStats;

/* Opens the queue (before any rule sends packets to it) and attribution. */
PcEngine *pc_engine_new (const PcEngineConfig *config, PcPolicySnapshot *snapshot, GError **error);
gboolean pc_engine_start (PcEngine *self, GError **error);
/* Replaces the policy; live flows are re-decided (and newly blocked ones cut) in the packet
 * thread right after. */
void pc_engine_set_snapshot (PcEngine *self, PcPolicySnapshot *snapshot);
/* Same with global settings only (no profiles). */
void pc_engine_set_settings (PcEngine *self, PcSettings *settings);
/* Called in the packet thread with a process that no profile of the current snapshot matches,
 * for each flow of it: the receiver must return at once and have the profile made elsewhere
 * (pc_policy_manager_request_profile asks once per process), then send the new snapshot. Set
 * before start. */
typedef void (*PcEngineUnknownProcessFunc) (PcProcess *process, gpointer user_data);
void pc_engine_set_unknown_process_func (PcEngine *self,
                                         PcEngineUnknownProcessFunc func,
                                         gpointer user_data);
void pc_engine_get_stats (PcEngine *self, PcEngineStats *stats);
PcAttrib *pc_engine_get_attrib (PcEngine *self);
void pc_engine_free (PcEngine *self);

/* Receives batches of connection changes (a GArray of PcConnectionChange, borrowed for the
 * call) in the main context that was thread-default when pc_engine_new() ran, at most every
 * 100 ms and only when something changed. */
typedef void (*PcEngineChangesFunc) (GArray *changes, gpointer user_data);
/* Several listeners may subscribe (the D-Bus service, the history); each gets every batch. */
void pc_engine_add_changes_func (PcEngine *self, PcEngineChangesFunc func, gpointer user_data);
void pc_engine_remove_changes_func (PcEngine *self, PcEngineChangesFunc func, gpointer user_data);
/* Prompts: a flow whose decision is "prompt" is held (its packets get no verdict) while at
 * least one prompt agent is registered, until an answer, a policy change that decides it, or
 * its prompt-timeout (then prompt-default applies). Flows of the same app to the same
 * destination join one prompt; flows that need no answer are never delayed. */
typedef struct
{
  gint ref_count;
  guint64 id;
  PcConnection *connection; /* the first flow that asked */
  gint64 created;           /* µs since the epoch */
  gint64 expires;           /* µs since the epoch */
} PcPrompt;

PcPrompt *pc_prompt_ref (PcPrompt *self);
void pc_prompt_unref (PcPrompt *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcPrompt, pc_prompt_unref)

/* In the main context: ended_how is NULL for a new prompt, else "answered", "expired" or
 * "decided" (a policy change decided it). */
typedef void (*PcEnginePromptFunc) (PcPrompt *prompt, const char *ended_how, gpointer user_data);
void pc_engine_set_prompt_func (PcEngine *self, PcEnginePromptFunc func, gpointer user_data);
/* How many prompt agents (popups, notifications) listen; with none, prompt-default applies at
 * once. Thread-safe. */
void pc_engine_set_prompt_agents (PcEngine *self, guint n_agents);
/* Pending prompts (PcPrompt, new references), oldest first. Thread-safe. */
GPtrArray *pc_engine_list_prompts (PcEngine *self);
/* Verdicts every flow of the prompt; PC_ERROR_NOT_FOUND when it is unknown or already ended.
 * Thread-safe; the verdicts are sent by the packet thread right after. */
gboolean pc_engine_answer_prompt (PcEngine *self, guint64 id, gboolean allow, GError **error);

/* Filter lists (L:ID rules, the filter-lists step) and geo data (country, continent, ASN rules;
 * the country of each connection). Either may be NULL. Thread-safe: the packet thread takes
 * them over before its next decision. */
void pc_engine_set_intel (PcEngine *self, PcIntel *intel, PcGeo *geo);

/* What the local resolver learnt: the domain a process (pid, or anyone) looked up that resolved
 * to addr. Called on the packet thread; must not block. */
typedef gboolean (*PcEngineDomainFunc) (
    gpointer user_data, pid_t pid, const PcAddr *addr, char *domain, gsize len);
/* The resolver's memory (domains of connections, domain rules, block-p2p) and the addresses it
 * listens on (queries redirected to it are always let through: DNS must not break). func NULL:
 * no resolver. listeners: PcFlowKey with laddr/lport/proto set. user_data must outlive the
 * engine. Thread-safe: the packet thread takes it over before its next decision. */
void pc_engine_set_resolver (PcEngine *self,
                             PcEngineDomainFunc func,
                             gpointer user_data,
                             GArray *listeners);

/* Every live connection (PcConnection, new references), oldest first. Thread-safe. */
GPtrArray *pc_engine_list_connections (PcEngine *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcEngine, pc_engine_free)

G_END_DECLS
