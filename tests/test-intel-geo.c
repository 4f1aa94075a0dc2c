/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Geo/ASN lookups (helper/intel/pc-geo.c):
 *   - MaxMind DB: a tiny database made here with MaxMind's own writer (Debian package
 *     libmaxmind-db-writer-perl, MaxMind::DB::Writer::Tree; see make_mmdb()) with documentation
 *     networks mapped to known countries and ASNs;
 *   - the legacy format: Debian's real geoip-database (/usr/share/GeoIP/GeoIP.dat, GeoIPv6.dat);
 *   - no database, a corrupt one, a missing file: reported in the status, lookups answer nothing. */
#define G_LOG_DOMAIN "portcullis-intel"

#include <glib/gstdio.h>
#include <string.h>

#include "pc-error.h"
#include "pc-geo.h"

#define DEBIAN_GEOIP_DIR "/usr/share/GeoIP"

/* Writes DIR/NAME.mmdb. networks: "CIDR country continent asn" lines ("-" for absent). */
static char *
make_mmdb (const char *dir, const char *name, const char *networks)
{
  static const char script[]
      = "use strict; use warnings; use MaxMind::DB::Writer::Tree;\n"
        "my %t = (country => 'map', continent => 'map', iso_code => 'utf8_string',\n"
        "  code => 'utf8_string', autonomous_system_number => 'uint32');\n"
        "my $tree = MaxMind::DB::Writer::Tree->new(ip_version => 6, record_size => 24,\n"
        "  database_type => 'Portcullis-Test', languages => ['en'], description => { en => 't' },\n"
        "  map_key_type_callback => sub { $t{ $_[0] } }, alias_ipv6_to_ipv4 => 1,\n"
        "  remove_reserved_networks => 0);\n"
        "for my $line (split /\\n/, $ENV{NETWORKS}) {\n"
        "  my ($net, $cc, $cont, $asn) = split ' ', $line; my %d;\n"
        "  $d{country} = { iso_code => $cc } if $cc ne '-';\n"
        "  $d{continent} = { code => $cont } if $cont ne '-';\n"
        "  $d{autonomous_system_number} = $asn + 0 if $asn ne '-';\n"
        "  $tree->insert_network($net, \\%d); }\n"
        "open my $fh, '>:raw', $ARGV[0] or die; $tree->write_tree($fh); close $fh or die;\n";
  g_autoptr (GError) error = NULL;
  g_autofree char *file_name = g_strconcat (name, ".mmdb", NULL);
  char *path = g_build_filename (dir, file_name, NULL);
  g_auto (GStrv) env = g_environ_setenv (g_get_environ (), "NETWORKS", networks, TRUE);
  const char *argv[] = { "perl", "-e", script, path, NULL };
  g_autofree char *err = NULL;
  int status = 0;

  g_assert_true (g_spawn_sync (NULL, (char **)argv, env, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                               &err, &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("could not write a test MMDB with MaxMind::DB::Writer (Debian package "
             "libmaxmind-db-writer-perl): %s",
             err);
  return path;
}

static PcGeoInfo
lookup (PcGeo *geo, const char *text, gboolean expect_found)
{
  PcAddr a;
  PcGeoInfo info;

  g_assert_true (pc_addr_parse (text, &a));
  g_assert_cmpint (pc_geo_lookup (geo, &a, &info), ==, expect_found);
  return info;
}

static void
rm_rf (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *p = g_build_filename (dir, name, NULL);

      g_unlink (p);
    }
  g_rmdir (dir);
}

static void
test_mmdb (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-geo-XXXXXX", NULL);
  g_autofree char *path = make_mmdb (dir, "test",
                                     "192.0.2.0/24 AT EU 64500\n"
                                     "2001:db8::/32 JP AS 64501\n"
                                     "203.0.113.0/24 DE - -\n"
                                     "198.18.0.0/15 - - 64502\n");
  g_autoptr (PcGeo) geo = pc_geo_open (path, &error);
  PcGeoInfo info;

  g_assert_no_error (error);
  g_assert_true (pc_geo_has_country (geo));
  g_assert_true (pc_geo_has_asn (geo));
  g_assert_nonnull (strstr (pc_geo_get_status (geo), "MaxMind DB"));
  g_assert_nonnull (strstr (pc_geo_get_status (geo), path));

  info = lookup (geo, "192.0.2.77", TRUE);
  g_assert_cmpstr (info.country, ==, "AT");
  g_assert_cmpstr (info.continent, ==, "EU");
  g_assert_cmpuint (info.asn, ==, 64500);
  info = lookup (geo, "::ffff:192.0.2.1", TRUE);
  g_assert_cmpstr (info.country, ==, "AT");
  info = lookup (geo, "2001:db8:1::1", TRUE);
  g_assert_cmpstr (info.country, ==, "JP");
  g_assert_cmpstr (info.continent, ==, "AS");
  g_assert_cmpuint (info.asn, ==, 64501);
  /* the continent of a country-only entry comes from the country */
  info = lookup (geo, "203.0.113.9", TRUE);
  g_assert_cmpstr (info.country, ==, "DE");
  g_assert_cmpstr (info.continent, ==, "EU");
  g_assert_cmpuint (info.asn, ==, 0);
  /* ASN only */
  info = lookup (geo, "198.19.1.1", TRUE);
  g_assert_cmpstr (info.country, ==, "");
  g_assert_cmpuint (info.asn, ==, 64502);
  /* not in the database */
  info = lookup (geo, "198.51.100.1", FALSE);
  g_assert_cmpstr (info.country, ==, "");
  g_assert_cmpstr (info.continent, ==, "");
  lookup (geo, "2001:db9::1", FALSE);

  /* the directory finds it too */
  {
    g_autoptr (PcGeo) by_dir = pc_geo_open (dir, &error);

    g_assert_no_error (error);
    info = lookup (by_dir, "192.0.2.1", TRUE);
    g_assert_cmpstr (info.country, ==, "AT");
  }
  g_unlink (path);
  rm_rf (dir);
}

static void
test_legacy_debian (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (PcGeo) geo = pc_geo_open (DEBIAN_GEOIP_DIR, &error);
  PcGeoInfo info;

  g_assert_no_error (error);
  g_assert_true (pc_geo_has_country (geo));
  /* Debian 12 ships no legacy ASN database: that must be said, not hidden */
  g_assert_false (pc_geo_has_asn (geo));
  g_assert_nonnull (strstr (pc_geo_get_status (geo), "legacy GeoIP"));
  g_assert_nonnull (strstr (pc_geo_get_status (geo), "no ASN data"));

  /* well-known, long-stable allocations */
  info = lookup (geo, "8.8.8.8", TRUE);
  g_assert_cmpstr (info.country, ==, "US");
  g_assert_cmpstr (info.continent, ==, "NA");
  g_assert_cmpuint (info.asn, ==, 0);
  info = lookup (geo, "193.0.6.139", TRUE); /* RIPE NCC, Amsterdam */
  g_assert_cmpstr (info.country, ==, "NL");
  g_assert_cmpstr (info.continent, ==, "EU");
  info = lookup (geo, "2001:4860:4860::8888", TRUE);
  g_assert_cmpstr (info.country, ==, "US");
  /* private addresses have no country */
  lookup (geo, "10.1.2.3", FALSE);

  /* one file by name */
  {
    g_autoptr (PcGeo) file = pc_geo_open (DEBIAN_GEOIP_DIR "/GeoIP.dat", &error);

    g_assert_no_error (error);
    info = lookup (file, "8.8.8.8", TRUE);
    g_assert_cmpstr (info.country, ==, "US");
    /* that file has no IPv6 data */
    lookup (file, "2001:4860:4860::8888", FALSE);
  }
}

static void
test_missing (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-geo-XXXXXX", NULL);
  g_autofree char *bad = g_build_filename (dir, "broken.mmdb", NULL);
  g_autofree char *nothing = g_build_filename (dir, "nothing.mmdb", NULL);

  /* an empty directory */
  {
    g_autoptr (PcGeo) geo = pc_geo_open (dir, &error);

    g_assert_error (error, PC_ERROR, PC_ERROR_UNAVAILABLE);
    g_clear_error (&error);
    g_assert_false (pc_geo_has_country (geo));
    g_assert_false (pc_geo_has_asn (geo));
    g_assert_nonnull (strstr (pc_geo_get_status (geo), "no geo database"));
    lookup (geo, "8.8.8.8", FALSE);
  }
  /* a file that does not exist */
  {
    g_autoptr (PcGeo) geo = pc_geo_open (nothing, &error);

    g_assert_error (error, PC_ERROR, PC_ERROR_NOT_FOUND);
    g_clear_error (&error);
    g_assert_nonnull (strstr (pc_geo_get_status (geo), "does not exist"));
  }
  /* a corrupt one */
  g_assert_true (g_file_set_contents (bad, "this is not a MaxMind DB", -1, NULL));
  {
    g_autoptr (PcGeo) geo = pc_geo_open (bad, &error);

    g_assert_error (error, PC_ERROR, PC_ERROR_CORRUPT);
    g_clear_error (&error);
    g_assert_nonnull (strstr (pc_geo_get_status (geo), "broken.mmdb"));
    g_assert_false (pc_geo_has_country (geo));
    lookup (geo, "192.0.2.1", FALSE);
  }
  g_assert_cmpstr (pc_geo_continent_of_country ("AT"), ==, "EU");
  g_assert_cmpstr (pc_geo_continent_of_country ("BR"), ==, "SA");
  g_assert_null (pc_geo_continent_of_country ("ZZ"));
  rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/geo/mmdb", test_mmdb);
  g_test_add_func ("/geo/legacy-debian", test_legacy_debian);
  g_test_add_func ("/geo/missing", test_missing);
  return g_test_run ();
}
