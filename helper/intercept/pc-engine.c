/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-intercept"

#include "pc-engine.h"

#include <glib-unix.h>
#include <linux/netfilter.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pc-conntrack.h"
#include "pc-error.h"
#include "pc-marks.h"
#include "pc-nfqueue.h"
#include "pc-packet.h"
#include "pc-policy-snapshot.h"
#include "pc-policy.h"
#include "pc-traffic.h"

typedef struct
{
  PcFlowKey key;
  PcProcess *process;     /* NULL when no owner was found */
  gboolean no_socket;     /* no socket at all (kernel traffic), not just no process */
  const char *profile_id; /* interned; "" until the flow's process has a profile */
  pid_t pid;
  uid_t uid;
  char comm[16];
  gboolean own;
  PcDecision decision;
  gint64 started;          /* wall clock, µs */
  PcConnection *conn;      /* the record the rest of the helper sees */
  guint64 cookie;          /* socket cookie of the owner (traffic counters), 0 if unknown */
  gboolean cookie_checked; /* inbound TCP: the accepted socket's cookie was looked up */
  struct _Pending *prompt; /* non-NULL while the flow waits for an answer */
  guint32 syn_seq;         /* TCP: the sequence number of the SYN that opened the flow */
  PcGeoInfo geo;           /* of the remote address; empty without geo data */
  char domain[256];        /* from the resolver's memory, "" when none */
  gint64 sampled;          /* monotonic µs of the last traffic sample */
  gint64 published;        /* monotonic µs of its record (after its verdict); 0 before */
  gboolean unpublished;    /* decided, verdict sent, record not yet made (see publish_batch) */
} PcFlow;

/* A prompt in the packet thread: the packets it holds and the flows that wait for it. */
typedef struct _Pending
{
  guint64 id; /* key of pending_by_id; info may be replaced, the id stays */
  PcPrompt *info;
  char *group;      /* profile or app, protocol, remote address and port */
  GArray *packets;  /* HeldPacket */
  GPtrArray *flows; /* PcFlow*, owned by the flow table */
  gint64 deadline;  /* monotonic µs */
} Pending;

typedef struct
{
  guint32 id;
  guint32 mark;
} HeldPacket;

static void pending_free (Pending *p);

struct _PcEngine
{
  PcEngineConfig config;
  pid_t self_pid;
  PcNfqueue *queue;
  PcConntrack *conntrack;
  PcAttrib *attrib;
  PcTraffic *traffic;             /* NULL without BPF: conntrack accounting instead */
  PcIntel *intel;                 /* packet thread; may be NULL */
  PcEngineDomainFunc domain_func; /* set before start */
  gpointer domain_data;
  GArray *resolver_listeners; /* PcFlowKey, set before start */
  PcGeo *geo;                 /* packet thread; may be NULL */
  gboolean ct_accounting;
  guint ticks;

  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;

  /* Owned by the packet thread once started. */
  PcPolicySnapshot *snapshot;
  PcEngineUnknownProcessFunc unknown_func;
  gpointer unknown_data;
  GHashTable *flows;      /* PcFlowKey* -> PcFlow* (key points into the flow) */
  GPtrArray *unpublished; /* PcFlow*, owned by flows: decided in this batch, no record yet */
  GPtrArray *reopened;    /* PcFlow*, owned: ended flows whose 4-tuple a new SYN took (see
                           * on_packet), waiting for their conntrack entry's end */
  GPtrArray *flow_pool;   /* zeroed PcFlow*, ready for new flows (see flow_new) */

  PcEngineStats counters; /* packet thread only */
  GMutex stats_lock;
  PcEngineStats stats; /* copy for other threads, under stats_lock */

  /* Connection records for the main thread, under conn_lock. */
  GMutex conn_lock;
  GHashTable *live; /* id -> PcConnection */
  GArray *pending;  /* PcConnectionChange not yet delivered */
  guint64 next_id;  /* packet thread only */
  GMainContext *main_context;
  guint deliver_source;
  GArray *listeners; /* Listener, under conn_lock */

  /* Prompts: pending ones in the packet thread, their records under conn_lock. */
  GHashTable *pending_by_id;    /* guint64* -> Pending (packet thread) */
  GHashTable *pending_by_group; /* group -> Pending (packet thread) */
  guint64 next_prompt_id;       /* packet thread */
  GHashTable *prompts;          /* guint64* -> PcPrompt (conn_lock) */
  PcEnginePromptFunc prompt_func;
  gpointer prompt_data;
  gint prompt_agents; /* atomic */
};

static void
flow_free (PcFlow *flow)
{
  g_clear_pointer (&flow->process, pc_process_unref);
  g_clear_pointer (&flow->conn, pc_connection_unref);
  g_free (flow);
}

/* New flows come from a pool that is refilled after each batch, once its verdicts are out: a
 * fresh allocation on the packet path costs more than everything else done for a TCP flow of a
 * known program (heap growth, first touch of the memory). */
#define PC_FLOW_POOL_READY 32
#define PC_FLOW_POOL_MAX 1024

static PcFlow *
flow_new (PcEngine *self)
{
  if (self->flow_pool->len > 0)
    return g_ptr_array_steal_index_fast (self->flow_pool, self->flow_pool->len - 1);
  return g_new0 (PcFlow, 1);
}

static void
flow_recycle (PcEngine *self, PcFlow *flow)
{
  g_clear_pointer (&flow->process, pc_process_unref);
  g_clear_pointer (&flow->conn, pc_connection_unref);
  if (self->flow_pool->len >= PC_FLOW_POOL_MAX)
    {
      g_free (flow);
      return;
    }
  memset (flow, 0, sizeof *flow);
  g_ptr_array_add (self->flow_pool, flow);
}

static void
flow_pool_fill (PcEngine *self)
{
  while (self->flow_pool->len < PC_FLOW_POOL_READY)
    g_ptr_array_add (self->flow_pool, g_new0 (PcFlow, 1));
}

typedef struct
{
  PcEngineChangesFunc func;
  gpointer data;
} Listener;

static void
change_clear (PcConnectionChange *change)
{
  g_clear_pointer (&change->connection, pc_connection_unref);
}

/* Publishes a connection event; takes ownership of conn. Packet thread. */
static void
publish_connection (PcEngine *self, PcConnectionEvent event, PcConnection *conn)
{
  PcConnectionChange change = { event, conn };

  g_mutex_lock (&self->conn_lock);
  if (event == PC_CONNECTION_ENDED)
    g_hash_table_remove (self->live, &conn->id);
  else
    g_hash_table_replace (self->live, &conn->id, pc_connection_ref (conn));
  if (self->listeners->len > 0)
    g_array_append_val (self->pending, change);
  else
    pc_connection_unref (conn);
  g_mutex_unlock (&self->conn_lock);
}

