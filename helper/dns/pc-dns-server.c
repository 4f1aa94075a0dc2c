/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-dns"

#include "pc-dns-server.h"

#include <errno.h>
#include <glib-unix.h>
#include <linux/netfilter_ipv4.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pc-attrib.h"
#include "pc-dns-message.h"
#include "pc-dns-upstream.h"
#include "pc-error.h"
#include "pc-scope.h"

#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif

#define MAX_TCP_CONNS 128
/* UDP datagrams taken per recvmmsg (and answers sent per sendmmsg): a busy resolver pays two
 * system calls per batch instead of two per question */
#define UDP_BATCH 32
#define UDP_QUERY_MAX 4096 /* a longer datagram is no question anyone asks: FORMERR */
#define TCP_IDLE_US (10 * G_USEC_PER_SEC)
#define BLOCK_TTL 60
#define EDE_BLOCKED 15 /* RFC 8914 info-code "Blocked" */

static const char *const default_listen[] = { "127.0.0.17:53", "[::1]:53", NULL };
static const char *const default_upstreams[] = { "system", NULL };
static const char *const local_zones[]
    = { "local", "lan", "home.arpa", "internal", "localdomain",
        /* reverse zones of private ranges (RFC 6303): only the LAN's servers know them */
        "10.in-addr.arpa", "168.192.in-addr.arpa", "254.169.in-addr.arpa", "d.f.ip6.arpa",
        "8.e.f.ip6.arpa", "9.e.f.ip6.arpa", "a.e.f.ip6.arpa", "b.e.f.ip6.arpa", NULL };
#define CANARY "use-application-dns.net"

typedef struct
{
  PcDnsServer *server;
  PcAddr addr;
  guint16 port;
  char *text;
  int udp_fd;
  int tcp_fd;
  GSource *udp_src;
  GSource *tcp_src;
  char *error;
  /* UDP batching, while udp_cb runs: answers given meanwhile wait in tx for one sendmmsg */
  guint8 *rx; /* UDP_BATCH buffers of UDP_QUERY_MAX bytes */
  GArray *tx; /* TxEntry */
  gboolean batching;
} Listener;

typedef struct
{
  struct sockaddr_storage peer;
  socklen_t peer_len;
  GBytes *data;
} TxEntry;

typedef struct
{
  gint ref;
  PcDnsServer *server;
  int fd;
  GSource *src;
  GByteArray *in;
  GByteArray *out;
  gboolean closed;
  gint64 last_active;
  guint pending;
  PcFlowKey flow;
  pid_t owner; /* the process on the other end, found for its first question; 0 not yet */
} TcpConn;

/* Who sent from a UDP client socket, for OWNER_CACHE_US: a program usually asks A and AAAA (or
 * more) from one socket at once, and each lookup costs a sock_diag request and a /proc check.
 * Another program would have to get the same port of the same address within that time to be
 * taken for the first, which the kernel's random ephemeral ports make rare; the cost of being
 * wrong is one answer judged by the wrong app's rules. */
#define OWNER_CACHE_US (G_USEC_PER_SEC)
#define OWNER_CACHE_MAX 4096

typedef struct
{
  PcFlowKey key;
  pid_t pid;
  gint64 expires;
} OwnerEntry;

/* a question asked by the helper itself (pc_dns_server_query) */
typedef struct
{
  PcDnsServer *server;
  char *name;
  guint16 qtype;
  pid_t pid;
  GMainContext *context; /* the caller's */
  PcDnsQueryFunc func;
  gpointer user_data;
  gint64 started;
  GBytes *reply;
  PcDnsQueryResult *result;
} LocalQuery;

/* one question from one client, until it is answered */
typedef struct
{
  PcDnsServer *server;
  Listener *listener; /* UDP: reply through its socket */
  TcpConn *conn;      /* TCP: reply on this connection (a reference) */
  struct sockaddr_storage peer;
  socklen_t peer_len;
  PcFlowKey flow;
  pid_t pid;
  PcProcess *process; /* of pid, from the attribution's process cache */
  PcDnsMessage *query;
  GBytes *wire;
  gboolean local;
  gsize max_len;
  LocalQuery *lq; /* asked by the helper: no socket, the answer goes to lq */
} Ask;

struct _PcDnsServer
{
  PcDnsServerConfig config;
  char **listen;
  char **upstream_urls;
  char *resolv_conf;
  GPtrArray *listeners; /* Listener */
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  PcDnsUpstreams *upstreams;
  PcDnsCache *cache;
  PcDnsMemory *memory;
  gboolean own_memory;
  PcAttrib *attrib;
  char **search;
  GHashTable *tcp_conns; /* TcpConn set */
  GHashTable *owners;    /* &OwnerEntry.key -> OwnerEntry, resolver thread */
  GSource *sweep;
  PcDnsPolicyFunc policy;
  gpointer policy_data;
  gint block_rebinding; /* atomic: set from any thread */
  gint block_reply;     /* atomic PcDnsBlockReply */
  gint bypass;          /* atomic: bypass prevention */
  GMutex lock;          /* stats and status across threads */
  PcDnsServerStats stats;
};

/* ---- configuration -------------------------------------------------------------------------- */

void
pc_dns_server_config_init (PcDnsServerConfig *config)
{
  memset (config, 0, sizeof *config);
  config->block_rebinding = TRUE;
  config->block_reply = PC_DNS_BLOCK_NXDOMAIN;
  config->attribute = TRUE;
  config->bypass_prevention = TRUE;
  pc_dns_cache_config_init (&config->cache);
}

gboolean
pc_dns_name_is_local (const char *name, const char *const *search)
{
  for (guint i = 0; local_zones[i] != NULL; i++)
    if (pc_dns_name_is_subdomain (name, local_zones[i]))
      return TRUE;
  /* 172.16.0.0/12: 16-31.172.in-addr.arpa */
  if (pc_dns_name_is_subdomain (name, "172.in-addr.arpa"))
    {
      gsize len = strlen (name);
      gsize zone = strlen ("172.in-addr.arpa");
      guint64 octet = 0;
      g_autofree char *label = NULL;
      const char *start;

      /* the label just above the zone: "16" of "x.16.172.in-addr.arpa" */
      if (len > zone + 1)
        {
          const char *end = name + len - zone - 1; /* the dot before the zone */
          start = end;
          while (start > name && start[-1] != '.')
            start--;
          label = g_strndup (start, (gsize)(end - start));
          if (g_ascii_string_to_unsigned (label, 10, 16, 31, &octet, NULL))
            return TRUE;
        }
    }
  /* single-label names ("printer") only mean something on the LAN */
  if (strchr (name, '.') == NULL && strcmp (name, ".") != 0)
    return TRUE;
  for (guint i = 0; search != NULL && search[i] != NULL; i++)
    if (pc_dns_name_is_subdomain (name, search[i]))
      return TRUE;
  return FALSE;
}

static void
listener_free (gpointer p)
{
  Listener *l = p;

  if (l->udp_src != NULL)
    {
      g_source_destroy (l->udp_src);
      g_source_unref (l->udp_src);
    }
  if (l->tcp_src != NULL)
    {
      g_source_destroy (l->tcp_src);
      g_source_unref (l->tcp_src);
    }
  if (l->udp_fd >= 0)
    close (l->udp_fd);
  g_free (l->rx);
  if (l->tx != NULL)
    g_array_unref (l->tx);
  if (l->tcp_fd >= 0)
    close (l->tcp_fd);
  g_free (l->text);
  g_free (l->error);
  g_free (l);
}

