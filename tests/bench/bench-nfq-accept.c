/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Baseline (b) of the packet-path benchmark: the same chains and queue as portcullisd, but a
 * userspace program that accepts every queued packet at once, without attribution or policy.
 * What portcullisd costs on top of this is its own work. Runs until SIGTERM. */
#include <glib-unix.h>
#include <stdio.h>

#include "pc-marks.h"
#include "pc-nfqueue.h"
#include "pc-ruleset.h"

#include <linux/netfilter.h>

static PcNfqueue *queue;

static void
accept_cb (const PcNfqPacket *p, gpointer user_data)
{
  pc_nfqueue_verdict (queue, p->id, NF_REPEAT, TRUE, (p->mark & ~PC_MARK_MASK) | PC_MARK_ALLOW);
}

static gboolean
readable_cb (int fd, GIOCondition cond, gpointer user_data)
{
  pc_nfqueue_dispatch (queue, accept_cb, NULL, NULL, NULL);
  return G_SOURCE_CONTINUE;
}

static gboolean
quit_cb (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  PcRulesetConfig config = { .queue_num = 0, .fail_open = TRUE };
  PcRulesetState state;

  queue = pc_nfqueue_open (0, TRUE, &error);
  if (queue == NULL || !pc_ruleset_install (&config, &state, &error))
    {
      fprintf (stderr, "bench-nfq-accept: %s\n", error->message);
      return 1;
    }
  g_unix_fd_add (pc_nfqueue_get_fd (queue), G_IO_IN, readable_cb, NULL);
  g_unix_signal_add (SIGTERM, quit_cb, loop);
  g_unix_signal_add (SIGINT, quit_cb, loop);
  fprintf (stderr, "portcullisd: ready\n");
  g_main_loop_run (loop);
  pc_ruleset_remove (NULL);
  pc_nfqueue_free (queue);
  pc_ruleset_state_clear (&state);
  return 0;
}
