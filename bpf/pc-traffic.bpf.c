/* SPDX-License-Identifier: GPL-2.0-or-later OR GPL-3.0-or-later */
/* Per-flow traffic counters on the cgroup_skb hooks. The programs only count: they always
 * return 1 (pass), so a bug here can never cut the network. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "pc-traffic-shared.h"

#define AF_INET 2
#define AF_INET6 10

struct
{
  __uint (type, BPF_MAP_TYPE_LRU_HASH);
  __uint (max_entries, PC_TRAFFIC_MAX);
  __type (key, struct pc_traffic_key);
  __type (value, struct pc_traffic_value);
} pc_traffic SEC (".maps");

static __always_inline void
count (struct __sk_buff *skb, int egress)
{
  struct pc_traffic_key key = { 0 };
  struct pc_traffic_value zero = { 0 }, *v;
  __u32 l3len, l4off;
  __u8 l4hdr[14];
  __u64 payload;

  key.cookie = bpf_get_socket_cookie (skb);
  if (key.cookie == 0)
    return;

  if (skb->protocol == bpf_htons (ETH_P_IP))
    {
      struct iphdr ip;
      if (bpf_skb_load_bytes (skb, 0, &ip, sizeof ip) < 0)
        return;
      key.family = AF_INET;
      key.proto = ip.protocol;
      l4off = ip.ihl * 4;
      __builtin_memcpy (key.raddr, egress ? &ip.daddr : &ip.saddr, 4);
    }
  else if (skb->protocol == bpf_htons (ETH_P_IPV6))
    {
      struct ipv6hdr ip6;
      if (bpf_skb_load_bytes (skb, 0, &ip6, sizeof ip6) < 0)
        return;
      key.family = AF_INET6;
      key.proto = ip6.nexthdr; /* extension headers: counted under their own number */
      l4off = sizeof ip6;
      __builtin_memcpy (key.raddr, egress ? &ip6.daddr : &ip6.saddr, 16);
    }
  else
    return;

  l3len = skb->len;
  payload = l3len > l4off ? l3len - l4off : 0;
  if (key.proto == IPPROTO_TCP || key.proto == IPPROTO_UDP)
    {
      if (bpf_skb_load_bytes (skb, l4off, l4hdr, sizeof l4hdr) < 0)
        return;
      key.rport = egress ? (l4hdr[2] << 8 | l4hdr[3]) : (l4hdr[0] << 8 | l4hdr[1]);
      __u32 l4len = key.proto == IPPROTO_TCP ? (l4hdr[12] >> 4) * 4 : 8;
      payload = payload > l4len ? payload - l4len : 0;
    }

  v = bpf_map_lookup_elem (&pc_traffic, &key);
  if (v == NULL)
    {
      /* a flow's first packet: its entry is made with this packet counted (one map operation
       * less on the path of every new flow); if another CPU made it meanwhile, add to that */
      if (egress)
        zero.bytes_out = payload, zero.packets_out = 1;
      else
        zero.bytes_in = payload, zero.packets_in = 1;
      if (bpf_map_update_elem (&pc_traffic, &key, &zero, BPF_NOEXIST) == 0)
        return;
      v = bpf_map_lookup_elem (&pc_traffic, &key);
      if (v == NULL)
        return;
    }
  if (egress)
    {
      __sync_fetch_and_add (&v->bytes_out, payload);
      __sync_fetch_and_add (&v->packets_out, 1);
    }
  else
    {
      __sync_fetch_and_add (&v->bytes_in, payload);
      __sync_fetch_and_add (&v->packets_in, 1);
    }
}

SEC ("cgroup_skb/ingress")
int
pc_traffic_ingress (struct __sk_buff *skb)
{
  count (skb, 0);
  return 1;
}

SEC ("cgroup_skb/egress")
int
pc_traffic_egress (struct __sk_buff *skb)
{
  count (skb, 1);
  return 1;
}

char _license[] SEC ("license") = "GPL";
