/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Country, continent and ASN of an IP address, for country/continent/ASN rules (PcMatchInput
 * .country/.continent/.asn/.geo_available), the connection history and the UI.
 *
 * Two kinds of database, whichever is present:
 *   - MaxMind DB (.mmdb, libmaxminddb): GeoLite2/GeoIP2 Country, City or ASN, DB-IP lite, or any
 *     MMDB with country.iso_code, continent.code and autonomous_system_number;
 *   - the legacy GeoIP format of Debian's geoip-database package (libGeoIP): GeoIP.dat and
 *     GeoIPv6.dat (country; the continent follows from it), GeoIPASNum*.dat if present (ASN).
 * The path (setting `geo-database`) is a file or a directory; a directory is searched for the
 * file names above (all *.mmdb files, else the legacy .dat files). NULL means the usual places:
 * /var/lib/GeoIP, then /usr/share/GeoIP.
 *
 * A PcGeo is immutable once opened and lookups are thread-safe; to switch databases, open a new
 * one and swap the pointer (refcounted). What was found, or why nothing was, is in
 * pc_geo_get_status(): missing data is reported, never hidden. */
#pragma once

#include <glib.h>

#include "pc-net.h"

G_BEGIN_DECLS

typedef struct _PcGeo PcGeo;

typedef struct
{
  char country[3];   /* ISO 3166-1 alpha-2, upper case; "" when unknown */
  char continent[3]; /* AF AN AS EU NA OC SA; "" when unknown */
  guint32 asn;       /* 0 when unknown */
} PcGeoInfo;

/* Never NULL: when nothing usable is found the PcGeo answers nothing and its status says why;
 * error (may be NULL) is set then too. */
PcGeo *pc_geo_open (const char *path, GError **error);
PcGeo *pc_geo_ref (PcGeo *self);
void pc_geo_unref (PcGeo *self);

/* Fills info; TRUE if anything (country or ASN) is known for addr. IPv4-mapped IPv6 is looked
 * up as IPv4. Thread-safe. */
gboolean pc_geo_lookup (PcGeo *self, const PcAddr *addr, PcGeoInfo *info);

/* Country data present (PcMatchInput.geo_available) / ASN data present. */
gboolean pc_geo_has_country (PcGeo *self);
gboolean pc_geo_has_asn (PcGeo *self);
/* e.g. "MaxMind DB /var/lib/GeoIP/GeoLite2-Country.mmdb (country, continent); no ASN data",
 * "legacy GeoIP /usr/share/GeoIP/GeoIP.dat, GeoIPv6.dat (country, continent); no ASN data",
 * "no geo database in /var/lib/GeoIP, /usr/share/GeoIP (install geoip-database or set
 * geo-database): country, continent and ASN rules cannot match" */
const char *pc_geo_get_status (PcGeo *self);

/* The continent of an ISO country code ("AT" -> "EU"), or NULL. */
const char *pc_geo_continent_of_country (const char *country);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PcGeo, pc_geo_unref)

G_END_DECLS
