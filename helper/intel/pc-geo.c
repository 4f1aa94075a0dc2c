/* SPDX-License-Identifier: GPL-3.0-or-later */
#define G_LOG_DOMAIN "portcullis-intel"

#include "pc-geo.h"

#include <stdlib.h>
#include <string.h>

#include "pc-error.h"

#ifdef HAVE_MAXMINDDB
#include <maxminddb.h>
#endif
#ifdef HAVE_GEOIP
#include <GeoIP.h>
#endif

#define MAX_MMDB 4

static const char *const default_dirs[] = { "/var/lib/GeoIP", "/usr/share/GeoIP" };

struct _PcGeo
{
  gatomicrefcount ref_count;
  char *status;
  gboolean has_country;
  gboolean has_asn;
#ifdef HAVE_MAXMINDDB
  MMDB_s mmdb[MAX_MMDB];
  guint n_mmdb;
#endif
#ifdef HAVE_GEOIP
  GeoIP *country_v4;
  GeoIP *country_v6;
  GeoIP *asn_v4;
  GeoIP *asn_v6;
#endif
};

/* ISO 3166 country -> continent, for databases that give only the country. From libGeoIP's
 * table when it is there; otherwise MMDB data usually carries the continent itself. */
const char *
pc_geo_continent_of_country (const char *country)
{
#ifdef HAVE_GEOIP
  int id;
  const char *c;

  if (country == NULL || strlen (country) != 2)
    return NULL;
  id = GeoIP_id_by_code (country);
  if (id <= 0)
    return NULL;
  c = GeoIP_continent_by_id (id);
  return c != NULL && strcmp (c, "--") != 0 ? c : NULL;
#else
  return NULL;
#endif
}

static void
geo_free (PcGeo *self)
{
#ifdef HAVE_MAXMINDDB
  for (guint i = 0; i < self->n_mmdb; i++)
    MMDB_close (&self->mmdb[i]);
#endif
#ifdef HAVE_GEOIP
  g_clear_pointer (&self->country_v4, GeoIP_delete);
  g_clear_pointer (&self->country_v6, GeoIP_delete);
  g_clear_pointer (&self->asn_v4, GeoIP_delete);
  g_clear_pointer (&self->asn_v6, GeoIP_delete);
#endif
  g_free (self->status);
  g_free (self);
}

