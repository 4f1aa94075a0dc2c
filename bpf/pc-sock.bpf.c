/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Socket -> process attribution for portcullisd.
 *
 * cgroup v2 socket hooks record, per socket cookie, which task created or last used the socket.
 * The helper maps a packet's tuple to a socket cookie with sock_diag and then looks the cookie up
 * here. Every program returns 1: they observe, they never filter (a 0 would make the syscall
 * fail with EPERM for the whole cgroup).
 *
 * Only UAPI context structs (struct bpf_sock, struct bpf_sock_addr) are read, so no vmlinux.h and
 * no CO-RE are needed: the object builds without the build machine's BTF and loads on any kernel
 * with these hooks (5.8+ for bpf_get_netns_cookie in sock_addr programs). */

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/socket.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "pc-sock-shared.h"

char LICENSE[] SEC ("license") = "GPL";

struct
{
  __uint (type, BPF_MAP_TYPE_LRU_HASH);
  __uint (max_entries, PC_BPF_OWNERS_MAX);
  __type (key, __u64); /* socket cookie */
  __type (value, struct pc_bpf_owner);
} pc_owners SEC (".maps");

struct
{
  __uint (type, BPF_MAP_TYPE_LRU_HASH);
  __uint (max_entries, PC_BPF_UDP_FLOWS_MAX);
  __type (key, struct pc_bpf_flow);
  __type (value, struct pc_bpf_owner);
} pc_udp_flows SEC (".maps");

static __always_inline void
pc_fill_owner (struct pc_bpf_owner *o)
{
  __u64 pid_tgid = bpf_get_current_pid_tgid ();
  __u64 uid_gid = bpf_get_current_uid_gid ();

  o->pid = pid_tgid >> 32;
  o->tid = (__u32)pid_tgid;
  o->uid = (__u32)uid_gid;
  o->flags = 0;
  bpf_get_current_comm (o->comm, sizeof o->comm);
}

/* Recording in process context only: a socket passed to another process (fd passing, fork) is
 * re-attributed to whoever connects or sends with it. */
static __always_inline void
pc_record_cookie (__u64 cookie)
{
  struct pc_bpf_owner o = {};

  pc_fill_owner (&o);
  bpf_map_update_elem (&pc_owners, &cookie, &o, BPF_ANY);
}

SEC ("cgroup/sock_create")
int
pc_sock_create (struct bpf_sock *ctx)
{
  pc_record_cookie (bpf_get_socket_cookie (ctx));
  return 1;
}

SEC ("cgroup/post_bind4")
int
pc_post_bind4 (struct bpf_sock *ctx)
{
  pc_record_cookie (bpf_get_socket_cookie (ctx));
  return 1;
}

SEC ("cgroup/post_bind6")
int
pc_post_bind6 (struct bpf_sock *ctx)
{
  pc_record_cookie (bpf_get_socket_cookie (ctx));
  return 1;
}

/* Unconnected UDP: a process may send one datagram and close the socket (or exit) before the
 * helper looks at the queued packet, and then sock_diag finds nothing. inet_sendmsg autobinds
 * before udp_sendmsg runs this hook, so the local port is known here and the flow can be recorded
 * by {netns, family, proto, local port, remote address, remote port}. */
static __always_inline void
pc_record_udp_flow (struct bpf_sock_addr *ctx, const struct pc_bpf_owner *o, int v6)
{
  struct pc_bpf_flow f = {};
  struct bpf_sock *sk = ctx->sk;
  __u32 a0, a1, a2, a3;

  if (sk == NULL)
    return;
  f.lport = sk->src_port; /* host order */
  if (f.lport == 0)
    return;
  f.netns = bpf_get_netns_cookie (ctx);
  f.proto = ctx->protocol;
  f.rport = bpf_ntohs ((__u16)ctx->user_port);
  if (!v6)
    {
      f.family = PC_BPF_AF_INET;
      f.raddr[0] = ctx->user_ip4;
    }
  else
    {
      a0 = ctx->user_ip6[0];
      a1 = ctx->user_ip6[1];
      a2 = ctx->user_ip6[2];
      a3 = ctx->user_ip6[3];
      /* A dual-stack socket sending to ::ffff:a.b.c.d puts an IPv4 packet on the wire: key it
       * like one so the helper finds it with the packet's tuple. */
      if (a0 == 0 && a1 == 0 && a2 == bpf_htonl (0xffff))
        {
          f.family = PC_BPF_AF_INET;
          f.raddr[0] = a3;
        }
      else
        {
          f.family = PC_BPF_AF_INET6;
          f.raddr[0] = a0;
          f.raddr[1] = a1;
          f.raddr[2] = a2;
          f.raddr[3] = a3;
        }
    }
  bpf_map_update_elem (&pc_udp_flows, &f, o, BPF_ANY);
}

/* connect and sendmsg share this: record the cookie, and for UDP also the flow when the local
 * port is already bound. For sendmsg it always is (autobind ran); for connect only if the program
 * bound explicitly, because inet_dgram_connect runs this hook before autobinding. */
static __always_inline int
pc_sock_addr_hook (struct bpf_sock_addr *ctx, int v6)
{
  struct pc_bpf_owner o = {};
  __u64 cookie = bpf_get_socket_cookie (ctx);

  pc_fill_owner (&o);
  bpf_map_update_elem (&pc_owners, &cookie, &o, BPF_ANY);
  if (ctx->protocol == IPPROTO_UDP || ctx->protocol == IPPROTO_UDPLITE)
    pc_record_udp_flow (ctx, &o, v6);
  return 1;
}

SEC ("cgroup/connect4")
int
pc_connect4 (struct bpf_sock_addr *ctx)
{
  return pc_sock_addr_hook (ctx, 0);
}

SEC ("cgroup/connect6")
int
pc_connect6 (struct bpf_sock_addr *ctx)
{
  return pc_sock_addr_hook (ctx, 1);
}

SEC ("cgroup/sendmsg4")
int
pc_sendmsg4 (struct bpf_sock_addr *ctx)
{
  return pc_sock_addr_hook (ctx, 0);
}

SEC ("cgroup/sendmsg6")
int
pc_sendmsg6 (struct bpf_sock_addr *ctx)
{
  return pc_sock_addr_hook (ctx, 1);
}

/* No TCP equivalent of pc_udp_flows (e.g. a sockops program on BPF_SOCK_OPS_TCP_CONNECT_CB):
 * a TCP flow's first packet is a SYN that the kernel sends on behalf of a live socket, and when
 * that socket is closed before the SYN is judged, nothing more will follow that needs a
 * decision (the peer's SYN-ACK gets a RST). So sock_diag always finds the socket of a TCP flow
 * worth attributing, and the cookie map covers it. */