PcDnsServer *
pc_dns_server_new (const PcDnsServerConfig *config, GError **error)
{
  g_autoptr (PcDnsServer) self = g_new0 (PcDnsServer, 1);
  const char *const *listen = config->listen != NULL ? config->listen : default_listen;
  const char *const *ups = config->upstreams != NULL ? config->upstreams : default_upstreams;

  g_mutex_init (&self->lock);
  self->config = *config;
  if (self->config.cache.max_bytes == 0)
    pc_dns_cache_config_init (&self->config.cache);
  self->block_rebinding = config->block_rebinding;
  self->block_reply = (gint)config->block_reply;
  self->bypass = config->bypass_prevention;
  self->listen = g_strdupv ((char **)listen);
  self->upstream_urls = g_strdupv ((char **)ups);
  self->resolv_conf = g_strdup (config->resolv_conf);
  self->config.listen = NULL;
  self->config.upstreams = NULL;
  self->config.resolv_conf = NULL;
  self->listeners = g_ptr_array_new_with_free_func (listener_free);
  self->own_memory = config->memory == NULL;
  self->memory = config->memory != NULL ? config->memory : pc_dns_memory_new (65536, NULL, NULL);
  self->config.memory = NULL;
  self->tcp_conns = g_hash_table_new (NULL, NULL);
  self->owners = g_hash_table_new_full (pc_flow_key_hash, pc_flow_key_equal, NULL, g_free);

  for (guint i = 0; self->listen[i] != NULL; i++)
    {
      Listener *l = g_new0 (Listener, 1);

      l->server = self;
      l->udp_fd = l->tcp_fd = -1;
      l->text = g_strdup (self->listen[i]);
      g_ptr_array_add (self->listeners, l);
      if (!pc_dns_parse_listen (self->listen[i], &l->addr, &l->port, error))
        return NULL;
    }
  /* the URLs are checked here, in the caller's thread, so errors reach it; the upstreams that
   * serve are made again in the resolver thread, whose context they belong to */
  for (guint i = 0; self->upstream_urls[i] != NULL; i++)
    {
      g_autoptr (PcDnsUpstreamSpec) spec
          = pc_dns_upstream_spec_parse (self->upstream_urls[i], error);
      if (spec == NULL)
        return NULL;
      if (spec->ca_file != NULL && !g_file_test (spec->ca_file, G_FILE_TEST_IS_REGULAR))
        {
          g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING,
                       "dns server %s: ca file %s does not exist", spec->url, spec->ca_file);
          return NULL;
        }
    }
  return g_steal_pointer (&self);
}

void
pc_dns_server_set_policy_func (PcDnsServer *self, PcDnsPolicyFunc func, gpointer user_data)
{
  self->policy = func;
  self->policy_data = user_data;
}

PcDnsMemory *
pc_dns_server_get_memory (PcDnsServer *self)
{
  return self->memory;
}

/* ---- answering ------------------------------------------------------------------------------ */

static void
stats_add (PcDnsServer *self, guint64 *counter)
{
  g_mutex_lock (&self->lock);
  (*counter)++;
  g_mutex_unlock (&self->lock);
}

static void tcp_conn_unref (TcpConn *c);
static void tcp_conn_write (TcpConn *c, const guint8 *data, gsize len);
static void local_query_done (LocalQuery *lq);

static void
ask_free (Ask *a)
{
  if (a->lq != NULL)
    local_query_done (a->lq);
  if (a->conn != NULL)
    {
      a->conn->pending--;
      tcp_conn_unref (a->conn);
    }
  g_clear_pointer (&a->query, pc_dns_message_free);
  g_clear_pointer (&a->wire, g_bytes_unref);
  g_clear_pointer (&a->process, pc_process_unref);
  g_free (a);
}

static void
ask_send (Ask *a, GBytes *reply)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (reply, &len);
  g_autoptr (GBytes) cut = NULL;

  if (a->lq != NULL)
    {
      if (a->lq->reply == NULL)
        a->lq->reply = g_bytes_ref (reply);
      return;
    }
  if (a->conn != NULL)
    {
      tcp_conn_write (a->conn, data, len);
      return;
    }
  if (len > a->max_len)
    {
      /* too big for the client's UDP size: whole records go, TC tells it to ask over TCP */
      g_autoptr (PcDnsMessage) msg = pc_dns_message_parse (data, len, NULL);
      cut = msg != NULL ? pc_dns_message_build (msg, a->max_len, NULL) : NULL;
      if (cut == NULL)
        cut = pc_dns_build_error_reply (g_bytes_get_data (a->wire, NULL),
                                        g_bytes_get_size (a->wire), PC_DNS_RCODE_SERVFAIL);
      if (cut == NULL)
        return;
      data = g_bytes_get_data (cut, &len);
    }
  if (a->listener->batching)
    {
      TxEntry e = { .peer = a->peer, .peer_len = a->peer_len };

      e.data = cut != NULL ? g_steal_pointer (&cut) : g_bytes_ref (reply);
      g_array_append_val (a->listener->tx, e);
      return;
    }
  if (sendto (a->listener->udp_fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&a->peer,
              a->peer_len)
      < 0)
    g_debug ("cannot answer over udp: %s", g_strerror (errno));
}

static void
ask_reply_msg (Ask *a, PcDnsMessage *msg)
{
  g_autoptr (GBytes) b = pc_dns_message_build (msg, 0, NULL);

  if (b != NULL)
    ask_send (a, b);
}

static void
add_ede (PcDnsMessage *reply, const char *reason)
{
  GByteArray *opt = g_byte_array_new ();
  gsize rlen = reason != NULL ? MIN (strlen (reason), 200) : 0;
  guint8 head[6] = { 0, 15, (guint8)((2 + rlen) >> 8), (guint8)(2 + rlen), 0, EDE_BLOCKED };

  g_byte_array_append (opt, head, 6);
  if (rlen > 0)
    g_byte_array_append (opt, (const guint8 *)reason, (guint)rlen);
  g_clear_pointer (&reply->edns_options, g_bytes_unref);
  reply->edns_options = g_byte_array_free_to_bytes (opt);
}

static void
ask_reply_blocked (Ask *a, const char *reason)
{
  PcDnsServer *self = a->server;
  PcDnsQuestion *q = &g_array_index (a->query->questions, PcDnsQuestion, 0);
  g_autoptr (PcDnsMessage) reply = NULL;

  stats_add (self, &self->stats.blocked);
  if (a->lq != NULL)
    {
      a->lq->result->blocked = TRUE;
      g_free (a->lq->result->reason);
      a->lq->result->reason = g_strdup (reason != NULL ? reason : "blocked");
    }
  if (g_atomic_int_get (&self->block_reply) == PC_DNS_BLOCK_ZERO_ADDRESS)
    {
      static const guint8 zero[16] = { 0 };

      reply = pc_dns_message_new_reply (a->query, PC_DNS_RCODE_NOERROR);
      if (q->type == PC_DNS_TYPE_A)
        pc_dns_message_add_record (reply, PC_DNS_SECTION_ANSWER, q->name, PC_DNS_TYPE_A,
                                   PC_DNS_CLASS_IN, BLOCK_TTL, zero, 4);
      else if (q->type == PC_DNS_TYPE_AAAA)
        pc_dns_message_add_record (reply, PC_DNS_SECTION_ANSWER, q->name, PC_DNS_TYPE_AAAA,
                                   PC_DNS_CLASS_IN, BLOCK_TTL, zero, 16);
    }
  else
    reply = pc_dns_message_new_reply (a->query, PC_DNS_RCODE_NXDOMAIN);
  if (reply->has_edns)
    add_ede (reply, reason);
  ask_reply_msg (a, reply);
}

static gboolean
policy_blocks (Ask *a, const char *name, gboolean is_cname, char **reason)
{
  PcDnsServer *self = a->server;
  PcDnsQuestion *q = &g_array_index (a->query->questions, PcDnsQuestion, 0);
  PcDnsPolicyRequest req = {
    .flow = &a->flow,
    .pid = a->pid,
    .process = a->process,
    .qname = q->name,
    .qtype = q->type,
    .name = name,
    .is_cname = is_cname,
    .from_helper = a->lq != NULL,
  };

  if (self->policy == NULL)
    return FALSE;
  return self->policy (&req, reason, self->policy_data);
}