static PcConnection *
connection_new (PcEngine *self, const PcFlow *flow)
{
  const PcProcess *process = flow->process;
  PcConnection c = {
    .id = ++self->next_id,
    .key = flow->key,
    .pid = flow->pid,
    .uid = flow->uid,
    .comm = (char *)(flow->comm[0] ? flow->comm : (process != NULL ? process->comm : "")),
    .exe = process != NULL ? process->exe : NULL,
    .cmdline = process != NULL ? process->cmdline : NULL,
    .app_kind = (char *)(process != NULL ? pc_app_kind_to_string (process->kind) : ""),
    .app_id = process != NULL ? process->app_id : (char *)"",
    .profile_id = (char *)(flow->profile_id != NULL ? flow->profile_id : ""),
    .domain = (char *)flow->domain,
    .country = (char *)flow->geo.country,
    .allowed = flow->decision.verdict == PC_VERDICT_ALLOW,
    .reason = (char *)flow->decision.reason,
    .started = flow->started,
  };

  /* the template borrows the flow's strings; the record gets copies */
  return pc_connection_new_packed (&c);
}

static gboolean
deliver_changes_cb (gpointer user_data)
{
  PcEngine *self = user_data;
  g_autoptr (GArray) batch = NULL;
  g_autoptr (GArray) listeners = NULL;

  g_mutex_lock (&self->conn_lock);
  if (self->pending->len > 0)
    {
      batch = self->pending;
      self->pending = g_array_new (FALSE, FALSE, sizeof (PcConnectionChange));
      g_array_set_clear_func (self->pending, (GDestroyNotify)change_clear);
      listeners = g_array_copy (self->listeners);
    }
  g_mutex_unlock (&self->conn_lock);

  if (batch != NULL)
    for (guint i = 0; i < listeners->len; i++)
      g_array_index (listeners, Listener, i)
          .func (batch, g_array_index (listeners, Listener, i).data);
  return G_SOURCE_CONTINUE;
}

void
pc_engine_add_changes_func (PcEngine *self, PcEngineChangesFunc func, gpointer user_data)
{
  Listener l = { func, user_data };

  g_mutex_lock (&self->conn_lock);
  g_array_append_val (self->listeners, l);
  g_mutex_unlock (&self->conn_lock);
}

void
pc_engine_remove_changes_func (PcEngine *self, PcEngineChangesFunc func, gpointer user_data)
{
  g_mutex_lock (&self->conn_lock);
  for (guint i = 0; i < self->listeners->len; i++)
    {
      Listener *l = &g_array_index (self->listeners, Listener, i);
      if (l->func == func && l->data == user_data)
        {
          g_array_remove_index (self->listeners, i);
          break;
        }
    }
  g_mutex_unlock (&self->conn_lock);
}

typedef struct
{
  guint64 id;
  gpointer value;
} IdValue;

static gint
id_value_cmp (gconstpointer a, gconstpointer b)
{
  const IdValue *x = a, *y = b;
  return x->id < y->id ? -1 : x->id > y->id;
}

/* A referenced snapshot of the values of one of the id-keyed tables under conn_lock, oldest
 * (smallest id) first. */
static GPtrArray *
list_by_id (PcEngine *self, GHashTable *table, gpointer (*ref) (gpointer), GDestroyNotify unref)
{
  g_autoptr (GArray) items = g_array_new (FALSE, FALSE, sizeof (IdValue));
  GPtrArray *list = g_ptr_array_new_with_free_func (unref);
  GHashTableIter iter;
  gpointer key, value;

  g_mutex_lock (&self->conn_lock);
  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      IdValue item = { *(guint64 *)key, ref (value) };
      g_array_append_val (items, item);
    }
  g_mutex_unlock (&self->conn_lock);
  g_array_sort (items, id_value_cmp);
  for (guint i = 0; i < items->len; i++)
    g_ptr_array_add (list, g_array_index (items, IdValue, i).value);
  return list;
}

GPtrArray *
pc_engine_list_connections (PcEngine *self)
{
  return list_by_id (self, self->live, (gpointer (*) (gpointer))pc_connection_ref,
                     (GDestroyNotify)pc_connection_unref);
}

PcEngine *
pc_engine_new (const PcEngineConfig *config, PcPolicySnapshot *snapshot, GError **error)
{
  g_autoptr (PcEngine) self = g_new0 (PcEngine, 1);

  self->config = *config;
  self->self_pid = getpid ();
  self->snapshot = pc_policy_snapshot_ref (snapshot);
  self->flows = g_hash_table_new_full (pc_flow_key_hash, pc_flow_key_equal, NULL,
                                       (GDestroyNotify)flow_free);
  self->unpublished = g_ptr_array_new ();
  self->reopened = g_ptr_array_new_with_free_func ((GDestroyNotify)flow_free);
  self->flow_pool = g_ptr_array_new_with_free_func (g_free);
  g_mutex_init (&self->stats_lock);
  g_mutex_init (&self->conn_lock);
  self->live = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
                                      (GDestroyNotify)pc_connection_unref);
  self->pending = g_array_new (FALSE, FALSE, sizeof (PcConnectionChange));
  g_array_set_clear_func (self->pending, (GDestroyNotify)change_clear);
  self->listeners = g_array_new (FALSE, FALSE, sizeof (Listener));
  self->pending_by_id
      = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, (GDestroyNotify)pending_free);
  self->pending_by_group = g_hash_table_new (g_str_hash, g_str_equal);
  self->prompts
      = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, (GDestroyNotify)pc_prompt_unref);
  self->main_context = g_main_context_ref_thread_default ();
  {
    GSource *source = g_timeout_source_new (100);
    g_source_set_callback (source, deliver_changes_cb, self, NULL);
    self->deliver_source = g_source_attach (source, self->main_context);
    g_source_unref (source);
  }

  self->queue = pc_nfqueue_open (
      config->queue_num, pc_policy_snapshot_get_fail_mode (snapshot) == PC_FAIL_OPEN, error);
  if (self->queue == NULL)
    return NULL;
  self->conntrack = pc_conntrack_new (error);
  if (self->conntrack == NULL)
    return NULL;
  self->attrib = pc_attrib_new (config->cgroup_path, error);
  if (self->attrib == NULL)
    return NULL;
  if (config->cgroup_path != NULL)
    {
      g_autoptr (GError) traffic_error = NULL;
      self->traffic = pc_traffic_new (config->cgroup_path, &traffic_error);
      if (self->traffic == NULL)
        g_warning ("no BPF traffic counters (%s): using conntrack accounting",
                   traffic_error->message);
    }
  if (self->traffic == NULL)
    {
      g_autoptr (GError) acct_error = NULL;
      self->ct_accounting = pc_conntrack_enable_accounting (&acct_error);
      if (!self->ct_accounting)
        g_warning ("no per-connection byte counts: %s", acct_error->message);
    }
  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
  return g_steal_pointer (&self);
}

