/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-intercept"

#include "pc-conntrack.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/inet_diag.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/sock_diag.h>
#include <string.h>
#include <unistd.h>

#include "pc-marks.h"

struct _PcConntrack
{
  struct mnl_socket *nl; /* requests: update, delete */
  guint32 portid;
  guint32 seq;
  struct nfct_handle *events;
  struct nf_conntrack *scratch;
};

PcConntrack *
pc_conntrack_new (GError **error)
{
  g_autoptr (PcConntrack) self = g_new0 (PcConntrack, 1);
  int fd;
  int size = 4 * 1024 * 1024;

  self->nl = mnl_socket_open2 (NETLINK_NETFILTER, SOCK_CLOEXEC);
  if (self->nl == NULL || mnl_socket_bind (self->nl, 0, MNL_SOCKET_AUTOPID) < 0)
    {
      int err = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
                   "cannot open conntrack netlink socket: %s", g_strerror (err));
      return NULL;
    }
  self->portid = mnl_socket_get_portid (self->nl);
  self->seq = (guint32)g_get_monotonic_time ();

  self->events = nfct_open (CONNTRACK, NF_NETLINK_CONNTRACK_DESTROY);
  if (self->events == NULL)
    {
      int err = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
                   "cannot subscribe to conntrack events: %s", g_strerror (err));
      return NULL;
    }
  fd = nfct_fd (self->events);
  fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) | O_NONBLOCK);
  setsockopt (fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
  self->scratch = nfct_new ();
  return g_steal_pointer (&self);
}

void
pc_conntrack_free (PcConntrack *self)
{
  if (self == NULL)
    return;
  if (self->nl != NULL)
    mnl_socket_close (self->nl);
  if (self->events != NULL)
    nfct_close (self->events);
  if (self->scratch != NULL)
    nfct_destroy (self->scratch);
  g_free (self);
}

int
pc_conntrack_get_event_fd (PcConntrack *self)
{
  return nfct_fd (self->events);
}

/* --- events --- */

/* Payload estimate: the header bytes of each packet off the IP byte count (TCP with the
 * timestamp option, which Linux peers use). */
static guint64
payload_estimate (guint64 bytes, guint64 packets, guint8 family, guint8 proto)
{
  guint64 per = (family == AF_INET6 ? 40 : 20)
                + (proto == IPPROTO_TCP   ? 32
                   : proto == IPPROTO_UDP ? 8
                                          : 0);
  return bytes > packets * per ? bytes - packets * per : 0;
}

typedef struct
{
  PcConntrackEndFunc func;
  gpointer user_data;
} EventData;

static gboolean
ct_to_orig_key (const struct nf_conntrack *ct, PcFlowKey *key)
{
  guint8 l3 = nfct_get_attr_u8 (ct, ATTR_ORIG_L3PROTO);

  memset (key, 0, sizeof *key);
  key->proto = nfct_get_attr_u8 (ct, ATTR_ORIG_L4PROTO);
  if (l3 == AF_INET)
    {
      key->family = key->laddr.family = key->raddr.family = AF_INET;
      guint32 s = nfct_get_attr_u32 (ct, ATTR_ORIG_IPV4_SRC);
      guint32 d = nfct_get_attr_u32 (ct, ATTR_ORIG_IPV4_DST);
      memcpy (key->laddr.b, &s, 4);
      memcpy (key->raddr.b, &d, 4);
    }
  else if (l3 == AF_INET6)
    {
      key->family = key->laddr.family = key->raddr.family = AF_INET6;
      memcpy (key->laddr.b, nfct_get_attr (ct, ATTR_ORIG_IPV6_SRC), 16);
      memcpy (key->raddr.b, nfct_get_attr (ct, ATTR_ORIG_IPV6_DST), 16);
    }
  else
    return FALSE;

  if (key->proto == IPPROTO_ICMP || key->proto == IPPROTO_ICMPV6)
    {
      key->lport = ntohs (nfct_get_attr_u16 (ct, ATTR_ICMP_ID));
      key->rport = nfct_get_attr_u8 (ct, ATTR_ICMP_TYPE);
    }
  else if (nfct_attr_is_set (ct, ATTR_ORIG_PORT_SRC))
    {
      key->lport = ntohs (nfct_get_attr_u16 (ct, ATTR_ORIG_PORT_SRC));
      key->rport = ntohs (nfct_get_attr_u16 (ct, ATTR_ORIG_PORT_DST));
    }
  return TRUE;
}