/* The last step for every asker: its id and spelling, the CNAME chain judged for it, its
 * addresses remembered for it, and the answer sent. */
static void
ask_finish (Ask *a, GBytes *reply)
{
  PcDnsServer *self = a->server;
  PcDnsQuestion *q = &g_array_index (a->query->questions, PcDnsQuestion, 0);
  g_autoptr (GBytes) mine = NULL;
  g_autoptr (PcDnsMessage) msg = NULL;
  g_autofree char *lower = NULL; /* names are remembered in lower case */
  gsize len;
  const guint8 *data;

  if (reply == NULL)
    {
      g_autoptr (GBytes) fail = pc_dns_build_error_reply (
          g_bytes_get_data (a->wire, NULL), g_bytes_get_size (a->wire), PC_DNS_RCODE_SERVFAIL);
      stats_add (self, &self->stats.servfail);
      if (fail != NULL)
        ask_send (a, fail);
      ask_free (a);
      return;
    }
  mine = pc_dns_reply_for_query (reply, g_bytes_get_data (a->wire, NULL),
                                 g_bytes_get_size (a->wire));
  data = g_bytes_get_data (mine, &len);
  msg = pc_dns_message_parse (data, len, NULL);
  if (msg != NULL)
    {
      GArray *an = msg->sections[PC_DNS_SECTION_ANSWER];

      for (guint i = 0; i < an->len; i++)
        {
          PcDnsRecord *rec = &g_array_index (an, PcDnsRecord, i);

          if (rec->type == PC_DNS_TYPE_CNAME)
            {
              char target[PC_DNS_NAME_STRLEN];
              g_autofree char *reason = NULL;

              pc_dns_name_wire_to_string (rec->rdata, rec->rdlen, target);
              if (policy_blocks (a, target, TRUE, &reason))
                {
                  g_autofree char *why = g_strdup_printf (
                      "%s (CNAME %s)", reason != NULL ? reason : "blocked", target);
                  g_message ("blocked %s via CNAME %s for pid %d: %s", q->name, target, a->pid,
                             why);
                  ask_reply_blocked (a, why);
                  ask_free (a);
                  return;
                }
            }
          else if (rec->type == PC_DNS_TYPE_A || rec->type == PC_DNS_TYPE_AAAA)
            {
              PcAddr addr = { .family = rec->type == PC_DNS_TYPE_A ? AF_INET : AF_INET6 };

              memcpy (addr.b, rec->rdata, rec->rdlen);
              if (lower == NULL)
                lower = g_ascii_strdown (q->name, -1);
              pc_dns_memory_add (self->memory, a->pid, &addr, lower, rec->ttl);
            }
        }
    }
  ask_send (a, mine);
  ask_free (a);
}

/* Rebinding guard: strips LAN and localhost addresses from a public upstream's answer. Returns
 * the bytes to use (reply itself when nothing changed). */
static GBytes *
guard_rebinding (PcDnsServer *self, const char *qname, GBytes *reply)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (reply, &len);
  g_autoptr (PcDnsMessage) msg = pc_dns_message_parse (data, len, NULL);
  GArray *an;
  guint stripped = 0;

  if (msg == NULL)
    return g_bytes_ref (reply);
  an = msg->sections[PC_DNS_SECTION_ANSWER];
  for (guint i = an->len; i > 0; i--)
    {
      PcDnsRecord *rec = &g_array_index (an, PcDnsRecord, i - 1);
      PcAddr addr = { 0 };
      PcScope scope;

      if (rec->type != PC_DNS_TYPE_A && rec->type != PC_DNS_TYPE_AAAA)
        continue;
      addr.family = rec->type == PC_DNS_TYPE_A ? AF_INET : AF_INET6;
      memcpy (addr.b, rec->rdata, rec->rdlen);
      pc_addr_unmap (&addr);
      scope = pc_scope_classify (&addr);
      if (scope == PC_SCOPE_LAN || scope == PC_SCOPE_LOCALHOST)
        {
          char text[PC_ADDR_STRLEN];
          g_message ("rebinding guard: removed %s from the answer for %s",
                     pc_addr_to_string (&addr, text), qname);
          pc_dns_message_remove_record (msg, PC_DNS_SECTION_ANSWER, i - 1);
          stripped++;
        }
    }
  if (stripped == 0)
    return g_bytes_ref (reply);
  g_mutex_lock (&self->lock);
  self->stats.rebinding_stripped += stripped;
  g_mutex_unlock (&self->lock);
  {
    GBytes *b = pc_dns_message_build (msg, 0, NULL);
    return b != NULL ? b : g_bytes_ref (reply);
  }
}

static void
waiter_cb (GBytes *reply, gpointer user_data)
{
  ask_finish (user_data, reply);
}

static void
upstream_cb (GBytes *reply, const GError *error, PcDnsUpstream *upstream, gpointer user_data)
{
  Ask *a = user_data;
  PcDnsServer *self = a->server;
  g_autoptr (GBytes) processed = NULL;

  if (reply != NULL)
    {
      PcDnsQuestion *q = &g_array_index (a->query->questions, PcDnsQuestion, 0);

      if (g_atomic_int_get (&self->block_rebinding) && !pc_dns_upstream_is_system (upstream))
        processed = guard_rebinding (self, q->name, reply);
      else
        processed = g_bytes_ref (reply);
    }
  else
    g_message ("cannot resolve: %s", error->message);
  if (a->lq != NULL && upstream != NULL)
    {
      PcDnsUpstreamStatus st;
      pc_dns_upstream_get_status (upstream, &st);
      g_free (a->lq->result->upstream);
      a->lq->result->upstream = g_strdup (st.label);
    }
  /* caches it, answers everyone who waited for the same question, then this asker */
  pc_dns_cache_finish (self->cache, a->query, processed);
  ask_finish (a, processed);
}

static void
prefetch_cb (GBytes *reply, const GError *error, PcDnsUpstream *upstream, gpointer user_data)
{
  Ask *a = user_data;
  PcDnsServer *self = a->server;
  g_autoptr (GBytes) processed = NULL;

  if (reply != NULL)
    processed = g_atomic_int_get (&self->block_rebinding) && !pc_dns_upstream_is_system (upstream)
                    ? guard_rebinding (
                        self, g_array_index (a->query->questions, PcDnsQuestion, 0).name, reply)
                    : g_bytes_ref (reply);
  pc_dns_cache_finish (self->cache, a->query, processed);
  ask_free (a);
}

static void
prefetch_waiter_cb (GBytes *reply, gpointer user_data)
{
  /* nobody waits for a refresh; the entry is replaced in the cache */
}

static void
find_owner (PcDnsServer *self, Ask *a)
{
  PcSocketOwner owner = { 0 };

  OwnerEntry *e;
  gint64 now;

  if (a->lq != NULL)
    a->pid = a->lq->pid;
  else if (a->conn != NULL && a->conn->owner != 0)
    a->pid = a->conn->owner; /* a TCP connection keeps its process */
  else if (self->attrib != NULL)
    {
      now = g_get_monotonic_time ();
      e = a->conn == NULL ? g_hash_table_lookup (self->owners, &a->flow) : NULL;
      if (e != NULL && e->expires > now)
        a->pid = e->pid;
      else if (pc_attrib_find_owner (self->attrib, &a->flow, &owner) && owner.pid > 0)
        {
          a->pid = owner.pid;
          if (a->conn != NULL)
            a->conn->owner = owner.pid;
          else
            {
              if (e == NULL)
                {
                  if (g_hash_table_size (self->owners) >= OWNER_CACHE_MAX)
                    g_hash_table_remove_all (self->owners);
                  e = g_new0 (OwnerEntry, 1);
                  e->key = a->flow;
                  g_hash_table_add (self->owners, e);
                }
              e->pid = owner.pid;
              e->expires = now + OWNER_CACHE_US;
            }
        }
    }
  /* the attribution's cache: no /proc reads while the process lives */
  if (a->pid > 0 && self->attrib != NULL && self->policy != NULL)
    a->process = pc_attrib_get_process (self->attrib, a->pid);
}

