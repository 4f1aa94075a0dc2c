/* SPDX-License-Identifier: GPL-3.0-or-later */
/* IP -> domain memory: which name an address was the answer to, per asking process and for
 * everyone, so the packet path can judge a later connection by its domain and the UI can show
 * names. Written by the resolver thread, read by the packet thread: every function is
 * thread-safe (one mutex; lookups are a hash lookup or two).
 *
 * An entry lives for the TTL of the record that carried the address, but at least
 * PC_DNS_MEMORY_MIN_TTL seconds: many programs connect a moment after an answer with TTL 0.
 * At most max_entries are kept; when full, the entry closest to expiry makes room. */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "pc-net.h"

G_BEGIN_DECLS

#define PC_DNS_MEMORY_MIN_TTL 10

typedef struct _PcDnsMemory PcDnsMemory;

typedef gint64 (*PcDnsMemoryClockFunc) (gpointer user_data);

/* clock NULL: g_get_monotonic_time () */
PcDnsMemory *pc_dns_memory_new (guint max_entries, PcDnsMemoryClockFunc clock, gpointer clock_data);
void pc_dns_memory_free (PcDnsMemory *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcDnsMemory, pc_dns_memory_free)

/* Remembers domain for addr, for pid (0: unknown process) and globally. */
void pc_dns_memory_add (
    PcDnsMemory *self, pid_t pid, const PcAddr *addr, const char *domain, guint32 ttl);
/* The domain pid last asked for that resolved to addr, else the last anyone asked for; FALSE
 * when none is remembered (or it expired). domain_out gets at most len - 1 bytes and a NUL. */
gboolean pc_dns_memory_lookup (
    PcDnsMemory *self, pid_t pid, const PcAddr *addr, char *domain_out, gsize len);
guint pc_dns_memory_get_size (PcDnsMemory *self);
void pc_dns_memory_clear (PcDnsMemory *self);

G_END_DECLS