PcAttrib *
pc_engine_get_attrib (PcEngine *self)
{
  return self->attrib;
}

/* The flow a packet belongs to, as seen from this host. Only original-direction packets are
 * queued, so locally generated packets (no input device) open outbound flows. */
static gboolean
packet_flow_key (const PcNfqPacket *p, PcFlowKey *key, PcPacketInfo *info_out)
{
  gboolean local_out = p->indev == 0;
  PcPacketInfo info;

  memset (key, 0, sizeof *key);
  if (!pc_packet_parse (p->payload, p->payload_len, &info))
    return FALSE;
  key->family = info.src.family;
  key->proto = info.proto;
  key->direction = local_out ? PC_DIR_OUTBOUND : PC_DIR_INBOUND;
  key->laddr = local_out ? info.src : info.dst;
  key->raddr = local_out ? info.dst : info.src;
  if (info.proto == IPPROTO_ICMP || info.proto == IPPROTO_ICMPV6)
    {
      key->lport = info.sport;
      key->rport = info.dport;
    }
  else
    {
      key->lport = local_out ? info.sport : info.dport;
      key->rport = local_out ? info.dport : info.sport;
    }
  *info_out = info;
  return TRUE;
}

static guint32
verdict_mark (PcEngine *self, const PcDecision *decision)
{
  if (decision->verdict == PC_VERDICT_ALLOW)
    return PC_MARK_ALLOW;
  return decision->reaction == PC_REACTION_REJECT ? PC_MARK_REJECT : PC_MARK_DROP;
}

static void
send_verdict (PcEngine *self, const PcNfqPacket *p, const PcDecision *decision)
{
  /* The verdict goes around once more through our chain (NF_REPEAT) with our bits in the packet
   * mark, where PORTCULLIS-SAVE moves them into the conntrack mark; foreign bits stay. */
  guint32 mark = (p->mark & ~PC_MARK_MASK) | verdict_mark (self, decision);

  pc_nfqueue_verdict (self->queue, p->id, NF_REPEAT, TRUE, mark);
}

static void
log_flow (PcEngine *self, const PcFlow *flow, const char *what)
{
  g_autofree char *text = NULL;

  if (!self->config.verbose)
    return;
  text = pc_flow_key_to_string (&flow->key);
  g_message ("%s %s pid=%d uid=%d comm=%s exe=%s kind=%s app=%s verdict=%s reason=%s", what, text,
             (int)flow->pid, flow->uid == (uid_t)-1 ? -1 : (int)flow->uid,
             flow->comm[0] ? flow->comm : (flow->process ? flow->process->comm : "-"),
             flow->process && flow->process->exe ? flow->process->exe : "-",
             flow->process ? pc_app_kind_to_string (flow->process->kind) : "-",
             flow->process ? flow->process->app_id : "-",
             pc_verdict_to_string (flow->decision.verdict), flow->decision.reason);
}

/* A process no profile matches: the receiver has its profile made (off this thread) and sends
 * a new snapshot; until then the flow is decided by the global settings. */
static void
report_unknown (PcEngine *self, PcProcess *process)
{
  if (self->unknown_func != NULL)
    self->unknown_func (process, self->unknown_data);
}

static void
decide (PcEngine *self, PcFlow *flow)
{
  const PcProfile *profile
      = flow->own ? pc_policy_snapshot_get_profile (self->snapshot, PC_PROFILE_PORTCULLIS)
                  : pc_policy_snapshot_match (self->snapshot, flow->process, flow->no_socket);
  PcDecisionInput input = {
    .key = &flow->key,
    .domain = NULL,
    .own = flow->own,
    .profile = profile,
    .process = flow->process,
    .had_dns_answer = FALSE, /* TRUE below when the resolver answered for this address */
    .in_list = self->intel != NULL ? pc_intel_rule_in_list_cb : NULL,
    .in_list_data = self->intel,
  };

  /* A query redirected to our own resolver: the resolver judges the name; the flow must pass
   * whatever the scopes say, or block-localhost would take DNS away. */
  if (self->resolver_listeners != NULL && flow->key.direction == PC_DIR_OUTBOUND)
    for (guint i = 0; i < self->resolver_listeners->len; i++)
      {
        const PcFlowKey *l = &g_array_index (self->resolver_listeners, PcFlowKey, i);
        /* a listener without protocol serves both UDP and TCP */
        gboolean proto = l->proto != 0
                             ? l->proto == flow->key.proto
                             : flow->key.proto == IPPROTO_UDP || flow->key.proto == IPPROTO_TCP;
        if (proto && l->lport == flow->key.rport && pc_addr_equal (&l->laddr, &flow->key.raddr))
          {
            flow->profile_id = "";
            flow->decision.verdict = PC_VERDICT_ALLOW;
            flow->decision.kind = PC_REASON_OWN;
            flow->decision.prompt = FALSE;
            g_strlcpy (flow->decision.reason, "DNS query to Portcullis' resolver",
                       sizeof flow->decision.reason);
            return;
          }
      }
  if (self->domain_func != NULL && flow->domain[0] == '\0')
    self->domain_func (self->domain_data, flow->pid, &flow->key.raddr, flow->domain,
                       sizeof flow->domain);
  if (flow->domain[0] != '\0')
    {
      input.domain = flow->domain;
      input.had_dns_answer = TRUE;
    }

  if (self->geo != NULL)
    {
      memset (&flow->geo, 0, sizeof flow->geo);
      pc_geo_lookup (self->geo, &flow->key.raddr, &flow->geo);
      input.geo_available = pc_geo_has_country (self->geo);
      input.country = flow->geo.country[0] ? flow->geo.country : NULL;
      input.continent = flow->geo.continent[0] ? flow->geo.continent : NULL;
      input.asn = flow->geo.asn;
    }

  if (profile == NULL && flow->process != NULL)
    report_unknown (self, flow->process);
  flow->profile_id = profile != NULL ? pc_profile_get_id (profile) : ""; /* interned */
  pc_policy_snapshot_decide (self->snapshot, &input, &flow->decision);
}

/* ---- prompts ---------------------------------------------------------------------------- */

