/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Signed filter-list updates.
 *
 * A list server publishes, under one base URL:
 *   index.json       the index (format in pc-intel.c): list files, sizes, sha256 sums, categories
 *   index.json.sig   base64 of an Ed25519 signature of index.json's exact bytes
 *   the list files   named in the index
 * made with build-aux/pc-sign-index. The helper trusts the public keys (*.pub, PEM) in its keys
 * directory; a signature by any of them is accepted.
 *
 * An update downloads the index and signature, verifies the signature, refuses an index whose
 * serial is lower than the installed one (rollback), downloads each file (never more than the
 * index says), checks its size and sha256, then moves the complete set into
 * STATE_DIR/lists-SERIAL, loads it into the PcIntel (an atomic swap) and points
 * STATE_DIR/lists at it (an atomic symlink replacement). Any failure - network, signature,
 * sums, a truncated or oversized file - removes the download and keeps the last good data;
 * the reason is returned and recorded in the PcIntel's status ("last-error") and the
 * updater's status. */
#pragma once

#include <gio/gio.h>

#include "pc-intel.h"

G_BEGIN_DECLS

#define PC_TYPE_INTEL_UPDATER (pc_intel_updater_get_type ())
G_DECLARE_FINAL_TYPE (PcIntelUpdater, pc_intel_updater, PC, INTEL_UPDATER, GObject)

/* url: base URL, http:// or https:// (the files are URL/index.json, ...). keys_dir: directory of
 * trusted *.pub keys. state_dir: where verified data is kept (created if missing). */
PcIntelUpdater *
pc_intel_updater_new (PcIntel *intel, const char *url, const char *keys_dir, const char *state_dir);

/* At start-up: verifies and loads STATE_DIR/lists (the last good update). FALSE if there is
 * none or it does not verify; the caller then loads the shipped lists. */
gboolean pc_intel_updater_load_installed (PcIntelUpdater *self, GError **error);

/* One update, blocking (call from a worker thread, or use the async variant). TRUE also when the
 * server has nothing newer (*updated, if given, then says FALSE). */
gboolean pc_intel_updater_update_sync (PcIntelUpdater *self,
                                       gboolean *updated,
                                       GCancellable *cancellable,
                                       GError **error);
/* The same in a worker thread; the swap becomes visible to lookups at once. */
void pc_intel_updater_update_async (PcIntelUpdater *self,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data);
gboolean pc_intel_updater_update_finish (PcIntelUpdater *self,
                                         GAsyncResult *result,
                                         gboolean *updated,
                                         GError **error);

/* Updates every interval_s seconds (0: never) from the thread-default main context. */
void pc_intel_updater_set_interval (PcIntelUpdater *self, guint interval_s);

/* a{sv}: url s, running b, last-attempt x, last-success x (unix seconds, 0 = never),
 * last-result s ("" before the first attempt, "updated to serial N", "up to date (serial N)",
 * or the error), and the progress of the running update, live (safe to call from any thread
 * while update_sync runs):
 *   phase s        "" idle, "index" (fetching index.json and its signature), "verifying" (the
 *                  signature), "downloading" (the list files), "swapping" (loading the verified
 *                  lists and swapping them in)
 *   fraction d     bytes-done / bytes-total, 0..1; -1 when unknown (idle, index, verifying)
 *   bytes-done t, bytes-total t   bytes of the list files so far and in all (the signed index
 *                  gives every size); in phase "index" bytes-done counts the index download
 *                  and bytes-total is 0 (unknown). */
GVariant *pc_intel_updater_dup_status (PcIntelUpdater *self);

/* Verifies an Ed25519 signature (base64 text, as in index.json.sig) of data with the keys in
 * keys_dir. Exposed for tests and tools. */
gboolean pc_intel_verify_signature (const char *keys_dir,
                                    const char *data,
                                    gsize len,
                                    const char *sig_base64,
                                    gsize sig_len,
                                    GError **error);

G_END_DECLS
