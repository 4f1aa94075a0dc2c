/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Child processes for test-attrib and test-process, synchronised through pipes: spawning
 * returns once the child printed its first line, and the child exits when stdin is closed. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  GPid pid;
  int in_fd;  /* child's stdin; closing it makes attrib-client exit */
  int out_fd; /* child's stdout */
  char *line; /* first line the child printed, without newline */
} AttribChild;

AttribChild *attrib_child_spawn (const char *const *argv,
                                 const char *const *envp,
                                 const char *cwd,
                                 GError **error);
/* Closes stdin, reaps the child and returns its wait status. */
int attrib_child_finish (AttribChild *child);
/* Reaps a child that exits by itself (without closing stdin first). */
int attrib_child_wait (AttribChild *child);
void attrib_child_free (AttribChild *child);

/* Path of a program built next to the tests. */
char *attrib_test_built_file (const char *name);
/* The cgroup v2 mount point from /proc/mounts, or NULL. */
char *attrib_find_cgroup2_root (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AttribChild, attrib_child_free)

G_END_DECLS
