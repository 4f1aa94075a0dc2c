/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Internals of pc-rule.c shared with its tests, fuzz target and benchmark. */
#pragma once

#include "pc-rule.h"

G_BEGIN_DECLS

/* The obvious implementation of pc_rule_list_match(): every rule in order, string and prefix
 * compares, no indexes. Same results by definition; kept as the reference that the fuzz target
 * checks the indexed matcher against and as the baseline the benchmark reports a ratio to. */
void pc_rule_list_match_linear (const PcRuleList *self,
                                const PcMatchInput *input,
                                PcMatchResult *result);

G_END_DECLS