/* Takes a. */
static void
handle_query (PcDnsServer *self, Ask *a, const guint8 *data, gsize len)
{
  g_autoptr (GError) error = NULL;
  PcDnsQuestion *q;
  g_autoptr (GBytes) hit = NULL;
  g_autofree char *reason = NULL;
  PcDnsCacheResult res;

  stats_add (self, &self->stats.queries);
  if (len >= 3 && (data[2] & 0x80) != 0)
    {
      ask_free (a); /* a response: never answered (no loops, no reflection) */
      return;
    }
  a->query = pc_dns_message_parse (data, len, &error);
  if (a->query == NULL || a->query->questions->len != 1)
    {
      g_autoptr (GBytes) reply = pc_dns_build_error_reply (data, len, PC_DNS_RCODE_FORMERR);

      g_debug ("formerr: %s", error != NULL ? error->message : "not one question");
      stats_add (self, &self->stats.formerr);
      if (reply != NULL)
        ask_send (a, reply);
      ask_free (a);
      return;
    }
  a->wire = g_bytes_new (data, len);
  if (PC_DNS_OPCODE (a->query->flags) != 0)
    {
      g_autoptr (PcDnsMessage) reply = pc_dns_message_new_reply (a->query, PC_DNS_RCODE_NOTIMP);
      ask_reply_msg (a, reply);
      ask_free (a);
      return;
    }
  if (a->conn == NULL)
    a->max_len = a->query->has_edns ? CLAMP (a->query->edns_udp_size, 512, 1232) : 512;
  q = &g_array_index (a->query->questions, PcDnsQuestion, 0);

  if (g_atomic_int_get (&self->bypass) && pc_dns_name_equal (q->name, CANARY))
    {
      /* Firefox turns its own DoH off when this name does not resolve */
      g_autoptr (PcDnsMessage) reply = pc_dns_message_new_reply (a->query, PC_DNS_RCODE_NXDOMAIN);
      if (a->lq != NULL)
        {
          a->lq->result->blocked = TRUE;
          g_free (a->lq->result->reason);
          a->lq->result->reason
              = g_strdup ("DNS bypass prevention: the canary tells Firefox not to use its own DoH");
        }
      ask_reply_msg (a, reply);
      ask_free (a);
      return;
    }

  find_owner (self, a);
  if (policy_blocks (a, q->name, FALSE, &reason))
    {
      g_message ("blocked %s for pid %d: %s", q->name, a->pid,
                 reason != NULL ? reason : "no reason");
      ask_reply_blocked (a, reason);
      ask_free (a);
      return;
    }

  a->local = pc_dns_name_is_local (q->name, (const char *const *)self->search);
  res = pc_dns_cache_lookup (self->cache, a->query, data, len, &hit);
  if (res != PC_DNS_CACHE_MISS)
    {
      if (res == PC_DNS_CACHE_HIT_PREFETCH
          && !pc_dns_cache_join (self->cache, a->query, prefetch_waiter_cb, NULL))
        {
          /* refresh in the background with a copy of this question */
          Ask *p = g_new0 (Ask, 1);

          p->server = self;
          p->query = pc_dns_message_parse (data, len, NULL);
          p->wire = g_bytes_ref (a->wire);
          pc_dns_upstreams_query (self->upstreams, p->wire, a->local, prefetch_cb, p);
        }
      if (a->lq != NULL)
        a->lq->result->cached = TRUE;
      ask_finish (a, hit);
      return;
    }
  if (a->local)
    stats_add (self, &self->stats.local);
  if (pc_dns_cache_join (self->cache, a->query, waiter_cb, a))
    return; /* someone asks upstream already */
  pc_dns_upstreams_query (self->upstreams, a->wire, a->local, upstream_cb, a);
}

/* ---- UDP ------------------------------------------------------------------------------------ */

static void
sockaddr_to_addr (const struct sockaddr_storage *ss, PcAddr *addr, guint16 *port)
{
  memset (addr, 0, sizeof *addr);
  if (ss->ss_family == AF_INET)
    {
      const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
      addr->family = AF_INET;
      addr->v4 = sin->sin_addr;
      *port = g_ntohs (sin->sin_port);
    }
  else
    {
      const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
      addr->family = AF_INET6;
      addr->v6 = sin6->sin6_addr;
      *port = g_ntohs (sin6->sin6_port);
      pc_addr_unmap (addr);
    }
}

/* The asking socket's flow as the firewall sees it: from the client to the address it sent to,
 * which is the original destination when netfilter redirected the query to us. */
static void
fill_flow (Ask *a, guint8 proto, const Listener *l, const PcAddr *orig, guint16 orig_port)
{
  a->flow.proto = proto;
  a->flow.direction = PC_DIR_OUTBOUND;
  sockaddr_to_addr (&a->peer, &a->flow.laddr, &a->flow.lport);
  a->flow.family = a->flow.laddr.family;
  if (orig != NULL && orig->family != 0)
    {
      a->flow.raddr = *orig;
      a->flow.rport = orig_port;
    }
  else
    {
      a->flow.raddr = l->addr;
      a->flow.rport = l->port;
    }
}

/* The answers given while a batch was read, in one sendmmsg (or a few, if the socket buffer
 * takes only part); what the kernel refuses is dropped like a lost datagram (clients retry). */
static void
udp_flush (Listener *l)
{
  struct mmsghdr msgs[UDP_BATCH];
  struct iovec iov[UDP_BATCH];
  guint done = 0;

  while (done < l->tx->len)
    {
      guint n = MIN (l->tx->len - done, UDP_BATCH);
      int sent;

      for (guint i = 0; i < n; i++)
        {
          TxEntry *e = &g_array_index (l->tx, TxEntry, done + i);
          gsize len;

          iov[i].iov_base = (void *)g_bytes_get_data (e->data, &len);
          iov[i].iov_len = len;
          memset (&msgs[i], 0, sizeof msgs[i]);
          msgs[i].msg_hdr.msg_name = &e->peer;
          msgs[i].msg_hdr.msg_namelen = e->peer_len;
          msgs[i].msg_hdr.msg_iov = &iov[i];
          msgs[i].msg_hdr.msg_iovlen = 1;
        }
      sent = sendmmsg (l->udp_fd, msgs, n, MSG_DONTWAIT);
      if (sent <= 0)
        {
          g_debug ("cannot answer %u questions over udp: %s", l->tx->len - done,
                   sent < 0 ? g_strerror (errno) : "nothing sent");
          break;
        }
      done += (guint)sent;
    }
  for (guint i = 0; i < l->tx->len; i++)
    g_bytes_unref (g_array_index (l->tx, TxEntry, i).data);
  g_array_set_size (l->tx, 0);
}

