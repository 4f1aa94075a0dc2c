/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Global settings: an immutable, refcounted snapshot shared with the packet thread. A new
 * snapshot replaces the old one atomically; readers keep the one they hold. */
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
  PC_FAIL_OPEN,
  PC_FAIL_CLOSED,
} PcFailMode;

typedef struct
{
  gint ref_count;
  PcDefaultAction default_action;
  PcBlockReaction block_reaction;
  PcFailMode fail_mode;
  PcRuleList *endpoints;         /* outbound rules, never NULL (maybe empty) */
  PcRuleList *inbound_endpoints; /* inbound rules, never NULL */
} PcSettings;

/* Built-in defaults: allow, reject, fail open, no rules. */
PcSettings *pc_settings_new_default (void);
/* Reads a GKeyFile with a [global] group. A missing file yields the defaults; a bad file fails
 * with an error naming the file, the key and the reason, and nothing is returned. */
PcSettings *pc_settings_load (const char *path, GError **error);
PcSettings *pc_settings_ref (PcSettings *self);
void pc_settings_unref (PcSettings *self);

const char *pc_default_action_to_string (PcDefaultAction action);
const char *pc_block_reaction_to_string (PcBlockReaction reaction);
const char *pc_fail_mode_to_string (PcFailMode mode);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcSettings, pc_settings_unref)

G_END_DECLS