static int
event_cb (enum nf_conntrack_msg_type type, struct nf_conntrack *ct, void *data)
{
  EventData *ed = data;
  guint32 mark = nfct_get_attr_u32 (ct, ATTR_MARK);
  PcFlowKey key;

  if ((mark & PC_MARK_MASK) != 0 && ct_to_orig_key (ct, &key))
    ed->func (
        &key, mark,
        payload_estimate (nfct_get_attr_u64 (ct, ATTR_ORIG_COUNTER_BYTES),
                          nfct_get_attr_u64 (ct, ATTR_ORIG_COUNTER_PACKETS), key.family, key.proto),
        payload_estimate (nfct_get_attr_u64 (ct, ATTR_REPL_COUNTER_BYTES),
                          nfct_get_attr_u64 (ct, ATTR_REPL_COUNTER_PACKETS), key.family, key.proto),
        ed->user_data);
  return NFCT_CB_CONTINUE;
}

void
pc_conntrack_dispatch_events (PcConntrack *self, PcConntrackEndFunc func, gpointer user_data)
{
  EventData ed = { func, user_data };

  nfct_callback_register (self->events, NFCT_T_DESTROY, event_cb, &ed);
  /* The socket is non-blocking: nfct_catch returns once it has drained it (EAGAIN). A lost
   * event (ENOBUFS) only delays the pruning of a flow entry until the next resync. */
  if (nfct_catch (self->events) < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    g_debug ("conntrack events: %s", g_strerror (errno));
  nfct_callback_unregister (self->events);
}

/* --- accounting --- */

gboolean
pc_conntrack_enable_accounting (GError **error)
{
  const char *path = "/proc/sys/net/netfilter/nf_conntrack_acct";
  /* a sysctl file is written in place (g_file_set_contents would rename a temp file over it) */
  int fd = open (path, O_WRONLY | O_CLOEXEC);
  gboolean ok = fd >= 0 && write (fd, "1\n", 2) == 2;
  int err = errno;

  if (fd >= 0)
    close (fd);
  if (!ok)
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "cannot turn on %s: %s", path,
                 g_strerror (err));
  return ok;
}

typedef struct
{
  PcConntrackCountersFunc func;
  gpointer user_data;
} CountersData;

static int
counters_cb (enum nf_conntrack_msg_type type, struct nf_conntrack *ct, void *data)
{
  CountersData *cd = data;
  PcFlowKey key;

  if (!ct_to_orig_key (ct, &key))
    return NFCT_CB_CONTINUE;
  cd->func (
      &key,
      payload_estimate (nfct_get_attr_u64 (ct, ATTR_ORIG_COUNTER_BYTES),
                        nfct_get_attr_u64 (ct, ATTR_ORIG_COUNTER_PACKETS), key.family, key.proto),
      payload_estimate (nfct_get_attr_u64 (ct, ATTR_REPL_COUNTER_BYTES),
                        nfct_get_attr_u64 (ct, ATTR_REPL_COUNTER_PACKETS), key.family, key.proto),
      cd->user_data);
  return NFCT_CB_CONTINUE;
}

gboolean
pc_conntrack_dump_counters (PcConntrack *self,
                            PcConntrackCountersFunc func,
                            gpointer user_data,
                            GError **error)
{
  CountersData cd = { func, user_data };
  struct nfct_handle *h = nfct_open (CONNTRACK, 0);
  guint32 family = AF_UNSPEC;
  int ret;

  if (h == NULL)
    {
      int err = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "conntrack dump: %s",
                   g_strerror (err));
      return FALSE;
    }
  nfct_callback_register (h, NFCT_T_ALL, counters_cb, &cd);
  ret = nfct_query (h, NFCT_Q_DUMP, &family);
  nfct_close (h);
  if (ret < 0)
    {
      int err = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "conntrack dump: %s",
                   g_strerror (err));
      return FALSE;
    }
  return TRUE;
}

/* --- requests --- */

static void
fill_tuple (struct nf_conntrack *ct, const PcFlowKey *key)
{
  gboolean out = key->direction == PC_DIR_OUTBOUND;
  const PcAddr *src = out ? &key->laddr : &key->raddr;
  const PcAddr *dst = out ? &key->raddr : &key->laddr;
  guint16 sport = out ? key->lport : key->rport;
  guint16 dport = out ? key->rport : key->lport;

  nfct_set_attr_u8 (ct, ATTR_ORIG_L3PROTO, key->family);
  nfct_set_attr_u8 (ct, ATTR_ORIG_L4PROTO, key->proto);
  if (key->family == AF_INET)
    {
      guint32 s, d;
      memcpy (&s, src->b, 4);
      memcpy (&d, dst->b, 4);
      nfct_set_attr_u32 (ct, ATTR_ORIG_IPV4_SRC, s);
      nfct_set_attr_u32 (ct, ATTR_ORIG_IPV4_DST, d);
    }
  else
    {
      nfct_set_attr (ct, ATTR_ORIG_IPV6_SRC, src->b);
      nfct_set_attr (ct, ATTR_ORIG_IPV6_DST, dst->b);
    }
  if (key->proto == IPPROTO_ICMP || key->proto == IPPROTO_ICMPV6)
    {
      nfct_set_attr_u16 (ct, ATTR_ICMP_ID, htons (key->lport));
      nfct_set_attr_u8 (ct, ATTR_ICMP_TYPE, (guint8)key->rport);
      nfct_set_attr_u8 (ct, ATTR_ICMP_CODE, 0);
    }
  else
    {
      nfct_set_attr_u16 (ct, ATTR_ORIG_PORT_SRC, htons (sport));
      nfct_set_attr_u16 (ct, ATTR_ORIG_PORT_DST, htons (dport));
    }
}

