/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Map layout shared by bpf/pc-traffic.bpf.c and helper/intercept/pc-traffic.c. */
#pragma once

#include <linux/types.h>

#define PC_TRAFFIC_MAX 65536

/* One flow of one socket: an unconnected UDP socket talks to many peers, and each pair is a
 * flow of its own. Addresses in network order; IPv4 in the first 4 bytes. */
struct pc_traffic_key
{
  __u64 cookie;
  __u8 raddr[16];
  __u16 rport; /* host order */
  __u8 family; /* AF_INET or AF_INET6 */
  __u8 proto;
  __u32 pad;
};

/* Payload bytes (what the program sent and received, without IP and TCP/UDP headers). */
struct pc_traffic_value
{
  __u64 bytes_in;
  __u64 bytes_out;
  __u64 packets_in;
  __u64 packets_out;
};