PcGeo *
pc_geo_ref (PcGeo *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
pc_geo_unref (PcGeo *self)
{
  if (self != NULL && g_atomic_ref_count_dec (&self->ref_count))
    geo_free (self);
}

/* ---- MaxMind DB --------------------------------------------------------------------------- */

#ifdef HAVE_MAXMINDDB
static gboolean
mmdb_open_file (PcGeo *self, const char *file, GString *opened, GError **error)
{
  MMDB_s *db;
  int rc;

  if (self->n_mmdb == MAX_MMDB)
    return TRUE;
  db = &self->mmdb[self->n_mmdb];
  rc = MMDB_open (file, MMDB_MODE_MMAP, db);
  if (rc != MMDB_SUCCESS)
    {
      g_set_error (error, PC_ERROR, PC_ERROR_CORRUPT, "cannot open geo database %s: %s", file,
                   MMDB_strerror (rc));
      return FALSE;
    }
  self->n_mmdb++;
  /* the metadata names the content ("GeoLite2-ASN", "GeoIP2-City", "DBIP-Country-Lite", ...);
   * a type we do not know may hold anything, and lookups tell */
  {
    const char *type = db->metadata.database_type != NULL ? db->metadata.database_type : "";
    gboolean asn = strstr (type, "ASN") != NULL || strstr (type, "ISP") != NULL;
    gboolean country = strstr (type, "Country") != NULL || strstr (type, "City") != NULL;

    self->has_asn |= asn || !country;
    self->has_country |= country || !asn;
  }
  g_string_append_printf (opened, "%s%s (%s)", opened->len > 0 ? ", " : "", file,
                          db->metadata.database_type);
  return TRUE;
}

static void
mmdb_lookup (PcGeo *self, const PcAddr *addr, PcGeoInfo *info)
{
  struct sockaddr_storage ss = { 0 };

  if (addr->family == AF_INET)
    {
      struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

      sin->sin_family = AF_INET;
      sin->sin_addr = addr->v4;
    }
  else
    {
      struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

      sin6->sin6_family = AF_INET6;
      sin6->sin6_addr = addr->v6;
    }
  for (guint i = 0; i < self->n_mmdb; i++)
    {
      int mmdb_error = 0;
      MMDB_lookup_result_s res
          = MMDB_lookup_sockaddr (&self->mmdb[i], (const struct sockaddr *)&ss, &mmdb_error);
      MMDB_entry_data_s data;

      if (mmdb_error != MMDB_SUCCESS || !res.found_entry)
        continue;
      if (info->country[0] == '\0'
          && MMDB_get_value (&res.entry, &data, "country", "iso_code", NULL) == MMDB_SUCCESS
          && data.has_data && data.type == MMDB_DATA_TYPE_UTF8_STRING && data.data_size == 2)
        {
          info->country[0] = g_ascii_toupper (data.utf8_string[0]);
          info->country[1] = g_ascii_toupper (data.utf8_string[1]);
          info->country[2] = '\0';
        }
      if (info->continent[0] == '\0'
          && MMDB_get_value (&res.entry, &data, "continent", "code", NULL) == MMDB_SUCCESS
          && data.has_data && data.type == MMDB_DATA_TYPE_UTF8_STRING && data.data_size == 2)
        {
          info->continent[0] = g_ascii_toupper (data.utf8_string[0]);
          info->continent[1] = g_ascii_toupper (data.utf8_string[1]);
          info->continent[2] = '\0';
        }
      if (info->asn == 0
          && MMDB_get_value (&res.entry, &data, "autonomous_system_number", NULL) == MMDB_SUCCESS
          && data.has_data)
        {
          if (data.type == MMDB_DATA_TYPE_UINT32)
            info->asn = data.uint32;
          else if (data.type == MMDB_DATA_TYPE_UINT16)
            info->asn = data.uint16;
        }
    }
}
#endif

/* ---- legacy GeoIP ------------------------------------------------------------------------- */

#ifdef HAVE_GEOIP
static GeoIP *
legacy_open (const char *file, GString *opened)
{
  GeoIP *gi;

  if (!g_file_test (file, G_FILE_TEST_IS_REGULAR))
    return NULL;
  /* MMAP without CHECK_CACHE: read-only after opening, so lookups may run in any thread */
  gi = GeoIP_open (file, GEOIP_MMAP_CACHE | GEOIP_SILENCE);
  if (gi != NULL)
    g_string_append_printf (opened, "%s%s", opened->len > 0 ? ", " : "", file);
  return gi;
}

static guint32
parse_asn_name (char *name)
{
  guint32 asn = 0;

  /* "AS15169 Google LLC" */
  if (name != NULL && g_ascii_strncasecmp (name, "AS", 2) == 0)
    asn = (guint32)g_ascii_strtoull (name + 2, NULL, 10);
  free (name);
  return asn;
}

static void
legacy_lookup (PcGeo *self, const PcAddr *addr, PcGeoInfo *info)
{
  GeoIPLookup gl = { 0 };
  int id = 0;

  if (addr->family == AF_INET)
    {
      unsigned long ipnum = g_ntohl (addr->v4.s_addr);

      if (self->country_v4 != NULL)
        id = GeoIP_id_by_ipnum_gl (self->country_v4, ipnum, &gl);
      if (self->asn_v4 != NULL)
        info->asn = parse_asn_name (GeoIP_name_by_ipnum_gl (self->asn_v4, ipnum, &gl));
    }
  else
    {
      if (self->country_v6 != NULL)
        id = GeoIP_id_by_ipnum_v6_gl (self->country_v6, addr->v6, &gl);
      if (self->asn_v6 != NULL)
        info->asn = parse_asn_name (GeoIP_name_by_ipnum_v6_gl (self->asn_v6, addr->v6, &gl));
    }
  if (id > 0)
    {
      const char *cc = GeoIP_code_by_id (id);

      /* "A1" anonymous proxy, "A2" satellite, "AP"/"EU" regions, "O1" other: not countries */
      if (cc != NULL && strlen (cc) == 2 && g_ascii_isalpha (cc[1]) && strcmp (cc, "AP") != 0
          && strcmp (cc, "EU") != 0)
        {
          memcpy (info->country, cc, 3);
        }
    }
}
#endif

/* ---- opening ------------------------------------------------------------------------------ */

static gboolean
open_dir (
    PcGeo *self, const char *dir, GString *mmdb_opened, GString *legacy_opened, GError **error)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (d == NULL)
    return TRUE;
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, ".mmdb"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, (GCompareFunc)g_ascii_strcasecmp);
#ifdef HAVE_MAXMINDDB
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *file = g_build_filename (dir, g_ptr_array_index (names, i), NULL);

      if (!mmdb_open_file (self, file, mmdb_opened, error))
        return FALSE;
    }
  if (self->n_mmdb > 0)
    return TRUE;