static gboolean
ct_request (PcConntrack *self,
            guint16 msg,
            const PcFlowKey *key,
            gboolean with_mark,
            guint32 bits,
            GError **error)
{
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct nf_conntrack *ct = nfct_new ();
  struct nlmsghdr *nlh;
  struct nfgenmsg *nfh;
  guint32 seq = ++self->seq;
  ssize_t n;

  nlh = mnl_nlmsg_put_header (buf);
  nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | msg;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = seq;
  nfh = mnl_nlmsg_put_extra_header (nlh, sizeof *nfh);
  nfh->nfgen_family = key->family;
  nfh->version = NFNETLINK_V0;
  nfh->res_id = 0;

  fill_tuple (ct, key);
  if (with_mark)
    nfct_set_attr_u32 (ct, ATTR_MARK, bits & PC_MARK_MASK);
  nfct_nlmsg_build (nlh, ct);
  nfct_destroy (ct);
  if (with_mark)
    mnl_attr_put_u32 (nlh, CTA_MARK_MASK, htonl (PC_MARK_MASK));

  if (mnl_socket_sendto (self->nl, nlh, nlh->nlmsg_len) >= 0)
    {
      n = mnl_socket_recvfrom (self->nl, buf, sizeof buf);
      if (n >= 0 && mnl_cb_run (buf, n, seq, self->portid, NULL, NULL) >= 0)
        return TRUE;
    }

  int err = errno;
  g_autofree char *flow = pc_flow_key_to_string (key);
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "conntrack %s of %s: %s",
               msg == IPCTNL_MSG_CT_DELETE ? "delete" : "update", flow, g_strerror (err));
  return FALSE;
}

gboolean
pc_conntrack_set_mark (PcConntrack *self, const PcFlowKey *key, guint32 bits, GError **error)
{
  return ct_request (self, IPCTNL_MSG_CT_NEW, key, TRUE, bits, error);
}

gboolean
pc_conntrack_delete (PcConntrack *self, const PcFlowKey *key, GError **error)
{
  return ct_request (self, IPCTNL_MSG_CT_DELETE, key, FALSE, 0, error);
}

gboolean
pc_socket_destroy (const PcFlowKey *key, GError **error)
{
  struct
  {
    struct nlmsghdr nlh;
    struct inet_diag_req_v2 req;
  } msg = { 0 };
  char buf[MNL_SOCKET_BUFFER_SIZE];
  struct mnl_socket *nl;
  gboolean ok = FALSE;
  int err = 0;

  if (key->proto != IPPROTO_TCP && key->proto != IPPROTO_UDP)
    return TRUE;

  nl = mnl_socket_open2 (NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
  if (nl == NULL)
    {
      err = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "sock_diag: %s",
                   g_strerror (err));
      return FALSE;
    }
  msg.nlh.nlmsg_len = sizeof msg;
  msg.nlh.nlmsg_type = SOCK_DESTROY;
  msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  msg.nlh.nlmsg_seq = 1;
  msg.req.sdiag_family = key->family;
  msg.req.sdiag_protocol = key->proto;
  msg.req.idiag_states = ~0u;
  /* For SOCK_DESTROY both TCP and UDP look the socket up with src = local end. */
  msg.req.id.idiag_sport = htons (key->lport);
  msg.req.id.idiag_dport = htons (key->rport);
  memcpy (msg.req.id.idiag_src, key->laddr.b, key->family == AF_INET ? 4 : 16);
  memcpy (msg.req.id.idiag_dst, key->raddr.b, key->family == AF_INET ? 4 : 16);
  msg.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  msg.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;

  if (mnl_socket_sendto (nl, &msg, sizeof msg) >= 0)
    {
      ssize_t n = mnl_socket_recvfrom (nl, buf, sizeof buf);
      if (n >= 0 && mnl_cb_run (buf, n, 1, 0, NULL, NULL) >= 0)
        ok = TRUE;
    }
  if (!ok)
    err = errno;
  mnl_socket_close (nl);
  if (!ok && err != ENOENT)
    {
      g_autofree char *flow = pc_flow_key_to_string (key);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
                   "cannot destroy socket of %s: %s", flow, g_strerror (err));
      return FALSE;
    }
  return TRUE;
}
