/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The resolver as portcullisd runs it: made from the dns-* settings and following them live.
 * Upstreams, the rebinding guard, the block reply and bypass prevention change in the running
 * resolver; turning it on or off or new listen addresses restart it. The PORTCULLIS-DNS redirect
 * is installed only once a listener is up, so a resolver that cannot listen never leaves the
 * machine without DNS, and is removed before the resolver stops.
 *
 * Main thread only. The IP -> domain memory belongs to the daemon and outlives every resolver
 * it starts (the packet path keeps a pointer to it). */
#pragma once

#include "pc-dns-server.h"

G_BEGIN_DECLS

typedef struct
{
  gboolean enabled;
  const char *const *listen;  /* NULL or empty: 127.0.0.17:53 and [::1]:53 */
  const char *const *servers; /* NULL or empty: system */
  gboolean block_rebinding;
  PcDnsBlockReply block_reply;
  gboolean bypass_prevention;
} PcDnsSettings;

typedef struct _PcDnsDaemon PcDnsDaemon;

/* Called after the resolver started, stopped or moved (new listeners); server NULL: not
 * running. */
typedef void (*PcDnsDaemonChangedFunc) (PcDnsDaemon *daemon,
                                        PcDnsServer *server,
                                        gpointer user_data);

PcDnsDaemon *pc_dns_daemon_new (void);
/* Set before the first apply; given to every resolver it starts. */
void pc_dns_daemon_set_policy_func (PcDnsDaemon *self, PcDnsPolicyFunc func, gpointer user_data);
void
pc_dns_daemon_set_changed_func (PcDnsDaemon *self, PcDnsDaemonChangedFunc func, gpointer user_data);
/* Makes the running resolver follow settings. Bad values (an upstream URL that does not parse, a
 * missing CA file, a bad listen address) are logged and reported in the status, and the resolver
 * keeps what it had. */
void pc_dns_daemon_apply (PcDnsDaemon *self, const PcDnsSettings *settings);
PcDnsServer *pc_dns_daemon_get_server (PcDnsDaemon *self); /* NULL when not running */
PcDnsMemory *pc_dns_daemon_get_memory (PcDnsDaemon *self);
/* GetDnsStatus (see the D-Bus interface): enabled b, listen as, listen-error s, intercepting b,
 * block-rebinding b, block-reply s, bypass-prevention b, upstreams aa{sv}, cache a{sv},
 * queries t, blocked t, error s. New floating-free reference. */
GVariant *pc_dns_daemon_dup_status (PcDnsDaemon *self);
/* Why DNS protection is less than complete, for Status' degraded list (new, maybe empty). */
char **pc_dns_daemon_dup_problems (PcDnsDaemon *self);
/* One line for Status' "dns" key. */
char *pc_dns_daemon_dup_summary (PcDnsDaemon *self);
void pc_dns_daemon_free (PcDnsDaemon *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcDnsDaemon, pc_dns_daemon_free)

const char *pc_dns_block_reply_to_string (PcDnsBlockReply reply);

G_END_DECLS