#endif
#ifdef HAVE_GEOIP
  {
    g_autofree char *c4 = g_build_filename (dir, "GeoIP.dat", NULL);
    g_autofree char *c6 = g_build_filename (dir, "GeoIPv6.dat", NULL);
    g_autofree char *a4 = g_build_filename (dir, "GeoIPASNum.dat", NULL);
    g_autofree char *a6 = g_build_filename (dir, "GeoIPASNumv6.dat", NULL);

    self->country_v4 = legacy_open (c4, legacy_opened);
    self->country_v6 = legacy_open (c6, legacy_opened);
    self->asn_v4 = legacy_open (a4, legacy_opened);
    self->asn_v6 = legacy_open (a6, legacy_opened);
    self->has_country = self->country_v4 != NULL || self->country_v6 != NULL;
    self->has_asn = self->asn_v4 != NULL || self->asn_v6 != NULL;
  }
#endif
  return TRUE;
}

static gboolean
open_file (
    PcGeo *self, const char *file, GString *mmdb_opened, GString *legacy_opened, GError **error)
{
  if (!g_file_test (file, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, PC_ERROR, PC_ERROR_NOT_FOUND, "geo database %s does not exist", file);
      return FALSE;
    }
#ifdef HAVE_MAXMINDDB
  if (g_str_has_suffix (file, ".mmdb"))
    return mmdb_open_file (self, file, mmdb_opened, error);
#endif
#ifdef HAVE_GEOIP
  if (g_str_has_suffix (file, ".dat"))
    {
      GeoIP *gi = GeoIP_open (file, GEOIP_MMAP_CACHE | GEOIP_SILENCE);
      unsigned char edition;

      if (gi == NULL)
        {
          g_set_error (error, PC_ERROR, PC_ERROR_CORRUPT, "cannot open legacy GeoIP database %s",
                       file);
          return FALSE;
        }
      edition = GeoIP_database_edition (gi);
      if (edition == GEOIP_COUNTRY_EDITION)
        self->country_v4 = gi;
      else if (edition == GEOIP_COUNTRY_EDITION_V6)
        self->country_v6 = gi;
      else if (edition == GEOIP_ASNUM_EDITION)
        self->asn_v4 = gi;
      else if (edition == GEOIP_ASNUM_EDITION_V6)
        self->asn_v6 = gi;
      else
        {
          GeoIP_delete (gi);
          g_set_error (error, PC_ERROR, PC_ERROR_CORRUPT,
                       "legacy GeoIP database %s is edition %u, not country or ASN", file, edition);
          return FALSE;
        }
      g_string_append (legacy_opened, file);
      self->has_country = self->country_v4 != NULL || self->country_v6 != NULL;
      self->has_asn = self->asn_v4 != NULL || self->asn_v6 != NULL;
      return TRUE;
    }
#endif
  g_set_error (error, PC_ERROR, PC_ERROR_INVALID_SETTING,
               "geo database %s: not a format this build reads (.mmdb%s)", file,
#ifdef HAVE_GEOIP
               ", legacy GeoIP .dat"
#else
               ""
#endif
  );
  return FALSE;
}

