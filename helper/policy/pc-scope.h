/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "pc-net.h"

G_BEGIN_DECLS

/* Network scope of a remote address. */
typedef enum
{
  PC_SCOPE_LOCALHOST, /* 127.0.0.0/8, ::1, and this host's own addresses when the caller says so */
  PC_SCOPE_LAN, /* RFC 1918, 100.64/10 CGNAT, link-local, ULA fc00::/7, fe80::/10, multicast, broadcast */
  PC_SCOPE_INTERNET, /* everything globally routable */
  PC_SCOPE_INVALID,  /* unspecified (0.0.0.0, ::), reserved ranges that never leave a host */
} PcScope;

PcScope pc_scope_classify (const PcAddr *addr);
const char *pc_scope_to_string (PcScope scope);
/* Parses "localhost", "lan", "internet" or "invalid" (any case); FALSE for anything else. */
gboolean pc_scope_from_string (const char *text, PcScope *out);

G_END_DECLS