PcPrompt *
pc_prompt_ref (PcPrompt *self)
{
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
pc_prompt_unref (PcPrompt *self)
{
  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;
  g_clear_pointer (&self->connection, pc_connection_unref);
  g_free (self);
}

static void
pending_free (Pending *p)
{
  g_clear_pointer (&p->info, pc_prompt_unref);
  g_free (p->group);
  g_array_unref (p->packets);
  g_ptr_array_unref (p->flows);
  g_free (p);
}

typedef struct
{
  PcEngine *self;
  PcPrompt *prompt;
  char *how;
} PromptNote;

static gboolean
prompt_note_cb (gpointer data)
{
  PromptNote *note = data;
  PcEngine *self = note->self;
  PcEnginePromptFunc func;
  gpointer user_data;

  g_mutex_lock (&self->conn_lock);
  func = self->prompt_func;
  user_data = self->prompt_data;
  g_mutex_unlock (&self->conn_lock);
  if (func != NULL)
    func (note->prompt, note->how, user_data);
  return G_SOURCE_REMOVE;
}

static void
prompt_note_free (gpointer data)
{
  PromptNote *note = data;
  pc_prompt_unref (note->prompt);
  g_free (note->how);
  g_free (note);
}

/* Tells the main thread, without waiting for the next batch: a person is waiting. */
static void
notify_prompt (PcEngine *self, PcPrompt *prompt, const char *how)
{
  PromptNote *note = g_new0 (PromptNote, 1);

  note->self = self;
  note->prompt = pc_prompt_ref (prompt);
  note->how = g_strdup (how);
  g_main_context_invoke_full (self->main_context, G_PRIORITY_HIGH, prompt_note_cb, note,
                              prompt_note_free);
}

static char *
prompt_group (const PcFlow *flow)
{
  char r[PC_ADDR_STRLEN];
  /* The program's identity, not its profile id: a new program gets its profile while its first
   * flow waits, and its next flows to the same place must still join that prompt. */
  const char *app = flow->process != NULL ? flow->process->app_id
                    : *flow->profile_id   ? flow->profile_id
                                          : flow->comm;

  return g_strdup_printf ("%s|%u|%u|%s|%u", app, flow->key.direction, flow->key.proto,
                          pc_addr_to_string (&flow->key.raddr, r),
                          flow->key.direction == PC_DIR_OUTBOUND ? flow->key.rport
                                                                 : flow->key.lport);
}

/* The flow waits: its packet is held in a new or the matching pending prompt. */
static void
hold_for_prompt (PcEngine *self, PcFlow *flow, const PcNfqPacket *p)
{
  g_autofree char *group = prompt_group (flow);
  Pending *pending = g_hash_table_lookup (self->pending_by_group, group);
  HeldPacket held = { p->id, p->mark };

  if (pending == NULL)
    {
      guint timeout = flow->decision.prompt_timeout > 0 ? flow->decision.prompt_timeout : 60;

      pending = g_new0 (Pending, 1);
      pending->group = g_steal_pointer (&group);
      pending->packets = g_array_new (FALSE, FALSE, sizeof (HeldPacket));
      pending->flows = g_ptr_array_new ();
      pending->deadline = g_get_monotonic_time () + (gint64)timeout * G_USEC_PER_SEC;
      pending->info = g_new0 (PcPrompt, 1);
      pending->info->ref_count = 1;
      pending->info->id = ++self->next_prompt_id;
      pending->info->connection = pc_connection_ref (flow->conn);
      pending->info->created = g_get_real_time ();
      pending->info->expires = pending->info->created + (gint64)timeout * G_USEC_PER_SEC;
      pending->id = pending->info->id;
      g_hash_table_insert (self->pending_by_id, &pending->id, pending);
      g_hash_table_insert (self->pending_by_group, pending->group, pending);
      g_mutex_lock (&self->conn_lock);
      g_hash_table_insert (self->prompts, &pending->info->id, pc_prompt_ref (pending->info));
      g_mutex_unlock (&self->conn_lock);
      notify_prompt (self, pending->info, NULL);
    }
  if (flow->prompt == NULL)
    {
      flow->prompt = pending;
      g_ptr_array_add (pending->flows, flow);
    }
  g_array_append_val (pending->packets, held);
}

static void publish_decided (PcEngine *self, PcFlow *flow);

/* Ends a prompt: every waiting flow gets the verdict, every held packet goes on its way. */
static void
resolve_prompt (
    PcEngine *self, Pending *pending, gboolean allow, const char *how, const char *reason)
{
  guint32 bits = 0;

  for (guint i = 0; i < pending->flows->len; i++)
    {
      PcFlow *flow = pending->flows->pdata[i];
      flow->prompt = NULL;
      flow->decision.prompt = FALSE;
      flow->decision.verdict = allow ? PC_VERDICT_ALLOW : PC_VERDICT_BLOCK;
      if (reason != NULL)
        g_strlcpy (flow->decision.reason, reason, sizeof flow->decision.reason);
      bits = verdict_mark (self, &flow->decision);
      publish_decided (self, flow);
    }
  for (guint i = 0; i < pending->packets->len; i++)
    {
      HeldPacket *h = &g_array_index (pending->packets, HeldPacket, i);
      pc_nfqueue_verdict (self->queue, h->id, NF_REPEAT, TRUE, (h->mark & ~PC_MARK_MASK) | bits);
    }
  pc_nfqueue_flush (self->queue, NULL);

  g_mutex_lock (&self->conn_lock);
  g_hash_table_remove (self->prompts, &pending->info->id);
  g_mutex_unlock (&self->conn_lock);
  notify_prompt (self, pending->info, how);
  g_hash_table_remove (self->pending_by_group, pending->group);
  g_hash_table_remove (self->pending_by_id, &pending->id); /* frees pending */
}

static void
expire_prompts (PcEngine *self)
{
  gint64 now = g_get_monotonic_time ();
  g_autoptr (GPtrArray) expired = g_ptr_array_new ();
  GHashTableIter iter;
  Pending *pending;

  g_hash_table_iter_init (&iter, self->pending_by_id);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&pending))
    if (pending->deadline <= now)
      g_ptr_array_add (expired, pending);
  for (guint i = 0; i < expired->len; i++)
    {
      PcFlow *first;
      char reason[PC_REASON_LEN];

      pending = expired->pdata[i];
      first = pending->flows->pdata[0];
      /* decide() put prompt-default in the verdict */
      snprintf (reason, sizeof reason, "prompt not answered in time: prompt-default %s",
                first->decision.verdict == PC_VERDICT_ALLOW ? "allow" : "block");
      resolve_prompt (self, pending, first->decision.verdict == PC_VERDICT_ALLOW, "expired",
                      reason);
    }
}

typedef struct
{
  PcEngine *self;
  guint64 id;
  gboolean allow;
} Answer;

static gboolean
answer_cb (gpointer data)
{
  Answer *a = data;
  Pending *pending = g_hash_table_lookup (a->self->pending_by_id, &a->id);

  if (pending != NULL)
    resolve_prompt (a->self, pending, a->allow, "answered",
                    a->allow ? "prompt answered: allow" : "prompt answered: block");
  return G_SOURCE_REMOVE;
}

gboolean
pc_engine_answer_prompt (PcEngine *self, guint64 id, gboolean allow, GError **error)
{
  Answer *a;
  gboolean known;

  g_mutex_lock (&self->conn_lock);
  known = g_hash_table_contains (self->prompts, &id);
  g_mutex_unlock (&self->conn_lock);
  if (!known)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_NOT_FOUND,
                   "no pending prompt %" G_GUINT64_FORMAT " (answered or expired already?)", id);
      return FALSE;
    }
  a = g_new0 (Answer, 1);
  a->self = self;
  a->id = id;
  a->allow = allow;
  g_main_context_invoke_full (self->context, G_PRIORITY_HIGH, answer_cb, a, g_free);
  return TRUE;
}

