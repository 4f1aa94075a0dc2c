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
#include <bpf/bpf_core_read.h>

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

struct
{
  __uint (type, BPF_MAP_TYPE_RINGBUF);
  __uint (max_entries, PC_BPF_FLOW_EVENTS_BYTES);
} pc_flow_events SEC (".maps");

/* Set by the helper before loading (read-only data, so the verifier prunes the task reads
 * when it is off): whether the kernel lets these programs read the current task. */
const volatile __u8 pc_task_info = 0;

/* The few kernel fields read, relocated against the running kernel's BTF (CO-RE): no
 * vmlinux.h at build time. */
struct file;
struct dentry;
struct path
{
  struct dentry *dentry;
} __attribute__ ((preserve_access_index));
struct fs_struct
{
  struct path root;
} __attribute__ ((preserve_access_index));
struct mm_struct
{
  unsigned long arg_start;
  unsigned long env_start;
  struct file *exe_file;
} __attribute__ ((preserve_access_index));
struct task_struct
{
  struct mm_struct *mm;
  struct fs_struct *fs;
  struct task_struct *real_parent;
  struct task_struct *group_leader;
  int tgid;
  __u64 self_exec_id;
  __u64 parent_exec_id;
  __u64 start_boottime;
} __attribute__ ((preserve_access_index));

/* Whether task still runs the image its parent runs (PC_BPF_OWNER_PARENT_IMAGE): then the
 * helper takes the parent's identity instead of reading /proc for a process it never met. */
static __always_inline int
pc_runs_parent_image (struct task_struct *task, struct task_struct *parent)
{
  struct mm_struct *mm = BPF_CORE_READ (task, mm);
  struct mm_struct *pmm = BPF_CORE_READ (parent, mm);

  if (mm == NULL || pmm == NULL)
    return 0;
  /* exec_id: bumped by every exec; a child starts with parent_exec_id = the parent's. */
  if (BPF_CORE_READ (task, self_exec_id) != BPF_CORE_READ (task, parent_exec_id)
      || BPF_CORE_READ (parent, self_exec_id) != BPF_CORE_READ (task, parent_exec_id))
    return 0;
  /* Same file, same argument and environment areas (a reparented child has another parent),
   * same root (flatpak identity lives there). */
  return BPF_CORE_READ (mm, exe_file) == BPF_CORE_READ (pmm, exe_file)
         && BPF_CORE_READ (mm, arg_start) == BPF_CORE_READ (pmm, arg_start)
         && BPF_CORE_READ (mm, env_start) == BPF_CORE_READ (pmm, env_start)
         && BPF_CORE_READ (task, fs, root.dentry) == BPF_CORE_READ (parent, fs, root.dentry);
}

static __always_inline void
pc_fill_owner (struct pc_bpf_owner *o, int task_info)
{
  __u64 pid_tgid = bpf_get_current_pid_tgid ();
  __u64 uid_gid = bpf_get_current_uid_gid ();

  o->pid = pid_tgid >> 32;
  o->tid = (__u32)pid_tgid;
  o->uid = (__u32)uid_gid;
  o->flags = 0;
  o->stamp = bpf_ktime_get_ns ();
  o->cgroup_id = bpf_get_current_cgroup_id ();
  bpf_get_current_comm (o->comm, sizeof o->comm);
  if (pc_task_info && task_info)
    {
      struct task_struct *task = (struct task_struct *)bpf_get_current_task ();
      struct task_struct *parent = BPF_CORE_READ (task, group_leader, real_parent);

      o->task_info = 1;
      o->start_ns = BPF_CORE_READ (task, group_leader, start_boottime);
      o->ppid = BPF_CORE_READ (parent, tgid);
      o->parent_start_ns = BPF_CORE_READ (parent, group_leader, start_boottime);
      o->exec_id = BPF_CORE_READ (task, self_exec_id);
      o->parent_exec_id = BPF_CORE_READ (task, parent_exec_id);
      if (pc_runs_parent_image (task, parent))
        o->flags |= PC_BPF_OWNER_PARENT_IMAGE;
    }
}

