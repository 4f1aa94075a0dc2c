/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-intercept"

#include "pc-nfqueue.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gio/gio.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <string.h>

#include "pc-marks.h"

/* Enough for the IPv6 header, a few extension headers and the L4 ports. */
#define PC_NFQ_COPY_RANGE 256
#define PC_NFQ_MAXLEN 4096
#define PC_NFQ_RECV_BUF (256 * 1024)
#define PC_NFQ_SEND_BUF (64 * 1024)
#define PC_NFQ_VERDICT_MAX 160 /* bytes one verdict message takes, generously */

struct _PcNfqueue
{
  struct mnl_socket *nl;
  guint16 queue_num;
  guint32 portid;
  guint32 seq;
  guint8 *recv_buf;
  guint8 *send_buf;
  gsize send_len;
};

static gboolean
send_config (PcNfqueue *self, struct nlmsghdr *nlh, GError **error)
{
  char ack[MNL_SOCKET_BUFFER_SIZE];
  ssize_t n;
  int ret = -1;

  nlh->nlmsg_flags |= NLM_F_ACK;
  nlh->nlmsg_seq = ++self->seq;
  if (mnl_socket_sendto (self->nl, nlh, nlh->nlmsg_len) >= 0)
    {
      /* The socket is non-blocking; the kernel answers synchronously, before sendto returns. */
      n = mnl_socket_recvfrom (self->nl, ack, sizeof ack);
      if (n >= 0)
        ret = mnl_cb_run (ack, n, nlh->nlmsg_seq, self->portid, NULL, NULL);
    }
  if (ret < 0)
    {
      int err = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
                   "cannot configure nfqueue %u: %s", self->queue_num, g_strerror (err));
      return FALSE;
    }
  return TRUE;
}

PcNfqueue *
pc_nfqueue_open (guint16 queue_num, gboolean fail_open, GError **error)
{
  g_autofree char *buf = g_malloc (MNL_SOCKET_BUFFER_SIZE);
  PcNfqueue *self = g_new0 (PcNfqueue, 1);
  struct nlmsghdr *nlh;
  guint32 flags;
  int one = 1;
  int size = 8 * 1024 * 1024;

  self->queue_num = queue_num;
  self->nl = mnl_socket_open2 (NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (self->nl == NULL || mnl_socket_bind (self->nl, 0, MNL_SOCKET_AUTOPID) < 0)
    {
      int err = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
                   "cannot open netfilter netlink socket: %s", g_strerror (err));
      pc_nfqueue_free (self);
      return NULL;
    }
  self->portid = mnl_socket_get_portid (self->nl);
  self->recv_buf = g_malloc (PC_NFQ_RECV_BUF);
  self->send_buf = g_malloc (PC_NFQ_SEND_BUF);

  /* A burst of new flows must not fail with ENOBUFS; a lost message is a held packet. */
  setsockopt (mnl_socket_get_fd (self->nl), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
  mnl_socket_setsockopt (self->nl, NETLINK_NO_ENOBUFS, &one, sizeof one);

  nlh = nfq_nlmsg_put (buf, NFQNL_MSG_CONFIG, queue_num);
  nfq_nlmsg_cfg_put_cmd (nlh, AF_INET, NFQNL_CFG_CMD_BIND);
  if (!send_config (self, nlh, error))
    {
      pc_nfqueue_free (self);
      return NULL;
    }

  nlh = nfq_nlmsg_put (buf, NFQNL_MSG_CONFIG, queue_num);
  nfq_nlmsg_cfg_put_params (nlh, NFQNL_COPY_PACKET, PC_NFQ_COPY_RANGE);
  nfq_nlmsg_cfg_put_qmaxlen (nlh, PC_NFQ_MAXLEN);
  /* No NFQA_CFG_F_CONNTRACK: kernels without CONFIG_NETFILTER_NETLINK_GLUE_CT (Debian's
   * among them) refuse it. Verdicts travel in the packet mark instead (see pc-ruleset.c). */
  flags = NFQA_CFG_F_UID_GID | (fail_open ? NFQA_CFG_F_FAIL_OPEN : 0);
  mnl_attr_put_u32 (nlh, NFQA_CFG_FLAGS, htonl (flags));
  mnl_attr_put_u32 (nlh, NFQA_CFG_MASK, htonl (NFQA_CFG_F_UID_GID | NFQA_CFG_F_FAIL_OPEN));
  if (!send_config (self, nlh, error))
    {
      pc_nfqueue_free (self);
      return NULL;
    }
  return self;
}

void
pc_nfqueue_free (PcNfqueue *self)
{
  if (self == NULL)
    return;
  if (self->nl != NULL)
    mnl_socket_close (self->nl);
  g_free (self->recv_buf);
  g_free (self->send_buf);
  g_free (self);
}

int
pc_nfqueue_get_fd (PcNfqueue *self)
{
  return mnl_socket_get_fd (self->nl);
}

typedef struct
{
  PcNfqPacketFunc func;
  gpointer user_data;
} DispatchData;

static int
queue_msg_cb (const struct nlmsghdr *nlh, void *data)
{
  DispatchData *dd = data;
  struct nlattr *attr[NFQA_MAX + 1] = { 0 };
  const struct nfqnl_msg_packet_hdr *ph;
  PcNfqPacket pkt = { 0 };

  if (nfq_nlmsg_parse (nlh, attr) < 0 || attr[NFQA_PACKET_HDR] == NULL)
    return MNL_CB_OK;
  if (mnl_attr_get_payload_len (attr[NFQA_PACKET_HDR]) < sizeof *ph)
    return MNL_CB_OK;

  ph = mnl_attr_get_payload (attr[NFQA_PACKET_HDR]);
  pkt.id = ntohl (ph->packet_id);
  pkt.uid = (guint32)-1;
  if (attr[NFQA_MARK])
    pkt.mark = ntohl (mnl_attr_get_u32 (attr[NFQA_MARK]));
  if (attr[NFQA_IFINDEX_INDEV])
    pkt.indev = ntohl (mnl_attr_get_u32 (attr[NFQA_IFINDEX_INDEV]));
  if (attr[NFQA_IFINDEX_OUTDEV])
    pkt.outdev = ntohl (mnl_attr_get_u32 (attr[NFQA_IFINDEX_OUTDEV]));
  if (attr[NFQA_UID])
    pkt.uid = ntohl (mnl_attr_get_u32 (attr[NFQA_UID]));
  if (attr[NFQA_PAYLOAD])
    {
      pkt.payload = mnl_attr_get_payload (attr[NFQA_PAYLOAD]);
      pkt.payload_len = mnl_attr_get_payload_len (attr[NFQA_PAYLOAD]);
    }

  dd->func (&pkt, dd->user_data);
  return MNL_CB_OK;
}

gboolean
pc_nfqueue_flush (PcNfqueue *self, GError **error)
{
  if (self->send_len == 0)
    return TRUE;
  /* Several verdict messages in one datagram: the kernel handles each in turn. */
  if (mnl_socket_sendto (self->nl, self->send_buf, self->send_len) < 0)
    {
      int err = errno;
      self->send_len = 0;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err), "cannot send verdicts: %s",
                   g_strerror (err));
      return FALSE;
    }
  self->send_len = 0;
  return TRUE;
}

