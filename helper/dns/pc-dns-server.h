/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The local resolver: listens on UDP and TCP (default 127.0.0.17:53 and [::1]:53), answers from
 * the cache or the upstreams, and applies the firewall's view of DNS:
 *  - split horizon: local names (.local, .lan, .home.arpa, .internal, private reverse zones and
 *    the search domains of resolv.conf) go to the `system` servers, everything else to the
 *    configured upstreams;
 *  - rebinding guard (dns-block-rebinding, default on): addresses in LAN or localhost scope are
 *    stripped from answers of public upstreams;
 *  - the Firefox canary use-application-dns.net is answered NXDOMAIN (keep DoH off in apps);
 *  - a policy hook judges the question and every CNAME target for the asking process; blocked
 *    names get NXDOMAIN or 0.0.0.0/:: and an Extended DNS Error (RFC 8914, "Blocked") with the
 *    reason when the client speaks EDNS;
 *  - IP -> domain memory per asking process and global (pc-dns-memory.h).
 *
 * It runs in a thread of its own with its own GMainContext: DNS must keep answering while the
 * main thread is busy (D-Bus, polkit, the store), and the upstream transports are callback state
 * machines that never block, so one thread serves every query. Attribution uses a PcAttrib of
 * its own (sock_diag + /proc, no BPF), because a PcAttrib belongs to one thread. */
#pragma once

#include <glib.h>

#include "pc-dns-cache.h"
#include "pc-dns-memory.h"
#include "pc-dns-url.h"
#include "pc-net.h"
#include "pc-process.h"

G_BEGIN_DECLS

typedef struct _PcDnsServer PcDnsServer;

typedef enum
{
  PC_DNS_BLOCK_NXDOMAIN,
  PC_DNS_BLOCK_ZERO_ADDRESS, /* A 0.0.0.0, AAAA ::, other types NODATA */
} PcDnsBlockReply;

typedef struct
{
  const PcFlowKey *flow; /* the asking socket, as the firewall sees its flow (outbound) */
  pid_t pid;             /* the asking process, 0 when unknown */
  PcProcess *process;    /* what /proc says of it (cached per pid and start time), or NULL */
  const char *qname;     /* the question */
  guint16 qtype;
  const char *name; /* the name to judge: the question, or a CNAME target of its answer */
  gboolean is_cname;
  gboolean from_helper; /* asked by the helper itself (QueryDns), not through a listener */
} PcDnsPolicyRequest;

/* Called in the resolver thread; must not block. Returns TRUE to block, with a reason for the
 * log and the client (a new string, or NULL). */
typedef gboolean (*PcDnsPolicyFunc) (const PcDnsPolicyRequest *request,
                                     char **reason,
                                     gpointer user_data);

typedef struct
{
  const char *const *listen;    /* "ADDR[:PORT]", "[ADDR6][:PORT]"; NULL: the defaults */
  const char *const *upstreams; /* URLs (pc-dns-upstream.h); NULL: just `system` */
  const char *resolv_conf;      /* NULL: /etc/resolv.conf */
  gboolean block_rebinding;
  PcDnsBlockReply block_reply;
  gboolean attribute; /* find the asking process (root: sock_diag + /proc) */
  guint attempt_timeout_ms;
  guint16 system_port;        /* port of the resolv.conf servers; 0: 53 (tests use others) */
  PcDnsCacheConfig cache;     /* all zero: pc_dns_cache_config_init () */
  PcDnsMemory *memory;        /* borrowed, must outlive the server; NULL: one of its own */
  gboolean bypass_prevention; /* NXDOMAIN for the Firefox canary and known DoH servers */
} PcDnsServerConfig;

/* the defaults: both listeners, `system`, rebinding guard on, NXDOMAIN, attribution and bypass
 * prevention on */
void pc_dns_server_config_init (PcDnsServerConfig *config);

/* Checks the configuration (listen addresses, upstream URLs, CA files): errors name the bad value.
 * Nothing is bound yet. */