typedef struct
{
  PcEngine *self;
  PcIntel *intel;
  PcGeo *geo;
} IntelData;

static gboolean
set_intel_cb (gpointer data)
{
  IntelData *d = data;

  g_clear_object (&d->self->intel);
  g_clear_pointer (&d->self->geo, pc_geo_unref);
  d->self->intel = g_steal_pointer (&d->intel);
  d->self->geo = g_steal_pointer (&d->geo);
  return G_SOURCE_REMOVE;
}

static void
intel_data_free (gpointer data)
{
  IntelData *d = data;

  g_clear_object (&d->intel);
  g_clear_pointer (&d->geo, pc_geo_unref);
  g_free (d);
}

typedef struct
{
  PcEngine *self;
  PcEngineDomainFunc func;
  gpointer data;
  GArray *listeners;
} ResolverData;

static gboolean
set_resolver_cb (gpointer user_data)
{
  ResolverData *d = user_data;

  d->self->domain_func = d->func;
  d->self->domain_data = d->data;
  g_clear_pointer (&d->self->resolver_listeners, g_array_unref);
  d->self->resolver_listeners = g_steal_pointer (&d->listeners);
  return G_SOURCE_REMOVE;
}

static void
resolver_data_free (gpointer user_data)
{
  ResolverData *d = user_data;

  g_clear_pointer (&d->listeners, g_array_unref);
  g_free (d);
}

void
pc_engine_set_resolver (PcEngine *self,
                        PcEngineDomainFunc func,
                        gpointer user_data,
                        GArray *listeners)
{
  ResolverData *d = g_new0 (ResolverData, 1);

  d->self = self;
  d->func = func;
  d->data = user_data;
  d->listeners = listeners != NULL ? g_array_ref (listeners) : NULL;
  g_main_context_invoke_full (self->context, G_PRIORITY_HIGH, set_resolver_cb, d,
                              resolver_data_free);
}

void
pc_engine_set_intel (PcEngine *self, PcIntel *intel, PcGeo *geo)
{
  IntelData *d = g_new0 (IntelData, 1);

  d->self = self;
  d->intel = intel != NULL ? g_object_ref (intel) : NULL;
  d->geo = geo != NULL ? pc_geo_ref (geo) : NULL;
  g_main_context_invoke_full (self->context, G_PRIORITY_HIGH, set_intel_cb, d, intel_data_free);
}

void
pc_engine_set_prompt_func (PcEngine *self, PcEnginePromptFunc func, gpointer user_data)
{
  g_mutex_lock (&self->conn_lock);
  self->prompt_func = func;
  self->prompt_data = user_data;
  g_mutex_unlock (&self->conn_lock);
}

void
pc_engine_set_prompt_agents (PcEngine *self, guint n_agents)
{
  g_atomic_int_set (&self->prompt_agents, (gint)n_agents);
}

GPtrArray *
pc_engine_list_prompts (PcEngine *self)
{
  return list_by_id (self, self->prompts, (gpointer (*) (gpointer))pc_prompt_ref,
                     (GDestroyNotify)pc_prompt_unref);
}

static void finish_flow (PcEngine *self, PcFlow *flow, guint64 orig_bytes, guint64 reply_bytes);
static void flow_ended_cb (const PcFlowKey *orig_key,
                           guint32 mark,
                           guint64 orig_bytes,
                           guint64 reply_bytes,
                           gpointer user_data);

/* A packet of a known flow queued longer than this after its record was made has a conntrack
 * entry of its own (the verdict marks the entry; packets queued before that are read within
 * milliseconds). */
#define PC_REQUEUED_AFTER_US (2 * G_USEC_PER_SEC)

/* A decided flow: counted, logged and published. */
static void
publish_decided (PcEngine *self, PcFlow *flow)
{
  flow->published = g_get_monotonic_time ();
  self->counters.flows++;
  if (flow->decision.verdict == PC_VERDICT_ALLOW)
    self->counters.allowed++;
  else
    self->counters.blocked++;
  log_flow (self, flow, "flow");
  if (flow->conn != NULL)
    {
      PcConnection *c = pc_connection_copy (flow->conn);
      c->allowed = flow->decision.verdict == PC_VERDICT_ALLOW;
      g_free (c->reason);
      c->reason = g_strdup (flow->decision.reason);
      /* the app may have got its profile while the flow waited */
      g_free (c->profile_id);
      c->profile_id = g_strdup (flow->profile_id);
      g_clear_pointer (&flow->conn, pc_connection_unref);
      flow->conn = c;
    }
  else
    flow->conn = connection_new (self, flow);
  publish_connection (self, PC_CONNECTION_ADDED, pc_connection_ref (flow->conn));
}

static void
on_packet (const PcNfqPacket *p, gpointer user_data)
{
  PcEngine *self = user_data;
  PcSocketOwner owner = { 0 };
  PcFlowKey key;
  PcPacketInfo info;
  PcFlow *flow;
  gboolean syn;

  self->counters.packets++;
  if (!packet_flow_key (p, &key, &info))
    {
      /* Not an IP packet we understand: nothing to attribute or judge. */
      pc_nfqueue_verdict (self->queue, p->id, NF_ACCEPT, FALSE, 0);
      return;
    }

  syn = info.proto == IPPROTO_TCP && (info.tcp_flags & 0x12) == 0x02; /* SYN without ACK */
  flow = g_hash_table_lookup (self->flows, &key);
  if (flow != NULL && flow->prompt == NULL
      && ((syn && info.tcp_seq != flow->syn_seq)
          || (flow->published != 0
              && g_get_monotonic_time () - flow->published > PC_REQUEUED_AFTER_US)))
    {
      /* A new conntrack entry for the 4-tuple of a flow we know: conntrack replaced the old
       * entry (a new connection on the tuple of one closing or in TIME_WAIT) or lost it (deleted
       * or flushed, and the connection's next packet made a new one), and sent its end event,
       * not read yet. The old flow is over and this is a flow of its own, maybe of another
       * program. The old one is finished after the verdicts, with that event's counts
       * (publish_batch); until then the event must find it, not the new flow. */
      g_hash_table_steal (self->flows, &key);
      g_ptr_array_add (self->reopened, flow);
      flow = NULL;
    }
  if (flow != NULL)
    {
      if (flow->prompt != NULL)
        hold_for_prompt (self, flow, p); /* a retransmission joins its prompt */
      else
        /* A packet that was queued before its flow's verdict reached conntrack (moments
         * ago: see PC_REQUEUED_AFTER_US). */
        send_verdict (self, p, &flow->decision);
      return;
    }

  flow = flow_new (self);
  flow->key = key;
  flow->syn_seq = syn ? info.tcp_seq : 0;
  flow->started = g_get_real_time ();
  flow->uid = p->uid;
  flow->no_socket = !pc_attrib_find_owner (self->attrib, &key, &owner);
  if (!flow->no_socket && owner.pid > 0)
    {
      flow->pid = owner.pid;
      if (owner.uid != (uid_t)-1)
        flow->uid = owner.uid;
      flow->own = owner.pid == self->self_pid;
      flow->cookie = owner.cookie;
      memcpy (flow->comm, owner.comm, sizeof flow->comm);
      flow->comm[sizeof flow->comm - 1] = '\0';
      flow->process = pc_attrib_get_owner_process (self->attrib, &owner);
    }
  decide (self, flow);
  g_hash_table_insert (self->flows, &flow->key, flow);
  if (flow->decision.prompt && !flow->own && g_atomic_int_get (&self->prompt_agents) > 0)
    {
      /* Nothing else waits: the packet stays in the queue, other flows go on. */
      g_strlcpy (flow->decision.reason, "default action: prompt (waiting for an answer)",
                 sizeof flow->decision.reason);
      flow->conn = connection_new (self, flow);
      hold_for_prompt (self, flow, p);
      return;
    }
  send_verdict (self, p, &flow->decision);
  /* The record is made once the verdict is out (publish_batch). */
  flow->unpublished = TRUE;
  g_ptr_array_add (self->unpublished, flow);
}