/* Recording in process context only: a socket passed to another process (fd passing, fork) is
 * re-attributed to whoever connects or sends with it. */
/* Records the socket without the task reads (connect and sendmsg record it again with them).
 * A socket already recorded for the calling thread keeps its record: an LRU map update costs
 * several times the lookup, and bind() follows socket() in the same thread almost always. */
static __always_inline void
pc_record_cookie (__u64 cookie, int known_new)
{
  struct pc_bpf_owner o = {};
  __u64 pid_tgid;

  if (!known_new)
    {
      struct pc_bpf_owner *cur = bpf_map_lookup_elem (&pc_owners, &cookie);

      pid_tgid = bpf_get_current_pid_tgid ();
      if (cur != NULL && cur->pid == (__u32)(pid_tgid >> 32) && cur->tid == (__u32)pid_tgid)
        return;
    }
  pc_fill_owner (&o, 0);
  o.cookie = cookie;
  bpf_map_update_elem (&pc_owners, &cookie, &o, BPF_ANY);
}

SEC ("cgroup/sock_create")
int
pc_sock_create (struct bpf_sock *ctx)
{
  /* Every socket() call pays for this hook. A TCP or UDP socket carries traffic only once it
   * connects (connect4/6 run for connect() and for TCP Fast Open's sendto, and record it with
   * the task reads), sends (sendmsg4/6: each datagram's flow record carries its owner) or is
   * bound (post_bind4/6); so it is recorded there, one map update less per connection and per
   * UDP socket. A socket that listens or receives without bind() is found through /proc. */
  if (ctx->protocol == IPPROTO_TCP || ctx->protocol == IPPROTO_UDP)
    return 1;
  pc_record_cookie (bpf_get_socket_cookie (ctx), 1);
  return 1;
}

SEC ("cgroup/post_bind4")
int
pc_post_bind4 (struct bpf_sock *ctx)
{
  /* a listener's connections are found by sock_diag and read from /proc once */
  pc_record_cookie (bpf_get_socket_cookie (ctx), 0);
  return 1;
}

SEC ("cgroup/post_bind6")
int
pc_post_bind6 (struct bpf_sock *ctx)
{
  pc_record_cookie (bpf_get_socket_cookie (ctx), 0);
  return 1;
}

/* Sends a flow the helper is about to see through the ring (see pc_bpf_flow_event). */
static __always_inline int
pc_send_flow_event (const struct pc_bpf_flow *f, const struct pc_bpf_owner *o)
{
  struct pc_bpf_flow_event *ev = bpf_ringbuf_reserve (&pc_flow_events, sizeof *ev, 0);

  if (ev == NULL)
    return 0; /* full: the helper falls back to the map */
  ev->flow = *f;
  ev->owner = *o;
  /* nobody sleeps on the ring: the helper reads it when the flow's first packet arrives */
  bpf_ringbuf_submit (ev, BPF_RB_NO_WAKEUP);
  return 1;
}

/* Unconnected UDP: a process may send one datagram and close the socket (or exit) before the
 * helper looks at the queued packet, and then sock_diag finds nothing. inet_sendmsg autobinds
 * before udp_sendmsg runs this hook, so the local port is known here and the flow can be recorded
 * by {netns, family, proto, local port, remote address, remote port}. Returns 0 when the socket
 * has no local port yet (connect before bind). */
static __always_inline int
pc_udp_flow_key (struct bpf_sock_addr *ctx, int v6, struct pc_bpf_flow *f)
{
  struct bpf_sock *sk = ctx->sk;
  __u32 a0, a1, a2, a3;

  if (sk == NULL)
    return 0;
  f->lport = sk->src_port; /* host order */
  if (f->lport == 0)
    return 0;
  f->netns = bpf_get_netns_cookie (ctx);
  f->proto = ctx->protocol;
  f->rport = bpf_ntohs ((__u16)ctx->user_port);
  if (!v6)
    {
      f->family = PC_BPF_AF_INET;
      f->raddr[0] = ctx->user_ip4;
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
          f->family = PC_BPF_AF_INET;
          f->raddr[0] = a3;
        }
      else
        {
          f->family = PC_BPF_AF_INET6;
          f->raddr[0] = a0;
          f->raddr[1] = a1;
          f->raddr[2] = a2;
          f->raddr[3] = a3;
        }
    }
  return 1;
}

