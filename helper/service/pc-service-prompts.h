/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Connection prompts over D-Bus: the prompt records and what an answer becomes (a rule in the
 * app's profile with the lifetime the person chose, then the verdict of the held flows). */
#pragma once

#include <gio/gio.h>

#include "pc-engine.h"
#include "pc-policy-manager.h"

G_BEGIN_DECLS

/* a{sv}: id s, connection a{sv} (as ListConnections), created x, expires x. */
GVariant *pc_service_prompt_variant (PcPrompt *prompt);

/* answer a{sv}: verdict s ("allow" | "block", required); scope s ("domain": the domain and its
 * subdomains, "ip", "port": this address and port, "all": everything of this app; default
 * "domain" when the domain is known, else "ip"); lifetime s ("once", "minutes", "until-exit",
 * "restart", "forever"; default "once"); minutes u (for "minutes"). The rule goes into the
 * profile of the prompt's app ("endpoints" or "inbound-endpoints"). Returns the rule made, ""
 * for "once", or NULL with an error (PC_ERROR_NOT_FOUND for an unknown prompt,
 * PC_ERROR_INVALID_ARGS for a bad answer; nothing changes then). */
char *pc_service_prompt_answer (
    PcEngine *engine, PcPolicyManager *policy, const char *id, GVariant *answer, GError **error);

G_END_DECLS