/* After each batch of packets, once their verdicts are sent: records for the flows decided. */
static void
publish_batch (gpointer user_data)
{
  PcEngine *self = user_data;

  /* The verdicts just sent woke the programs at both ends of these flows, often on this CPU:
   * the kernel re-injects an accepted packet in our verdict call and delivers it here. Their
   * connections wait for them to run; the records wait for nobody, so they go first. Without
   * this the scheduler lets us finish the records before the woken server or client runs
   * (tests/bench/bench-packet-path.py, UDP flows/s: 0.78 -> 0.85-0.90 of the accept-all
   * program). When nothing else is runnable the call returns at once. */
  if (self->unpublished->len > 0)
    sched_yield ();
  for (guint i = 0; i < self->unpublished->len; i++)
    {
      PcFlow *flow = self->unpublished->pdata[i];
      flow->unpublished = FALSE;
      publish_decided (self, flow);
    }
  g_ptr_array_set_size (self->unpublished, 0);
  if (self->reopened->len > 0)
    {
      /* the replaced entries' end events came before the SYNs that replaced them: read now,
       * they finish the old flows with their counts; one lost to a full socket buffer leaves
       * its flow to be finished here without */
      pc_conntrack_dispatch_events (self->conntrack, flow_ended_cb, self);
      while (self->reopened->len > 0)
        finish_flow (self, g_ptr_array_steal_index_fast (self->reopened, self->reopened->len - 1),
                     0, 0);
    }
  flow_pool_fill (self);
}

static void
publish_stats (PcEngine *self)
{
  self->counters.live_flows = g_hash_table_size (self->flows);
  g_mutex_lock (&self->stats_lock);
  self->stats = self->counters;
  g_mutex_unlock (&self->stats_lock);
}

static gboolean
queue_ready_cb (int fd, GIOCondition condition, gpointer user_data)
{
  PcEngine *self = user_data;
  g_autoptr (GError) error = NULL;

  if (!pc_nfqueue_dispatch (self->queue, on_packet, publish_batch, self, &error))
    g_warning ("%s", error->message);
  publish_stats (self);
  return G_SOURCE_CONTINUE;
}

/* Publishes the end of a flow that is out of the flow table, and recycles it. */
static void
finish_flow (PcEngine *self, PcFlow *flow, guint64 orig_bytes, guint64 reply_bytes)
{
  PcConnection *ended;

  if (flow->unpublished)
    {
      /* ended in the batch that opened it (a recycled 4-tuple): it still gets its record */
      g_ptr_array_remove_fast (self->unpublished, flow);
      flow->unpublished = FALSE;
      publish_decided (self, flow);
    }
  ended = pc_connection_copy (flow->conn);
  ended->ended = g_get_real_time ();
  if (self->traffic != NULL && flow->cookie != 0)
    {
      PcTrafficCounters c;
      if (pc_traffic_take (self->traffic, flow->cookie, &flow->key, &c))
        {
          ended->bytes_in = c.bytes_in;
          ended->bytes_out = c.bytes_out;
        }
    }
  else if (self->ct_accounting)
    {
      /* the conntrack entry's final counters, original direction = who opened the flow */
      gboolean out = flow->key.direction == PC_DIR_OUTBOUND;
      ended->bytes_in = MAX (ended->bytes_in, out ? reply_bytes : orig_bytes);
      ended->bytes_out = MAX (ended->bytes_out, out ? orig_bytes : reply_bytes);
    }
  if (self->config.verbose)
    {
      g_autofree char *text = pc_flow_key_to_string (&flow->key);
      g_message ("ended %s pid=%d bytes_in=%" G_GUINT64_FORMAT " bytes_out=%" G_GUINT64_FORMAT,
                 text, (int)flow->pid, ended->bytes_in, ended->bytes_out);
    }
  publish_connection (self, PC_CONNECTION_ENDED, ended);
  flow_recycle (self, flow);
}

/* The ended flow on key whose 4-tuple a new SYN took over (see on_packet), or -1. There are
 * rarely any, and never many: they are finished after each batch. */
static gint
reopened_index (PcEngine *self, const PcFlowKey *key)
{
  for (guint i = 0; i < self->reopened->len; i++)
    if (pc_flow_key_equal (&((PcFlow *)self->reopened->pdata[i])->key, key))
      return (gint)i;
  return -1;
}

/* A conntrack entry's end: of the flow whose 4-tuple was taken over, if there is one (that
 * entry is the old one), else of the flow in the table. FALSE if there is neither. */
static gboolean
end_flow_of_entry (PcEngine *self, const PcFlowKey *key, guint64 orig_bytes, guint64 reply_bytes)
{
  gint i = reopened_index (self, key);
  gpointer flow;

  if (i >= 0)
    flow = g_ptr_array_steal_index (self->reopened, (guint)i);
  else if (!g_hash_table_steal_extended (self->flows, key, NULL, &flow))
    return FALSE;
  finish_flow (self, flow, orig_bytes, reply_bytes);
  return TRUE;
}

/* The flow key of an inbound flow from its conntrack entry's original-direction tuple (whose
 * source is the remote end). */
static void
inbound_key_of_entry (const PcFlowKey *orig_key, PcFlowKey *key)
{
  *key = *orig_key;
  key->direction = PC_DIR_INBOUND;
  key->laddr = orig_key->raddr;
  key->raddr = orig_key->laddr;
  if (orig_key->proto != IPPROTO_ICMP && orig_key->proto != IPPROTO_ICMPV6)
    {
      key->lport = orig_key->rport;
      key->rport = orig_key->lport;
    }
}