/* A flow record this young, of the same thread and socket, needs no update: a program that
 * sends many datagrams to one peer pays a lookup per datagram, not the whole record. The
 * helper trusts records up to twice this age. */
#define PC_UDP_REFRESH_NS 1000000000ULL

/* connect and sendmsg share this: record the cookie, and for UDP also the flow when the local
 * port is already bound. For sendmsg it always is (autobind ran); for connect only if the program
 * bound explicitly, because inet_dgram_connect runs this hook before autobinding. */
static __always_inline int
pc_sock_addr_hook (struct bpf_sock_addr *ctx, int v6)
{
  struct pc_bpf_owner o = {};
  struct pc_bpf_flow f = {};
  __u64 cookie = bpf_get_socket_cookie (ctx);
  int udp = ctx->protocol == IPPROTO_UDP || ctx->protocol == IPPROTO_UDPLITE;
  int have_flow = udp && pc_udp_flow_key (ctx, v6, &f);

  if (have_flow)
    {
      struct pc_bpf_owner *seen = bpf_map_lookup_elem (&pc_udp_flows, &f);
      __u64 pid_tgid = bpf_get_current_pid_tgid ();

      if (seen != NULL && seen->cookie == cookie && seen->pid == (__u32)(pid_tgid >> 32)
          && seen->tid == (__u32)pid_tgid && bpf_ktime_get_ns () - seen->stamp < PC_UDP_REFRESH_NS)
        return 1;
    }
  pc_fill_owner (&o, 1);
  o.cookie = cookie;
  /* A UDP datagram's owner travels with its flow record (the helper reads it by the flow's
   * tuple), so the socket's own record is not written for it. A connect always writes it:
   * sockops copies it into a TCP flow's record, and a connected UDP socket's datagrams do not
   * pass this hook. */
  if (!have_flow)
    bpf_map_update_elem (&pc_owners, &cookie, &o, BPF_ANY);
  else
    {
      bpf_map_update_elem (&pc_udp_flows, &f, &o, BPF_ANY);
      pc_send_flow_event (&f, &o);
    }
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

/* Outbound TCP: BPF_SOCK_OPS_TCP_CONNECT_CB runs after the source port is chosen and before the
 * SYN leaves, in the connecting task. Recording the 4-tuple here lets the helper find the owner
 * of a SYN with one map lookup instead of a sock_diag request (two system calls per new flow on
 * the packet path). The owner is the one the connect hook just stored for the socket's cookie. */
SEC ("sockops")
int
pc_sockops (struct bpf_sock_ops *skops)
{
  struct pc_bpf_flow f = {};
  struct pc_bpf_owner *o;
  __u64 cookie;

  if (skops->op != BPF_SOCK_OPS_TCP_CONNECT_CB)
    return 1;
  cookie = bpf_get_socket_cookie (skops);
  o = bpf_map_lookup_elem (&pc_owners, &cookie);
  if (o == NULL)
    return 1;
  f.netns = bpf_get_netns_cookie (skops);
  f.proto = IPPROTO_TCP;
  f.lport = (__u16)skops->local_port;                      /* host order */
  f.rport = bpf_ntohs ((__u16)(skops->remote_port >> 16)); /* network order, high half */
  if (skops->family == PC_BPF_AF_INET)
    {
      f.family = PC_BPF_AF_INET;
      f.raddr[0] = skops->remote_ip4;
    }
  else
    {
      __u32 a0 = skops->remote_ip6[0], a1 = skops->remote_ip6[1];
      __u32 a2 = skops->remote_ip6[2], a3 = skops->remote_ip6[3];

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
  /* The SYN's owner comes from the ring; the map only when the ring is full. (UDP keeps its map
   * record as well: it outlives the socket, for the datagram of a sender that is gone.) */
  if (!pc_send_flow_event (&f, o))
    bpf_map_update_elem (&pc_udp_flows, &f, o, BPF_ANY);
  return 1;
}