PcGeo *
pc_geo_open (const char *path, GError **error)
{
  PcGeo *self = g_new0 (PcGeo, 1);
  g_autoptr (GString) mmdb_opened = g_string_new (NULL);
  g_autoptr (GString) legacy_opened = g_string_new (NULL);
  g_autoptr (GString) where = g_string_new (NULL);
  g_autoptr (GError) local_error = NULL;
  const char *what;

  g_atomic_ref_count_init (&self->ref_count);
  if (path != NULL && *path != '\0')
    {
      g_string_append (where, path);
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        open_dir (self, path, mmdb_opened, legacy_opened, &local_error);
      else
        open_file (self, path, mmdb_opened, legacy_opened, &local_error);
    }
  else
    for (guint i = 0; i < G_N_ELEMENTS (default_dirs) && local_error == NULL; i++)
      {
        g_string_append_printf (where, "%s%s", i > 0 ? ", " : "", default_dirs[i]);
        if (!open_dir (self, default_dirs[i], mmdb_opened, legacy_opened, &local_error))
          break;
        if (self->has_country || self->has_asn)
          break;
      }

  what = self->has_country && self->has_asn ? "country, continent, ASN"
         : self->has_country                ? "country, continent; no ASN data"
         : self->has_asn                    ? "ASN; no country data"
                                            : NULL;
  if (local_error != NULL)
    self->status = g_strdup_printf ("%s: country, continent and ASN rules cannot match",
                                    local_error->message);
  else if (what == NULL)
    {
      self->status = g_strdup_printf ("no geo database in %s (install geoip-database, or set "
                                      "geo-database to a .mmdb file): country, continent and "
                                      "ASN rules cannot match",
                                      where->str);
      g_set_error (&local_error, PC_ERROR, PC_ERROR_UNAVAILABLE, "%s", self->status);
    }
  else if (mmdb_opened->len > 0)
    self->status = g_strdup_printf ("MaxMind DB %s: %s", mmdb_opened->str, what);
  else
    self->status = g_strdup_printf ("legacy GeoIP %s: %s", legacy_opened->str, what);

  if (local_error != NULL)
    g_propagate_error (error, g_steal_pointer (&local_error));
  return self;
}

gboolean
pc_geo_lookup (PcGeo *self, const PcAddr *addr, PcGeoInfo *info)
{
  PcAddr a = *addr;

  memset (info, 0, sizeof *info);
  pc_addr_unmap (&a);
  if (a.family != AF_INET && a.family != AF_INET6)
    return FALSE;
#ifdef HAVE_MAXMINDDB
  if (self->n_mmdb > 0)
    mmdb_lookup (self, &a, info);
#endif
#ifdef HAVE_GEOIP
  legacy_lookup (self, &a, info);
#endif
  if (info->continent[0] == '\0' && info->country[0] != '\0')
    {
      const char *c = pc_geo_continent_of_country (info->country);

      if (c != NULL)
        g_strlcpy (info->continent, c, sizeof info->continent);
    }
  return info->country[0] != '\0' || info->asn != 0;
}

gboolean
pc_geo_has_country (PcGeo *self)
{
  return self->has_country;
}

gboolean
pc_geo_has_asn (PcGeo *self)
{
  return self->has_asn;
}

const char *
pc_geo_get_status (PcGeo *self)
{
  return self->status;
}