static void
flow_ended_cb (const PcFlowKey *orig_key,
               guint32 mark,
               guint64 orig_bytes,
               guint64 reply_bytes,
               gpointer user_data)
{
  PcEngine *self = user_data;
  PcFlowKey key = *orig_key;

  /* The original direction's source is local for outbound flows, remote for inbound ones. */
  key.direction = PC_DIR_OUTBOUND;
  if (end_flow_of_entry (self, &key, orig_bytes, reply_bytes))
    return;
  inbound_key_of_entry (orig_key, &key);
  end_flow_of_entry (self, &key, orig_bytes, reply_bytes);
}

/* Once a second: the traffic counters of every live flow, published where they changed. */
static void
update_bytes (PcEngine *self, PcFlow *flow, guint64 bytes_in, guint64 bytes_out)
{
  PcConnection *updated;
  gint64 now = g_get_monotonic_time ();
  /* the first sample comes about a second after the flow began */
  gint64 elapsed = flow->sampled > 0 ? now - flow->sampled : G_USEC_PER_SEC;
  guint64 rate_in = 0, rate_out = 0;

  flow->sampled = now;
  if (elapsed > 0)
    {
      rate_in = (bytes_in - MIN (bytes_in, flow->conn->bytes_in)) * G_USEC_PER_SEC / elapsed;
      rate_out = (bytes_out - MIN (bytes_out, flow->conn->bytes_out)) * G_USEC_PER_SEC / elapsed;
    }
  /* Unchanged and already idle: nothing to tell. */
  if (bytes_in == flow->conn->bytes_in && bytes_out == flow->conn->bytes_out
      && flow->conn->rate_in == 0 && flow->conn->rate_out == 0)
    return;
  updated = pc_connection_copy (flow->conn);
  updated->bytes_in = bytes_in;
  updated->bytes_out = bytes_out;
  updated->rate_in = rate_in;
  updated->rate_out = rate_out;
  g_clear_pointer (&flow->conn, pc_connection_unref);
  flow->conn = pc_connection_ref (updated);
  publish_connection (self, PC_CONNECTION_CHANGED, updated);
}

static void
ct_counters_cb (const PcFlowKey *orig_key,
                guint64 orig_bytes,
                guint64 reply_bytes,
                gpointer user_data)
{
  PcEngine *self = user_data;
  PcFlowKey key = *orig_key;
  PcFlow *flow;

  /* as in flow_ended_cb: the original direction's source is local for outbound flows */
  key.direction = PC_DIR_OUTBOUND;
  flow = g_hash_table_lookup (self->flows, &key);
  if (flow != NULL && flow->prompt == NULL)
    {
      update_bytes (self, flow, reply_bytes, orig_bytes);
      return;
    }
  inbound_key_of_entry (orig_key, &key);
  flow = g_hash_table_lookup (self->flows, &key);
  if (flow != NULL && flow->prompt == NULL)
    update_bytes (self, flow, orig_bytes, reply_bytes);
}

static void
sample_traffic (PcEngine *self)
{
  GHashTableIter iter;
  PcFlow *flow;

  if (self->traffic == NULL)
    {
      g_autoptr (GError) error = NULL;
      if (!pc_conntrack_dump_counters (self->conntrack, ct_counters_cb, self, &error))
        g_debug ("%s", error->message);
      return;
    }
  pc_traffic_sample (self->traffic);
  g_hash_table_iter_init (&iter, self->flows);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&flow))
    {
      PcTrafficCounters c;

      if (!pc_traffic_get (self->traffic, flow->cookie, &flow->key, &c))
        {
          /* An inbound TCP flow was attributed to the listening socket; its bytes are counted
           * on the accepted socket, found once by its tuple. */
          PcSocketOwner owner = { 0 };
          if (flow->cookie_checked || flow->key.direction != PC_DIR_INBOUND
              || flow->key.proto != IPPROTO_TCP)
            continue;
          flow->cookie_checked = TRUE;
          if (!pc_attrib_find_owner (self->attrib, &flow->key, &owner) || owner.cookie == 0
              || owner.cookie == flow->cookie)
            continue;
          flow->cookie = owner.cookie;
          if (!pc_traffic_get (self->traffic, flow->cookie, &flow->key, &c))
            continue;
        }
      update_bytes (self, flow, c.bytes_in, c.bytes_out);
    }
}

static gboolean
housekeeping_cb (gpointer user_data)
{
  PcEngine *self = user_data;

  if ((self->traffic != NULL || self->ct_accounting) && ++self->ticks % 4 == 0)
    sample_traffic (self);

  expire_prompts (self);
  pc_conntrack_dispatch_events (self->conntrack, flow_ended_cb, self);
  /* Off the per-packet path: forget processes that exited long ago. */
  pc_attrib_maintain (self->attrib);
  publish_stats (self);
  return G_SOURCE_CONTINUE;
}

/* Applies a changed verdict to a live flow: newly allowed flows pass from their next packet;
 * newly blocked ones are cut at once (mark, socket, conntrack entry). */
static void
apply_change (PcEngine *self, PcFlow *flow)
{
  g_autoptr (GError) error = NULL;
  guint32 mark = verdict_mark (self, &flow->decision);

  if (!pc_conntrack_set_mark (self->conntrack, &flow->key, mark, &error))
    g_debug ("%s", error->message);
  g_clear_error (&error);
  if (flow->decision.verdict == PC_VERDICT_BLOCK)
    {
      if (flow->key.direction == PC_DIR_OUTBOUND || flow->key.proto == IPPROTO_TCP)
        if (!pc_socket_destroy (&flow->key, &error))
          g_debug ("%s", error->message);
      g_clear_error (&error);
      if (!pc_conntrack_delete (self->conntrack, &flow->key, &error))
        g_debug ("%s", error->message);
      self->counters.cut++;
    }
}

