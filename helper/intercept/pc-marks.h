/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Portcullis owns three bits of the packet mark and the conntrack mark, and never touches the
 * others: VPNs (WireGuard, OpenVPN), NetworkManager and container tools route by fwmark and
 * mostly use the low 16 bits and 0x00ff0000; bits 28-30 are free in all of them. */
#pragma once

#define PC_MARK_SHIFT 28
#define PC_MARK_MASK 0x70000000u

#define PC_MARK_ALLOW (1u << PC_MARK_SHIFT)  /* connmark: decided, allowed */
#define PC_MARK_DROP (2u << PC_MARK_SHIFT)   /* connmark: decided, blocked silently */
#define PC_MARK_REJECT (3u << PC_MARK_SHIFT) /* connmark: decided, blocked with RST/ICMP */
#define PC_MARK_OWN (4u << PC_MARK_SHIFT)    /* packet mark (SO_MARK) of the helper's own sockets */