static gboolean
udp_cb (gint fd, GIOCondition cond, gpointer user_data)
{
  Listener *l = user_data;
  union
  {
    struct cmsghdr align;
    char buf[CMSG_SPACE (sizeof (struct sockaddr_in6))];
  } control[UDP_BATCH];
  struct sockaddr_storage peers[UDP_BATCH];
  struct mmsghdr msgs[UDP_BATCH];
  struct iovec iov[UDP_BATCH];

  if (l->rx == NULL)
    {
      l->rx = g_malloc (UDP_BATCH * UDP_QUERY_MAX);
      l->tx = g_array_new (FALSE, FALSE, sizeof (TxEntry));
    }
  l->batching = TRUE;
  /* a bounded number of batches per wake-up so TCP and upstream answers get their turn */
  for (guint round = 0; round < 4; round++)
    {
      int n;

      for (guint i = 0; i < UDP_BATCH; i++)
        {
          iov[i].iov_base = l->rx + i * UDP_QUERY_MAX;
          iov[i].iov_len = UDP_QUERY_MAX;
          memset (&msgs[i], 0, sizeof msgs[i]);
          msgs[i].msg_hdr.msg_name = &peers[i];
          msgs[i].msg_hdr.msg_namelen = sizeof peers[i];
          msgs[i].msg_hdr.msg_iov = &iov[i];
          msgs[i].msg_hdr.msg_iovlen = 1;
          msgs[i].msg_hdr.msg_control = &control[i];
          msgs[i].msg_hdr.msg_controllen = sizeof control[i];
        }
      n = recvmmsg (fd, msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
      if (n <= 0)
        break;
      for (int i = 0; i < n; i++)
        {
          struct msghdr *mh = &msgs[i].msg_hdr;
          Ask *a = g_new0 (Ask, 1);
          PcAddr orig = { 0 };
          guint16 orig_port = 0;
          gsize len = msgs[i].msg_len;

          a->server = l->server;
          a->listener = l;
          memcpy (&a->peer, &peers[i], sizeof a->peer);
          a->peer_len = mh->msg_namelen;
          for (struct cmsghdr *c = CMSG_FIRSTHDR (mh); c != NULL; c = CMSG_NXTHDR (mh, c))
            if ((c->cmsg_level == SOL_IP && c->cmsg_type == IP_ORIGDSTADDR)
                || (c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_ORIGDSTADDR))
              {
                struct sockaddr_storage ss = { 0 };
                memcpy (&ss, CMSG_DATA (c), MIN (c->cmsg_len - CMSG_LEN (0), sizeof ss));
                sockaddr_to_addr (&ss, &orig, &orig_port);
              }
          fill_flow (a, IPPROTO_UDP, l, &orig, orig_port);
          /* cut off: not a question (handle_query answers FORMERR to the header it has) */
          if (mh->msg_flags & MSG_TRUNC)
            len = MIN (len, PC_DNS_HEADER_LEN + 1);
          handle_query (l->server, a, iov[i].iov_base, len);
        }
      udp_flush (l);
      if (n < UDP_BATCH)
        break;
    }
  l->batching = FALSE;
  udp_flush (l);
  return G_SOURCE_CONTINUE;
}

/* ---- TCP (RFC 7766: pipelined queries, answers in any order) -------------------------------- */

static void
tcp_conn_close (TcpConn *c)
{
  if (c->closed)
    return;
  c->closed = TRUE;
  if (c->src != NULL)
    {
      g_source_destroy (c->src);
      g_clear_pointer (&c->src, g_source_unref);
    }
  close (c->fd);
  c->fd = -1;
  g_hash_table_remove (c->server->tcp_conns, c);
  tcp_conn_unref (c);
}

static void
tcp_conn_unref (TcpConn *c)
{
  if (!g_atomic_int_dec_and_test (&c->ref))
    return;
  g_byte_array_unref (c->in);
  g_byte_array_unref (c->out);
  g_free (c);
}

static gboolean tcp_conn_cb (gint fd, GIOCondition cond, gpointer user_data);

static void
tcp_conn_watch (TcpConn *c)
{
  GIOCondition cond = G_IO_IN | (c->out->len > 0 ? G_IO_OUT : 0);

  if (c->closed)
    return;
  if (c->src != NULL)
    {
      g_source_destroy (c->src);
      g_clear_pointer (&c->src, g_source_unref);
    }
  c->src = g_unix_fd_source_new (c->fd, cond);
  g_source_set_callback (c->src, G_SOURCE_FUNC (tcp_conn_cb), c, NULL);
  g_source_attach (c->src, c->server->context);
}

static void
tcp_conn_flush (TcpConn *c)
{
  gboolean had = c->out->len > 0;

  while (c->out->len > 0)
    {
      ssize_t n = send (c->fd, c->out->data, c->out->len, MSG_DONTWAIT | MSG_NOSIGNAL);

      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        break;
      if (n <= 0)
        {
          tcp_conn_close (c);
          return;
        }
      g_byte_array_remove_range (c->out, 0, (guint)n);
    }
  if (had != (c->out->len > 0))
    tcp_conn_watch (c);
}

static void
tcp_conn_write (TcpConn *c, const guint8 *data, gsize len)
{
  guint8 frame[2] = { (guint8)(len >> 8), (guint8)len };

  if (c->closed || len > 65535)
    return;
  g_byte_array_append (c->out, frame, 2);
  g_byte_array_append (c->out, data, (guint)len);
  c->last_active = g_get_monotonic_time ();
  tcp_conn_flush (c);
}

static gboolean
tcp_conn_cb (gint fd, GIOCondition cond, gpointer user_data)
{
  TcpConn *c = user_data;

  if (cond & G_IO_OUT)
    {
      tcp_conn_flush (c);
      if (c->closed)
        return G_SOURCE_REMOVE;
    }
  if (cond & (G_IO_IN | G_IO_HUP | G_IO_ERR))
    {
      guint8 buf[16384];
      ssize_t n = recv (c->fd, buf, sizeof buf, MSG_DONTWAIT);

      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return G_SOURCE_CONTINUE;
      if (n <= 0)
        {
          tcp_conn_close (c);
          return G_SOURCE_REMOVE;
        }
      c->last_active = g_get_monotonic_time ();
      g_byte_array_append (c->in, buf, (guint)n);
      g_atomic_int_inc (&c->ref);
      while (!c->closed && c->in->len >= 2)
        {
          gsize len = (gsize)(c->in->data[0] << 8 | c->in->data[1]);
          Ask *a;

          if (c->in->len < len + 2)
            break;
          a = g_new0 (Ask, 1);
          a->server = c->server;
          a->conn = c;
          a->max_len = 65535;
          a->flow = c->flow;
          g_atomic_int_inc (&c->ref);
          c->pending++;
          {
            g_autofree guint8 *query = g_memdup2 (c->in->data + 2, len);
            g_byte_array_remove_range (c->in, 0, (guint)len + 2);
            handle_query (c->server, a, query, len);
          }
        }
      {
        gboolean closed = c->closed;
        tcp_conn_unref (c);
        if (closed)
          return G_SOURCE_REMOVE;
      }
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
tcp_accept_cb (gint fd, GIOCondition cond, gpointer user_data)
{
  Listener *l = user_data;
  PcDnsServer *self = l->server;

  for (;;)
    {
      struct sockaddr_storage peer = { 0 };
      socklen_t pl = sizeof peer;
      int cfd = accept4 (fd, (struct sockaddr *)&peer, &pl, SOCK_NONBLOCK | SOCK_CLOEXEC);
      TcpConn *c;
      struct sockaddr_storage orig = { 0 };
      socklen_t ol = sizeof orig;
      PcAddr orig_addr = { 0 };
      guint16 orig_port = 0;
      Ask tmp = { 0 };

      if (cfd < 0)
        break;
      if (g_hash_table_size (self->tcp_conns) >= MAX_TCP_CONNS)
        {
          close (cfd);
          continue;
        }
      /* redirected by netfilter: the address the program meant (the firewall's flow key) */
      if (getsockopt (cfd, peer.ss_family == AF_INET ? SOL_IP : SOL_IPV6,
                      peer.ss_family == AF_INET ? SO_ORIGINAL_DST : IP6T_SO_ORIGINAL_DST, &orig,
                      &ol)
          == 0)
        sockaddr_to_addr (&orig, &orig_addr, &orig_port);
      c = g_new0 (TcpConn, 1);
      c->ref = 1;
      c->server = self;
      c->fd = cfd;
      c->in = g_byte_array_new ();
      c->out = g_byte_array_new ();
      c->last_active = g_get_monotonic_time ();
      tmp.peer = peer;
      fill_flow (&tmp, IPPROTO_TCP, l, &orig_addr, orig_port);
      c->flow = tmp.flow;
      g_hash_table_add (self->tcp_conns, c);
      tcp_conn_watch (c);
    }
  return G_SOURCE_CONTINUE;
}

static gboolean
sweep_cb (gpointer user_data)
{
  PcDnsServer *self = user_data;
  g_autoptr (GPtrArray) idle = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;
  gint64 now = g_get_monotonic_time ();

  g_hash_table_iter_init (&iter, self->tcp_conns);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      TcpConn *c = key;
      if (c->pending == 0 && now - c->last_active > TCP_IDLE_US)
        g_ptr_array_add (idle, c);
    }
  for (guint i = 0; i < idle->len; i++)
    tcp_conn_close (idle->pdata[i]);
  g_hash_table_iter_init (&iter, self->owners);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (((OwnerEntry *)key)->expires <= now)
      g_hash_table_iter_remove (&iter);
  return G_SOURCE_CONTINUE;
}

/* ---- start and stop ------------------------------------------------------------------------- */

static socklen_t
listener_sockaddr (const Listener *l, struct sockaddr_storage *ss)
{
  memset (ss, 0, sizeof *ss);
  if (l->addr.family == AF_INET)
    {
      struct sockaddr_in *sin = (struct sockaddr_in *)ss;
      sin->sin_family = AF_INET;
      sin->sin_port = g_htons (l->port);
      sin->sin_addr = l->addr.v4;
      return sizeof *sin;
    }
  else
    {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = g_htons (l->port);
      sin6->sin6_addr = l->addr.v6;
      return sizeof *sin6;
    }
}

static gboolean
listener_bind (Listener *l, GError **error)
{
  struct sockaddr_storage ss;
  socklen_t sl = listener_sockaddr (l, &ss);
  int one = 1;
  int family = l->addr.family;

  l->udp_fd = socket (family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  l->tcp_fd = socket (family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (l->udp_fd < 0 || l->tcp_fd < 0)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_UNAVAILABLE, "%s: cannot make a socket: %s", l->text,
                   g_strerror (errno));
      return FALSE;
    }
  setsockopt (l->tcp_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  /* bursts of queries (a browser opening a page) should wait in the buffer, not be dropped */
  setsockopt (l->udp_fd, SOL_SOCKET, SO_RCVBUF, &(int){ 1 << 20 }, sizeof (int));
  if (family == AF_INET6)
    {
      setsockopt (l->udp_fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
      setsockopt (l->tcp_fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
      setsockopt (l->udp_fd, SOL_IPV6, IPV6_RECVORIGDSTADDR, &one, sizeof one);
    }
  else
    setsockopt (l->udp_fd, SOL_IP, IP_RECVORIGDSTADDR, &one, sizeof one);
  if (bind (l->udp_fd, (struct sockaddr *)&ss, sl) < 0)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_UNAVAILABLE, "%s: cannot bind udp: %s", l->text,
                   g_strerror (errno));
      return FALSE;
    }
  if (l->port == 0)
    {
      /* asked for any port (tests): TCP takes the one UDP got */
      sl = sizeof ss;
      getsockname (l->udp_fd, (struct sockaddr *)&ss, &sl);
      sockaddr_to_addr (&ss, &l->addr, &l->port);
    }
  if (bind (l->tcp_fd, (struct sockaddr *)&ss, sl) < 0 || listen (l->tcp_fd, 64) < 0)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_UNAVAILABLE, "%s: cannot bind tcp: %s", l->text,
                   g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

static gpointer
thread_main (gpointer user_data)
{
  PcDnsServer *self = user_data;

  g_main_context_push_thread_default (self->context);
  g_main_loop_run (self->loop);

  /* everything made in this context is freed in it: the upstreams first (their queries fail
   * and finish in the cache), then the cache (its waiters are told), then the clients */
  g_clear_pointer (&self->upstreams, pc_dns_upstreams_free);
  g_clear_pointer (&self->cache, pc_dns_cache_free);
  {
    g_autoptr (GPtrArray) conns = g_ptr_array_new ();
    GHashTableIter iter;
    gpointer key;

    g_hash_table_iter_init (&iter, self->tcp_conns);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      g_ptr_array_add (conns, key);
    for (guint i = 0; i < conns->len; i++)
      tcp_conn_close (conns->pdata[i]);
  }
  g_clear_pointer (&self->attrib, pc_attrib_free);
  g_ptr_array_set_size (self->listeners, 0);
  if (self->sweep != NULL)
    {
      g_source_destroy (self->sweep);
      g_clear_pointer (&self->sweep, g_source_unref);
    }
  g_main_context_pop_thread_default (self->context);
  return NULL;
}

gboolean
pc_dns_server_start (PcDnsServer *self, GError **error)
{
  PcDnsUpstreamsConfig uconf = { 0 };
  g_autoptr (GArray) exclude = g_array_new (FALSE, TRUE, sizeof (PcAddr));
  guint bound = 0;
  g_autoptr (GString) errors = g_string_new (NULL);

  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
  g_main_context_push_thread_default (self->context);

  for (guint i = 0; i < self->listeners->len; i++)
    {
      Listener *l = self->listeners->pdata[i];
      g_autoptr (GError) bind_error = NULL;

      if (!listener_bind (l, &bind_error))
        {
          g_warning ("dns: %s", bind_error->message);
          l->error = g_strdup (bind_error->message);
          g_string_append_printf (errors, "%s%s", errors->len > 0 ? "; " : "", bind_error->message);
          continue;
        }
      bound++;
      /* a resolv.conf that names us (we are the system's resolver) must not make us ask
       * ourselves */
      if (l->port == (self->config.system_port > 0 ? self->config.system_port : 53))
        g_array_append_val (exclude, l->addr);
      l->udp_src = g_unix_fd_source_new (l->udp_fd, G_IO_IN);
      g_source_set_callback (l->udp_src, G_SOURCE_FUNC (udp_cb), l, NULL);
      g_source_attach (l->udp_src, self->context);
      l->tcp_src = g_unix_fd_source_new (l->tcp_fd, G_IO_IN);
      g_source_set_callback (l->tcp_src, G_SOURCE_FUNC (tcp_accept_cb), l, NULL);
      g_source_attach (l->tcp_src, self->context);
    }

  uconf.resolv_conf = self->resolv_conf;
  uconf.exclude = (const PcAddr *)exclude->data;
  uconf.n_exclude = exclude->len;
  uconf.attempt_timeout_ms = self->config.attempt_timeout_ms;
  uconf.system_port = self->config.system_port;
  self->upstreams = pc_dns_upstreams_new ((const char *const *)self->upstream_urls, &uconf, error);
  if (self->upstreams == NULL || bound == 0)
    {
      if (self->upstreams != NULL)
        g_set_error (error, PC_ERROR, PC_ERROR_UNAVAILABLE, "the dns resolver could not listen: %s",
                     errors->str);
      g_main_context_pop_thread_default (self->context);
      return FALSE;
    }
  self->search = g_strdupv ((char **)pc_dns_upstreams_get_search_domains (self->upstreams));
  self->cache = pc_dns_cache_new (&self->config.cache, NULL, NULL);
  if (self->config.attribute)
    {
      g_autoptr (GError) attrib_error = NULL;

      self->attrib = pc_attrib_new (NULL, &attrib_error);
      if (self->attrib == NULL)
        g_warning ("dns: queries are not attributed to processes: %s", attrib_error->message);
    }
  self->sweep = g_timeout_source_new_seconds (5);
  g_source_set_callback (self->sweep, sweep_cb, self, NULL);
  g_source_attach (self->sweep, self->context);
  g_main_context_pop_thread_default (self->context);

  self->thread = g_thread_new ("pc-dns", thread_main, self);
  return TRUE;
}

static char *
build_status (PcDnsServer *self)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < self->listeners->len; i++)
    {
      Listener *l = self->listeners->pdata[i];
      char addr[PC_ADDR_STRLEN];

      if (l->error != NULL)
        g_string_append_printf (s, "listener %s: not listening: %s\n", l->text, l->error);
      else
        g_string_append_printf (s,
                                l->addr.family == AF_INET6 ? "listener [%s]:%u: udp, tcp\n"
                                                           : "listener %s:%u: udp, tcp\n",
                                pc_addr_to_string (&l->addr, addr), l->port);
    }
  if (self->upstreams != NULL)
    {
      g_autoptr (GArray) st = pc_dns_upstreams_get_status (self->upstreams);

      for (guint i = 0; i < st->len; i++)
        {
          PcDnsUpstreamStatus *u = &g_array_index (st, PcDnsUpstreamStatus, i);
          g_string_append_printf (s,
                                  "upstream %s: %s, %" G_GUINT64_FORMAT " us, %" G_GUINT64_FORMAT
                                  " queries, %" G_GUINT64_FORMAT " failures%s%s\n",
                                  u->label, u->reachable ? "reachable" : "unreachable",
                                  u->latency_us, u->queries, u->failures,
                                  u->last_error != NULL && !u->reachable ? ": " : "",
                                  u->last_error != NULL && !u->reachable ? u->last_error : "");
        }
    }
  return g_string_free (s, FALSE);
}

typedef gpointer (*RunFunc) (PcDnsServer *self);
static gpointer run_in_thread (PcDnsServer *self, RunFunc func);

static gpointer
status_in_thread (PcDnsServer *self)
{
  return build_status (self);
}

char *
pc_dns_server_get_status (PcDnsServer *self)
{
  return run_in_thread (self, status_in_thread);
}

GArray *
pc_dns_server_get_bound (PcDnsServer *self)
{
  GArray *out = g_array_new (FALSE, TRUE, sizeof (PcFlowKey));

  for (guint i = 0; i < self->listeners->len; i++)
    {
      Listener *l = self->listeners->pdata[i];
      PcFlowKey k = { 0 };

      if (l->error != NULL)
        continue;
      k.family = l->addr.family;
      k.laddr = l->addr;
      k.lport = l->port;
      g_array_append_val (out, k);
    }
  return out;
}

static gpointer
cache_stats_in_thread (PcDnsServer *self)
{
  PcDnsCacheStats *stats = g_new0 (PcDnsCacheStats, 1);

  if (self->cache != NULL)
    pc_dns_cache_get_stats (self->cache, stats);
  return stats;
}

void
pc_dns_server_get_stats (PcDnsServer *self, PcDnsServerStats *stats)
{
  g_autofree PcDnsCacheStats *cache = run_in_thread (self, cache_stats_in_thread);

  g_mutex_lock (&self->lock);
  *stats = self->stats;
  g_mutex_unlock (&self->lock);
  stats->cache = *cache;
}

typedef struct
{
  PcDnsServer *server;
  char **urls;
  GMutex lock;
  GCond cond;
  gboolean done;
} NewUpstreams;

static gboolean
set_upstreams_cb (gpointer user_data)
{
  NewUpstreams *n = user_data;
  PcDnsServer *self = n->server;
  PcDnsUpstreamsConfig uconf = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) exclude = g_array_new (FALSE, TRUE, sizeof (PcAddr));
  PcDnsUpstreams *fresh;

  for (guint i = 0; i < self->listeners->len; i++)
    {
      Listener *l = self->listeners->pdata[i];
      if (l->error == NULL
          && l->port == (self->config.system_port > 0 ? self->config.system_port : 53))
        g_array_append_val (exclude, l->addr);
    }
  uconf.resolv_conf = self->resolv_conf;
  uconf.exclude = (const PcAddr *)exclude->data;
  uconf.n_exclude = exclude->len;
  uconf.attempt_timeout_ms = self->config.attempt_timeout_ms;
  uconf.system_port = self->config.system_port;
  fresh = pc_dns_upstreams_new ((const char *const *)n->urls, &uconf, &error);
  if (fresh == NULL)
    g_warning ("dns: keeping the old upstreams: %s", error->message);
  else
    {
      g_clear_pointer (&self->upstreams, pc_dns_upstreams_free);
      self->upstreams = fresh;
      g_strfreev (self->upstream_urls);
      self->upstream_urls = g_strdupv (n->urls);
      pc_dns_cache_flush (self->cache);
      g_message ("dns: upstreams replaced");
    }
  g_mutex_lock (&n->lock);
  n->done = TRUE;
  g_cond_signal (&n->cond);
  g_mutex_unlock (&n->lock);
  return G_SOURCE_REMOVE;
}

gboolean
pc_dns_server_set_upstreams (PcDnsServer *self, const char *const *urls, GError **error)
{
  NewUpstreams *n;

  if (urls == NULL)
    urls = default_upstreams;
  for (guint i = 0; urls[i] != NULL; i++)
    {
      g_autoptr (PcDnsUpstreamSpec) spec = pc_dns_upstream_spec_parse (urls[i], error);
      if (spec == NULL)
        return FALSE;
      if (spec->ca_file != NULL && !g_file_test (spec->ca_file, G_FILE_TEST_IS_REGULAR))
        {
          g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING,
                       "dns server %s: ca file %s does not exist", spec->url, spec->ca_file);
          return FALSE;
        }
    }
  if (self->thread == NULL)
    {
      g_strfreev (self->upstream_urls);
      self->upstream_urls = g_strdupv ((char **)urls);
      return TRUE;
    }
  /* waits for the switch, so a query sent after this returns is answered by the new ones */
  n = g_new0 (NewUpstreams, 1);
  n->server = self;
  n->urls = g_strdupv ((char **)urls);
  g_mutex_init (&n->lock);
  g_cond_init (&n->cond);
  g_main_context_invoke (self->context, set_upstreams_cb, n);
  g_mutex_lock (&n->lock);
  while (!n->done)
    g_cond_wait (&n->cond, &n->lock);
  g_mutex_unlock (&n->lock);
  g_mutex_clear (&n->lock);
  g_cond_clear (&n->cond);
  g_strfreev (n->urls);
  g_free (n);
  return TRUE;
}

