/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Map layouts shared by bpf/pc-sock.bpf.c and the helper (helper/attrib/pc-attrib-bpf.c).
 * Plain UAPI types only: this header is compiled for the BPF target too. */
#pragma once

#include <linux/types.h>

#define PC_BPF_OWNERS_MAX 65536
#define PC_BPF_UDP_FLOWS_MAX 16384

/* AF_INET/AF_INET6 without pulling libc socket headers into the BPF object. */
#define PC_BPF_AF_INET 2
#define PC_BPF_AF_INET6 10

/* pc_bpf_owner.flags: the task runs the program image its parent (ppid) runs: it has not
 * called exec since fork, nor has the parent, and they share the executable file, the argument
 * and environment areas and the root directory. Its identity is its parent's. */
#define PC_BPF_OWNER_PARENT_IMAGE 0x1

/* Value of both maps: the task that created or last used a socket. */
struct pc_bpf_owner
{
  __u32 pid; /* thread-group id */
  __u32 tid;
  __u32 uid;
  __u32 flags;
  char comm[16];
  __u64 cookie;          /* the socket's cookie (flow maps: which socket the flow belongs to) */
  __u64 stamp;           /* CLOCK_MONOTONIC ns when recorded (bpf_ktime_get_ns) */
  __u64 start_ns;        /* start of the thread group, ns since boot (0: unknown) */
  __u64 cgroup_id;       /* cgroup v2 id of the task */
  __u64 exec_id;         /* the task's exec count (self_exec_id), to tell an exec'd pid */
  __u64 parent_exec_id;  /* the parent's exec count when it forked the task */
  __u64 parent_start_ns; /* start of the parent's thread group, ns since boot */
  __u32 ppid;            /* thread-group id of the parent (0: unknown) */
  __u32 task_info;       /* 1 when start_ns, ppid and the exec counts are filled in */
};

/* Key of the flow map (unconnected UDP from the sendmsg hooks, outbound TCP from sockops). Explicit padding: BPF hashes every byte of the key. */
struct pc_bpf_flow
{
  __u64 netns; /* network namespace cookie (SO_NETNS_COOKIE) */
  __u8 family;
  __u8 proto;
  __u16 lport; /* host order */
  __u16 rport; /* host order */
  __u16 pad;
  __u32 raddr[4]; /* network order; IPv4 in raddr[0] */
};

/* The sockops hook also sends each outbound TCP flow it records through a ring buffer, which
 * the helper reads from shared memory when the SYN is queued: no system call on the packet
 * path. The map stays the fallback (ring full, helper busy). */
struct pc_bpf_flow_event
{
  struct pc_bpf_flow flow;
  struct pc_bpf_owner owner;
};

#define PC_BPF_FLOW_EVENTS_BYTES (256 * 1024)