void
pc_nfqueue_verdict (PcNfqueue *self, guint32 id, guint32 verdict, gboolean set_mark, guint32 mark)
{
  struct nlmsghdr *nlh;

  if (self->send_len + PC_NFQ_VERDICT_MAX > PC_NFQ_SEND_BUF)
    pc_nfqueue_flush (self, NULL);

  nlh = nfq_nlmsg_put ((char *)self->send_buf + self->send_len, NFQNL_MSG_VERDICT, self->queue_num);
  nfq_nlmsg_verdict_put (nlh, id, verdict);
  if (set_mark)
    nfq_nlmsg_verdict_put_mark (nlh, mark);
  self->send_len += NLMSG_ALIGN (nlh->nlmsg_len);
}

gboolean
pc_nfqueue_dispatch (PcNfqueue *self,
                     PcNfqPacketFunc func,
                     PcNfqBatchFunc batch_done,
                     gpointer user_data,
                     GError **error)
{
  DispatchData dd = { func, user_data };

  for (;;)
    {
      ssize_t n = mnl_socket_recvfrom (self->nl, self->recv_buf, PC_NFQ_RECV_BUF);
      if (n < 0)
        {
          int err = errno;
          if (err == EAGAIN || err == EWOULDBLOCK)
            break;
          if (err == EINTR)
            continue;
          if (err == ENOBUFS)
            {
              /* Only with NO_ENOBUFS unsupported: packets were lost to fail-open or dropped;
               * the queue itself keeps working. */
              g_warning ("nfqueue %u overran its socket buffer", self->queue_num);
              continue;
            }
          pc_nfqueue_flush (self, NULL);
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
                       "cannot read from nfqueue %u: %s", self->queue_num, g_strerror (err));
          return FALSE;
        }
      if (mnl_cb_run (self->recv_buf, n, 0, self->portid, queue_msg_cb, &dd) < 0 && errno != ENOENT)
        g_debug ("malformed nfqueue message: %s", g_strerror (errno));
      /* Verdicts go out before anything else is done: a waiting connection's latency is
       * the time its packet spends here. */
      pc_nfqueue_flush (self, NULL);
      if (batch_done != NULL)
        batch_done (user_data);
    }
  return pc_nfqueue_flush (self, error);
}