PcDnsServer *pc_dns_server_new (const PcDnsServerConfig *config, GError **error);
/* Set before start. */
void pc_dns_server_set_policy_func (PcDnsServer *self, PcDnsPolicyFunc func, gpointer user_data);
/* Binds and starts the thread. A listener that cannot bind (port taken) is reported in the status
 * and the others keep going; FALSE only when none could bind. */
gboolean pc_dns_server_start (PcDnsServer *self, GError **error);
/* One line per listener and upstream, for logs and D-Bus; thread-safe, new string. */
char *pc_dns_server_get_status (PcDnsServer *self);
PcDnsMemory *pc_dns_server_get_memory (PcDnsServer *self);
/* the listeners that are up, as bound (port resolved when 0 was asked for) */
GArray *pc_dns_server_get_bound (PcDnsServer *self); /* of PcFlowKey: laddr/lport, proto */

typedef struct
{
  guint64 queries;
  guint64 blocked;
  guint64 formerr;
  guint64 rebinding_stripped;
  guint64 local; /* split horizon: sent to system */
  guint64 servfail;
  PcDnsCacheStats cache;
} PcDnsServerStats;
void pc_dns_server_get_stats (PcDnsServer *self, PcDnsServerStats *stats);
/* Live settings changes (dns-servers, dns-block-rebinding, the block reply), from any thread but
 * the resolver's (set_upstreams waits for the resolver thread to switch).
 * The URLs are checked first (error: nothing changes); the new upstreams replace the old ones in
 * the resolver thread, queries still waiting on the old ones get SERVFAIL (clients retry), and
 * the cache is emptied since its answers came from servers no longer trusted. */
gboolean pc_dns_server_set_upstreams (PcDnsServer *self, const char *const *urls, GError **error);
void pc_dns_server_set_block_rebinding (PcDnsServer *self, gboolean block);
void pc_dns_server_set_block_reply (PcDnsServer *self, PcDnsBlockReply reply);
void pc_dns_server_set_bypass_prevention (PcDnsServer *self, gboolean on);
/* Empties the cache and the IP -> domain memory (from any thread but the resolver's; waits for
 * the resolver thread). Returns the number of cache entries dropped. */
guint pc_dns_server_flush_cache (PcDnsServer *self);

/* The listeners that could not bind, "ADDR: why" joined by "; " ("" when all are up). */
char *pc_dns_server_dup_listen_error (PcDnsServer *self);
/* Every upstream as aa{sv}: url s, name s, transport s ("dot" | "doh" | "dns" | "system"),
 * reachable b, latency-us t, queries t, failures t, last-error s. Thread-safe. */
GVariant *pc_dns_server_dup_upstreams (PcDnsServer *self);

/* A question asked through the resolver as if a process (pid; 0: no process, the global
 * settings) asked it: policy, cache, upstreams, rebinding guard, all as for a client. */
typedef struct
{
  guint rcode;
  char **answers;  /* answer section in presentation form ("name TTL TYPE data") */
  char *upstream;  /* the upstream that answered ("" from the cache or the resolver itself) */
  gboolean cached; /* answered from the cache */
  gint64 elapsed_us;
  gboolean blocked; /* refused by the resolver */
  char *reason;     /* why it was blocked, "" otherwise */
} PcDnsQueryResult;

void pc_dns_query_result_free (PcDnsQueryResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcDnsQueryResult, pc_dns_query_result_free)

/* Called in the thread-default main context of the caller of pc_dns_server_query (result owned
 * by the callee). */
typedef void (*PcDnsQueryFunc) (PcDnsQueryResult *result, gpointer user_data);
/* name in presentation form, qtype a PcDnsType. The server must be started. FALSE (and func is
 * not called) when name is not a valid domain name. */
gboolean pc_dns_server_query (PcDnsServer *self,
                              const char *name,
                              guint16 qtype,
                              pid_t pid,
                              PcDnsQueryFunc func,
                              gpointer user_data,
                              GError **error);
void pc_dns_server_free (PcDnsServer *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcDnsServer, pc_dns_server_free)

/* split horizon: is name answered by the system/LAN servers (search: extra local zones) */
gboolean pc_dns_name_is_local (const char *name, const char *const *search);

G_END_DECLS