static gboolean
apply_settings_cb (gpointer user_data)
{
  PcEngine *self = ((gpointer *)user_data)[0];
  PcPolicySnapshot *snapshot = ((gpointer *)user_data)[1];
  GHashTableIter iter;
  PcFlow *flow;
  g_autoptr (GPtrArray) changed = g_ptr_array_new ();

  g_clear_pointer (&self->snapshot, pc_policy_snapshot_unref);
  self->snapshot = pc_policy_snapshot_ref (snapshot);

  g_hash_table_iter_init (&iter, self->flows);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&flow))
    {
      PcVerdict before = flow->decision.verdict;
      decide (self, flow);
      if (flow->prompt == NULL && flow->decision.verdict != before)
        g_ptr_array_add (changed, flow);
    }
  /* A rule made from an answer (or any other change) may decide flows that wait for one. */
  {
    g_autoptr (GPtrArray) decided = g_ptr_array_new ();
    GHashTableIter piter;
    Pending *pending;

    g_hash_table_iter_init (&piter, self->pending_by_id);
    while (g_hash_table_iter_next (&piter, NULL, (gpointer *)&pending))
      {
        PcFlow *first = pending->flows->pdata[0];
        if (!first->decision.prompt)
          g_ptr_array_add (decided, pending);
        else if (g_strcmp0 (first->profile_id, pending->info->connection->profile_id) != 0)
          {
            /* The app got its profile meanwhile: answers become rules there. Records are
             * immutable once shared, so the prompt is replaced. */
            PcPrompt *info = g_new0 (PcPrompt, 1);
            *info = *pending->info;
            info->ref_count = 1;
            info->connection = pc_connection_copy (pending->info->connection);
            g_free (info->connection->profile_id);
            info->connection->profile_id = g_strdup (first->profile_id);
            g_mutex_lock (&self->conn_lock);
            g_hash_table_replace (self->prompts, &info->id, pc_prompt_ref (info));
            g_mutex_unlock (&self->conn_lock);
            pc_prompt_unref (pending->info);
            pending->info = info;
          }
      }
    for (guint i = 0; i < decided->len; i++)
      {
        PcFlow *first;
        pending = decided->pdata[i];
        first = pending->flows->pdata[0];
        resolve_prompt (self, pending, first->decision.verdict == PC_VERDICT_ALLOW, "decided",
                        NULL);
      }
  }
  /* Changes are applied after the walk: cutting a flow may deliver its DESTROY event, which
   * removes it from the table. */
  for (guint i = 0; i < changed->len; i++)
    {
      flow = changed->pdata[i];
      PcConnection *changed_conn = pc_connection_copy (flow->conn);
      changed_conn->allowed = flow->decision.verdict == PC_VERDICT_ALLOW;
      g_free (changed_conn->reason);
      changed_conn->reason = g_strdup (flow->decision.reason);
      g_free (changed_conn->profile_id);
      changed_conn->profile_id = g_strdup (flow->profile_id);
      g_clear_pointer (&flow->conn, pc_connection_unref);
      flow->conn = pc_connection_ref (changed_conn);
      publish_connection (self, PC_CONNECTION_CHANGED, changed_conn);
      log_flow (self, flow, flow->decision.verdict == PC_VERDICT_BLOCK ? "cut" : "reallow");
      apply_change (self, flow);
    }
  g_message ("settings applied: %u live flows re-decided, %u changed",
             g_hash_table_size (self->flows), changed->len);
  publish_stats (self);
  return G_SOURCE_REMOVE;
}

static void
free_settings_data (gpointer data)
{
  pc_policy_snapshot_unref (((gpointer *)data)[1]);
  g_free (data);
}

void
pc_engine_set_snapshot (PcEngine *self, PcPolicySnapshot *snapshot)
{
  gpointer *data = g_new (gpointer, 2);

  data[0] = self;
  data[1] = pc_policy_snapshot_ref (snapshot);
  g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT, apply_settings_cb, data,
                              free_settings_data);
}

void
pc_engine_set_settings (PcEngine *self, PcSettings *settings)
{
  g_autoptr (PcPolicySnapshot) snapshot
      = pc_policy_snapshot_new (settings, g_ptr_array_new (), self->self_pid);

  pc_engine_set_snapshot (self, snapshot);
}

void
pc_engine_set_unknown_process_func (PcEngine *self,
                                    PcEngineUnknownProcessFunc func,
                                    gpointer user_data)
{
  self->unknown_func = func;
  self->unknown_data = user_data;
}

static gpointer
engine_thread (gpointer user_data)
{
  PcEngine *self = user_data;
  GSource *source;

  g_main_context_push_thread_default (self->context);
  source = g_unix_fd_source_new (pc_nfqueue_get_fd (self->queue), G_IO_IN);
  g_source_set_callback (source, G_SOURCE_FUNC (queue_ready_cb), self, NULL);
  g_source_set_priority (source, G_PRIORITY_HIGH);
  g_source_attach (source, self->context);
  g_source_unref (source);

  /* Ended flows are collected four times a second rather than on every event: waking the
   * packet thread for each ended connection would double its wake-ups under load. The socket
   * buffer holds far more than a quarter second of events. */
  source = g_timeout_source_new (250);
  g_source_set_callback (source, housekeeping_cb, self, NULL);
  g_source_attach (source, self->context);
  g_source_unref (source);

  g_main_loop_run (self->loop);
  g_main_context_pop_thread_default (self->context);
  return NULL;
}

gboolean
pc_engine_start (PcEngine *self, GError **error)
{
  self->thread = g_thread_try_new ("pc-packets", engine_thread, self, error);
  return self->thread != NULL;
}

void
pc_engine_get_stats (PcEngine *self, PcEngineStats *stats)
{
  g_mutex_lock (&self->stats_lock);
  *stats = self->stats;
  g_mutex_unlock (&self->stats_lock);
}

void
pc_engine_free (PcEngine *self)
{
  if (self == NULL)
    return;
  if (self->thread != NULL)
    {
      g_main_loop_quit (self->loop);
      g_main_context_wakeup (self->context);
      g_thread_join (self->thread);
    }
  g_clear_pointer (&self->loop, g_main_loop_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->queue, pc_nfqueue_free);
  g_clear_pointer (&self->conntrack, pc_conntrack_free);
  g_clear_pointer (&self->attrib, pc_attrib_free);
  g_clear_pointer (&self->traffic, pc_traffic_free);
  g_clear_object (&self->intel);
  g_clear_pointer (&self->geo, pc_geo_unref);
  g_clear_pointer (&self->resolver_listeners, g_array_unref);
  g_clear_pointer (&self->unpublished, g_ptr_array_unref);
  g_clear_pointer (&self->reopened, g_ptr_array_unref);
  g_clear_pointer (&self->flow_pool, g_ptr_array_unref);
  g_clear_pointer (&self->flows, g_hash_table_unref);
  g_clear_pointer (&self->snapshot, pc_policy_snapshot_unref);
  if (self->deliver_source != 0)
    {
      GSource *source = g_main_context_find_source_by_id (self->main_context, self->deliver_source);
      if (source != NULL)
        g_source_destroy (source);
    }
  g_clear_pointer (&self->main_context, g_main_context_unref);
  g_clear_pointer (&self->live, g_hash_table_unref);
  g_clear_pointer (&self->pending, g_array_unref);
  g_clear_pointer (&self->listeners, g_array_unref);
  g_clear_pointer (&self->pending_by_group, g_hash_table_unref);
  g_clear_pointer (&self->pending_by_id, g_hash_table_unref);
  g_clear_pointer (&self->prompts, g_hash_table_unref);
  g_mutex_clear (&self->conn_lock);
  g_mutex_clear (&self->stats_lock);
  g_free (self);
}
