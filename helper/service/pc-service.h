/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The D-Bus service: org.portcullis.Portcullis1 at /org/portcullis/Portcullis1 on the system
 * bus. Every method is authorized by polkit (asynchronously, the caller's bus name as subject)
 * before it runs; connection changes from the engine go to subscribers in batches. */
#pragma once

#include <gio/gio.h>

#include "pc-dns-daemon.h"
#include "pc-engine.h"
#include "pc-geo.h"
#include "pc-history.h"
#include "pc-intel-update.h"
#include "pc-intel.h"
#include "pc-policy-manager.h"

G_BEGIN_DECLS

#define PC_SERVICE_BUS_NAME "org.portcullis.Portcullis1"
#define PC_SERVICE_OBJECT_PATH "/org/portcullis/Portcullis1"
#define PC_SERVICE_INTERFACE "org.portcullis.Portcullis1"

/* Per-client limits (a client is a unique bus name). */
#define PC_SERVICE_MAX_SUBSCRIPTIONS_PER_CLIENT 8
#define PC_SERVICE_MAX_PENDING_PER_CLIENT 32
#define PC_SERVICE_MAX_SUBSCRIBERS 64
/* Calls in flight from all clients together (most wait for polkit). */
#define PC_SERVICE_MAX_PENDING 1024
/* Entries per ConnectionsChanged signal; a bigger batch goes out as several signals. */
#define PC_SERVICE_MAX_ENTRIES_PER_SIGNAL 4096

#define PC_TYPE_SERVICE (pc_service_get_type ())
G_DECLARE_FINAL_TYPE (PcService, pc_service, PC, SERVICE, GObject)

/* Interception state for Status, as the ruleset was installed. */
typedef struct
{
  guint queue_num;
  gboolean ipv4;
  gboolean ipv6;
  const char *ipv6_error; /* why IPv6 is not intercepted, or NULL */
} PcServiceInterception;

/* The service takes over the engine's connection-changes callback. */
PcService *pc_service_new (PcEngine *engine);
void pc_service_set_interception (PcService *self, const PcServiceInterception *interception);
/* Settings, profiles, rules and backup go to the manager; the service emits SettingsChanged
 * when it changes. Without one those methods fail with PC_ERROR_UNAVAILABLE. */
void pc_service_set_policy_manager (PcService *self, PcPolicyManager *manager);
/* History and bandwidth methods query it (not owned; outlives the service). Without one they
 * fail with PC_ERROR_UNAVAILABLE. */
void pc_service_set_history (PcService *self, PcHistory *history);
/* Filter lists, their updater and geo data for Status, ListFilterLists and UpdateFilterLists
 * (references are taken; any may be NULL). */
void pc_service_set_intel (PcService *self, PcIntel *intel, PcIntelUpdater *updater, PcGeo *geo);
/* The local resolver for Status and the DNS methods (not owned; outlives the service). Without
 * one those methods fail with PC_ERROR_UNAVAILABLE. */
void pc_service_set_dns (PcService *self, PcDnsDaemon *dns);
/* Asks for the system bus and the name, asynchronously. Without a bus the service logs a
 * warning and stays idle: the firewall works without it. Emits "stop" when a client that is
 * authorized for org.portcullis.Portcullis1.manage called Stop. */
void pc_service_start (PcService *self);
/* Connected to the bus and owning the name. */
gboolean pc_service_is_running (PcService *self);

G_END_DECLS
