/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Loads bpf/pc-sock.bpf.c into a cgroup and reads its maps. Private to helper/attrib.
 * Without HAVE_BPF every constructor fails with a reason and the callers fall back to /proc. */
#pragma once

#include <glib.h>

#include "pc-net.h"
#include "pc-sock-shared.h"

G_BEGIN_DECLS

typedef struct _PcAttribBpf PcAttribBpf;

PcAttribBpf *pc_attrib_bpf_new (const char *cgroup_path, GError **error);
void pc_attrib_bpf_free (PcAttribBpf *self);

/* Owner recorded for a socket cookie by the cgroup hooks. */
gboolean pc_attrib_bpf_lookup_cookie (PcAttribBpf *self, guint64 cookie, struct pc_bpf_owner *out);

/* Owner of an unconnected UDP datagram recorded at sendmsg time, keyed by the flow (the socket
 * may be gone). netns is the cookie of the namespace the flow was seen in. */
gboolean pc_attrib_bpf_lookup_udp_flow (PcAttribBpf *self,
                                        guint64 netns,
                                        const PcFlowKey *key,
                                        struct pc_bpf_owner *out);

/* Owner of an outbound flow recorded by the hooks as its first packet left (TCP: sockops at the
 * SYN; unconnected UDP: sendmsg): from the ring buffer (shared memory) if there, else from the
 * map. Call from one thread only. */
gboolean pc_attrib_bpf_lookup_flow (PcAttribBpf *self,
                                    guint64 netns,
                                    const PcFlowKey *key,
                                    struct pc_bpf_owner *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcAttribBpf, pc_attrib_bpf_free)

G_END_DECLS