void
pc_dns_server_set_block_rebinding (PcDnsServer *self, gboolean block)
{
  g_atomic_int_set (&self->block_rebinding, block ? 1 : 0);
}

void
pc_dns_server_set_block_reply (PcDnsServer *self, PcDnsBlockReply reply)
{
  g_atomic_int_set (&self->block_reply, (gint)reply);
}

void
pc_dns_server_set_bypass_prevention (PcDnsServer *self, gboolean on)
{
  g_atomic_int_set (&self->bypass, on ? 1 : 0);
}

/* Runs func (self) in the resolver thread and waits for it: the cache, the upstreams and their
 * health belong to that thread. */
typedef struct
{
  PcDnsServer *server;
  RunFunc func;
  gpointer result;
  GMutex lock;
  GCond cond;
  gboolean done;
} RunCall;

static gboolean
run_call_cb (gpointer user_data)
{
  RunCall *call = user_data;

  call->result = call->func (call->server);
  g_mutex_lock (&call->lock);
  call->done = TRUE;
  g_cond_signal (&call->cond);
  g_mutex_unlock (&call->lock);
  return G_SOURCE_REMOVE;
}

static gpointer
run_in_thread (PcDnsServer *self, RunFunc func)
{
  RunCall call = { .server = self, .func = func };

  g_mutex_init (&call.lock);
  g_cond_init (&call.cond);
  if (self->thread == NULL || g_main_context_is_owner (self->context))
    run_call_cb (&call);
  else
    {
      g_main_context_invoke (self->context, run_call_cb, &call);
      g_mutex_lock (&call.lock);
      while (!call.done)
        g_cond_wait (&call.cond, &call.lock);
      g_mutex_unlock (&call.lock);
    }
  g_mutex_clear (&call.lock);
  g_cond_clear (&call.cond);
  return call.result;
}

