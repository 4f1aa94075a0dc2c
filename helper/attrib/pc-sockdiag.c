/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-attrib"

#include "pc-sockdiag.h"

#include <errno.h>
#include <gio/gio.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

struct _PcSockDiag
{
  int fd;
  guint32 seq;
  guint64 netns_cookie;
};

PcSockDiag *
pc_sock_diag_new (GError **error)
{
  g_autoptr (PcSockDiag) self = g_new0 (PcSockDiag, 1);
  struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
  /* Exact lookups are answered synchronously inside sendmsg(); the timeout only guards against
   * a lost answer (e.g. a full receive buffer) stalling the packet thread. */
  struct timeval tv = { .tv_sec = 0, .tv_usec = 200 * 1000 };
  socklen_t len = sizeof self->netns_cookie;

  self->fd = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (self->fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "cannot open NETLINK_SOCK_DIAG socket: %s", g_strerror (saved));
      return NULL;
    }
  if (connect (self->fd, (struct sockaddr *)&nl, sizeof nl) < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "cannot connect NETLINK_SOCK_DIAG socket: %s", g_strerror (saved));
      return NULL;
    }
  setsockopt (self->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (getsockopt (self->fd, SOL_SOCKET, SO_NETNS_COOKIE, &self->netns_cookie, &len) < 0)
    self->netns_cookie = 0;
  return g_steal_pointer (&self);
}

void
pc_sock_diag_free (PcSockDiag *self)
{
  if (self == NULL)
    return;
  if (self->fd >= 0)
    close (self->fd);
  g_free (self);
}

guint64
pc_sock_diag_get_netns_cookie (PcSockDiag *self)
{
  return self->netns_cookie;
}

static void
pc_sock_diag_set_addr (__be32 dst[4], const PcAddr *addr, guint8 family)
{
  memset (dst, 0, 16);
  memcpy (dst, addr->b, family == AF_INET6 ? 16 : 4);
}

gboolean
pc_sock_diag_lookup (PcSockDiag *self, const PcFlowKey *key, PcSockDiagResult *out)
{
  struct
  {
    struct nlmsghdr nlh;
    struct inet_diag_req_v2 r;
  } req;
  /* One inet_diag_msg answer without extensions is ~100 bytes; this is plenty and on the stack
   * (no allocation on the packet path). */
  union
  {
    struct nlmsghdr nlh;
    char buf[8192];
  } resp;
  struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
  const PcAddr *src, *dst;
  guint16 sport, dport;
  guint32 seq;

  memset (out, 0, sizeof *out);
  out->uid = (uid_t)-1;
  if (key->proto != IPPROTO_TCP && key->proto != IPPROTO_UDP && key->proto != IPPROTO_UDPLITE)
    return FALSE;
  if (key->family != AF_INET && key->family != AF_INET6)
    return FALSE;

  /* TCP looks the socket up as the receiver of a packet from id.dst to id.src, i.e. src is the
   * local end. udp_dump_one() passes the fields the other way round ("swapped for historical
   * reasons" in net/ipv4/udp_diag.c), so for UDP src is the remote end. */
  if (key->proto == IPPROTO_TCP)
    {
      src = &key->laddr;
      sport = key->lport;
      dst = &key->raddr;
      dport = key->rport;
    }
  else
    {
      src = &key->raddr;
      sport = key->rport;
      dst = &key->laddr;
      dport = key->lport;
    }

  memset (&req, 0, sizeof req);
  seq = ++self->seq;
  req.nlh.nlmsg_len = sizeof req;
  req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  req.nlh.nlmsg_flags = NLM_F_REQUEST;
  req.nlh.nlmsg_seq = seq;
  req.r.sdiag_family = key->family;
  req.r.sdiag_protocol = key->proto;
  req.r.idiag_states = ~0u;
  req.r.id.idiag_sport = g_htons (sport);
  req.r.id.idiag_dport = g_htons (dport);
  pc_sock_diag_set_addr (req.r.id.idiag_src, src, key->family);
  pc_sock_diag_set_addr (req.r.id.idiag_dst, dst, key->family);
  req.r.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  req.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;

  if (sendto (self->fd, &req, sizeof req, 0, (struct sockaddr *)&nl, sizeof nl) < 0)
    {
      g_debug ("sock_diag request failed: %s", g_strerror (errno));
      return FALSE;
    }

  for (;;)
    {
      ssize_t n = recv (self->fd, &resp, sizeof resp, 0);
      int len;

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          g_debug ("sock_diag answer failed: %s", g_strerror (errno));
          return FALSE;
        }
      len = (int)n;
      for (struct nlmsghdr *h = &resp.nlh; NLMSG_OK (h, len); h = NLMSG_NEXT (h, len))
        {
          const struct inet_diag_msg *m;

          /* An answer to an earlier request that timed out: skip it. */
          if (h->nlmsg_seq != seq)
            continue;
          if (h->nlmsg_type == NLMSG_ERROR)
            return FALSE; /* ENOENT: no such socket */
          if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY
              || h->nlmsg_len < NLMSG_LENGTH (sizeof (struct inet_diag_msg)))
            return FALSE;
          m = NLMSG_DATA (h);
          out->cookie = (guint64)m->id.idiag_cookie[0] | ((guint64)m->id.idiag_cookie[1] << 32);
          out->inode = m->idiag_inode;
          out->uid = m->idiag_uid;
          out->state = m->idiag_state;
          return TRUE;
        }
    }
}
