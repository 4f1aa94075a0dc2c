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

/* Value of both maps: the task that created or last used a socket. */
struct pc_bpf_owner
{
  __u32 pid; /* thread-group id */
  __u32 tid;
  __u32 uid;
  __u32 flags;
  char comm[16];
  __u64 cookie; /* the socket's cookie (flow maps: which socket the flow belongs to) */
  __u64 stamp;  /* CLOCK_MONOTONIC ns when recorded (bpf_ktime_get_ns) */
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