static gpointer
flush_in_thread (PcDnsServer *self)
{
  PcDnsCacheStats st = { 0 };

  if (self->cache == NULL)
    return GUINT_TO_POINTER (0);
  pc_dns_cache_get_stats (self->cache, &st);
  pc_dns_cache_flush (self->cache);
  pc_dns_memory_clear (self->memory);
  g_message ("dns: cache flushed (%u entries)", st.entries);
  return GUINT_TO_POINTER (st.entries);
}

guint
pc_dns_server_flush_cache (PcDnsServer *self)
{
  return GPOINTER_TO_UINT (run_in_thread (self, flush_in_thread));
}

static const char *
transport_name (PcDnsUpstreamKind kind, gboolean system)
{
  if (system || kind == PC_DNS_UPSTREAM_SYSTEM)
    return "system";
  switch (kind)
    {
      case PC_DNS_UPSTREAM_DOT:
        return "dot";
      case PC_DNS_UPSTREAM_DOH:
        return "doh";
      default:
        return "dns";
    }
}

static gpointer
upstreams_in_thread (PcDnsServer *self)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("aa{sv}"));
  if (self->upstreams != NULL)
    {
      g_autoptr (GArray) st = pc_dns_upstreams_get_status (self->upstreams);

      for (guint i = 0; i < st->len; i++)
        {
          PcDnsUpstreamStatus *u = &g_array_index (st, PcDnsUpstreamStatus, i);
          GVariantDict d;

          g_variant_dict_init (&d, NULL);
          g_variant_dict_insert (&d, "url", "s", u->url != NULL ? u->url : "");
          g_variant_dict_insert (&d, "name", "s", u->label != NULL ? u->label : "");
          g_variant_dict_insert (&d, "transport", "s", transport_name (u->kind, u->system));
          g_variant_dict_insert (&d, "reachable", "b", u->reachable);
          g_variant_dict_insert (&d, "latency-us", "t", u->latency_us);
          g_variant_dict_insert (&d, "queries", "t", u->queries);
          g_variant_dict_insert (&d, "failures", "t", u->failures);
          g_variant_dict_insert (&d, "last-error", "s", u->last_error != NULL ? u->last_error : "");
          g_variant_builder_add_value (&b, g_variant_dict_end (&d));
        }
    }
  return g_variant_ref_sink (g_variant_builder_end (&b));
}

