/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Our netfilter chains, installed and removed atomically with iptables-restore --noflush.
 * Only chains named PORTCULLIS-* and our own jumps to them are ever touched. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  guint16 queue_num;
  gboolean fail_open; /* --queue-bypass: traffic flows while no helper listens */
} PcRulesetConfig;

typedef struct
{
  gboolean ipv4;
  gboolean ipv6;
  char *ipv6_error; /* why IPv6 interception is off, or NULL */
} PcRulesetState;

/* Removes rules left by a crashed run and installs fresh ones, per family in one transaction.
 * IPv4 must succeed; IPv6 failure is reported in state (a host without IPv6 is fine). */
gboolean pc_ruleset_install (const PcRulesetConfig *config, PcRulesetState *state, GError **error);
/* Removes every PORTCULLIS chain and our jumps; returns FALSE if something could not be removed. */
gboolean pc_ruleset_remove (GError **error);
void pc_ruleset_state_clear (PcRulesetState *state);

/* The text fed to iptables-restore (exposed for tests). */
char *pc_ruleset_build (const PcRulesetConfig *config, gboolean ipv6, const char *current_save);
char *pc_ruleset_build_removal (const char *current_save);

G_END_DECLS