GVariant *
pc_dns_server_dup_upstreams (PcDnsServer *self)
{
  return run_in_thread (self, upstreams_in_thread);
}

char *
pc_dns_server_dup_listen_error (PcDnsServer *self)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < self->listeners->len; i++)
    {
      Listener *l = self->listeners->pdata[i];
      if (l->error != NULL)
        g_string_append_printf (s, "%s%s", s->len > 0 ? "; " : "", l->error);
    }
  return g_string_free (s, FALSE);
}

/* ---- questions of the helper itself --------------------------------------------------------- */

void
pc_dns_query_result_free (PcDnsQueryResult *result)
{
  if (result == NULL)
    return;
  g_strfreev (result->answers);
  g_free (result->upstream);
  g_free (result->reason);
  g_free (result);
}

static gboolean
local_query_deliver_cb (gpointer user_data)
{
  LocalQuery *lq = user_data;

  lq->func (g_steal_pointer (&lq->result), lq->user_data);
  g_main_context_unref (lq->context);
  g_free (lq->name);
  g_free (lq);
  return G_SOURCE_REMOVE;
}

/* In the resolver thread, when the question is answered: the answer as text, handed to the
 * caller's thread. */
static void
local_query_done (LocalQuery *lq)
{
  PcDnsQueryResult *r = lq->result;
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();
  g_autoptr (PcDnsMessage) msg = NULL;
  GSource *src;

  r->elapsed_us = g_get_monotonic_time () - lq->started;
  r->rcode = PC_DNS_RCODE_SERVFAIL;
  if (lq->reply != NULL)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (lq->reply, &len);

      msg = pc_dns_message_parse (data, len, NULL);
    }
  if (msg != NULL)
    {
      GArray *an = msg->sections[PC_DNS_SECTION_ANSWER];

      r->rcode = PC_DNS_RCODE (msg->flags) | (guint)msg->edns_ext_rcode << 4;
      for (guint i = 0; i < an->len; i++)
        {
          g_autofree char *text = pc_dns_record_to_string (&g_array_index (an, PcDnsRecord, i));
          g_strv_builder_add (b, text);
        }
    }
  r->answers = g_strv_builder_end (b);
  g_clear_pointer (&lq->reply, g_bytes_unref);
  src = g_idle_source_new ();
  g_source_set_callback (src, local_query_deliver_cb, lq, NULL);
  g_source_attach (src, lq->context);
  g_source_unref (src);
}

static gboolean
local_query_start_cb (gpointer user_data)
{
  LocalQuery *lq = user_data;
  PcDnsServer *self = lq->server;
  g_autoptr (PcDnsMessage) msg = pc_dns_message_new ();
  g_autoptr (GBytes) wire = NULL;
  Ask *a = g_new0 (Ask, 1);
  gsize len;
  const guint8 *data;

  msg->id = (guint16)g_random_int_range (0, 65536);
  msg->flags = PC_DNS_FLAG_RD;
  pc_dns_message_add_question (msg, lq->name, lq->qtype, PC_DNS_CLASS_IN);
  /* with EDNS, as most clients ask (and a refusal carries its reason as an EDE) */
  msg->has_edns = TRUE;
  msg->edns_udp_size = 1232;
  wire = pc_dns_message_build (msg, 0, NULL);
  a->server = self;
  a->lq = lq;
  a->max_len = 65535;
  a->flow.family = a->flow.laddr.family = a->flow.raddr.family = AF_INET;
  if (wire == NULL)
    {
      ask_free (a); /* SERVFAIL: the name was checked, so this does not happen */
      return G_SOURCE_REMOVE;
    }
  data = g_bytes_get_data (wire, &len);
  handle_query (self, a, data, len);
  return G_SOURCE_REMOVE;
}

gboolean
pc_dns_server_query (PcDnsServer *self,
                     const char *name,
                     guint16 qtype,
                     pid_t pid,
                     PcDnsQueryFunc func,
                     gpointer user_data,
                     GError **error)
{
  guint8 wire[PC_DNS_MAX_NAME];
  gsize wire_len;
  LocalQuery *lq;

  if (*name == '\0' || !pc_dns_name_to_wire (name, wire, &wire_len))
    {
      g_set_error (error, PC_ERROR, PC_ERROR_INVALID_ARGS,
                   "'%s' is not a domain name (labels of 1-63 bytes, at most 253 in all)", name);
      return FALSE;
    }
  if (self->thread == NULL)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_UNAVAILABLE, "the resolver is not running");
      return FALSE;
    }
  lq = g_new0 (LocalQuery, 1);
  lq->server = self;
  lq->name = g_strdup (name);
  lq->qtype = qtype;
  lq->pid = pid;
  lq->context = g_main_context_ref_thread_default ();
  lq->func = func;
  lq->user_data = user_data;
  lq->started = g_get_monotonic_time ();
  lq->result = g_new0 (PcDnsQueryResult, 1);
  lq->result->upstream = g_strdup ("");
  lq->result->reason = g_strdup ("");
  g_main_context_invoke (self->context, local_query_start_cb, lq);
  return TRUE;
}

static gboolean
quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

void
pc_dns_server_free (PcDnsServer *self)
{
  if (self == NULL)
    return;
  if (self->thread != NULL)
    {
      g_main_context_invoke (self->context, quit_cb, self->loop);
      g_thread_join (self->thread);
    }
  else
    {
      g_clear_pointer (&self->cache, pc_dns_cache_free);
      g_clear_pointer (&self->upstreams, pc_dns_upstreams_free);
      g_clear_pointer (&self->attrib, pc_attrib_free);
    }
  g_clear_pointer (&self->listeners, g_ptr_array_unref);
  g_clear_pointer (&self->tcp_conns, g_hash_table_unref);
  g_clear_pointer (&self->owners, g_hash_table_unref);
  if (self->own_memory)
    pc_dns_memory_free (self->memory);
  self->memory = NULL;
  g_clear_pointer (&self->loop, g_main_loop_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_strfreev (self->listen);
  g_strfreev (self->upstream_urls);
  g_strfreev (self->search);
  g_free (self->resolv_conf);
  g_mutex_clear (&self->lock);
  g_free (self);
}
