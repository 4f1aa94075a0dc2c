#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter lists and geo data in the packet path: the user's custom list blocks through the
filter-lists setting, and country rules match with a geo database (a small MMDB made here with
MaxMind's writer); connections carry their country."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from pctest import BUILD_DIR, SOURCE_DIR, client_tool, pcsandbox, require_root

POLICY = os.path.join(SOURCE_DIR, 'data', 'org.portcullis.Portcullis1.policy')
CTL = os.path.join(BUILD_DIR, 'app', 'cli', 'portcullisctl')
NAME = 'org.portcullis.Portcullis1'
P4, PUB4 = pcsandbox.PEER_V4, pcsandbox.PUBLIC_V4

MMDB_SCRIPT = r'''
use strict; use warnings; use MaxMind::DB::Writer::Tree;
my %t = (country => 'map', continent => 'map', iso_code => 'utf8_string', code => 'utf8_string',
         autonomous_system_number => 'uint32');
my $tree = MaxMind::DB::Writer::Tree->new(ip_version => 6, record_size => 24,
  database_type => 'Portcullis-Test', languages => ['en'], description => { en => 't' },
  map_key_type_callback => sub { $t{ $_[0] } }, alias_ipv6_to_ipv4 => 1,
  remove_reserved_networks => 0);
$tree->insert_network('203.0.113.0/24', { country => { iso_code => 'AT' },
                                          continent => { code => 'EU' },
                                          autonomous_system_number => 64500 });
open my $fh, '>:raw', $ARGV[0] or die; $tree->write_tree($fh); close $fh or die;
'''


class ListsGeoTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_root()
        cls.tmp = tempfile.mkdtemp(prefix='pc-lists-geo-')
        os.chmod(cls.tmp, 0o755)
        cls.custom = os.path.join(cls.tmp, 'custom.txt')
        with open(cls.custom, 'w') as f:
            f.write('# my own list\n10.77.0.1\n')
        cls.mmdb = os.path.join(cls.tmp, 'test.mmdb')
        subprocess.run(['perl', '-e', MMDB_SCRIPT, cls.mmdb], check=True)
        cls.sb = pcsandbox.Sandbox(
            BUILD_DIR, polkit_policies=[POLICY],
            settings=f'[global]\ndefault-action=allow\ncustom-list={cls.custom}\n'
                     f'filter-lists=CUSTOM;\ngeo-database={cls.mmdb}\nendpoints=- AT tcp/8080;\n')
        cls.sb.start()
        cls.sb.wait_for_name(NAME, 10, cls.sb.helper_proc, cls.sb.helper_log_path)

    @classmethod
    def tearDownClass(cls):
        cls.sb.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def connection(self, port, host):
        r = self.sb.client_run([CTL, '--json', 'connections'], cgroup=False)
        conns = [c for c in json.loads(r.stdout)
                 if c['remote-port'] == port and c['remote-address'] == host]
        self.assertTrue(conns, r.stdout)
        return conns[-1]

    def test_custom_list_blocks_through_filter_lists(self):
        r = client_tool(self.sb, 'tcp', P4, 80)
        self.assertFalse(r['ok'], r)
        self.assertIn('filter list CUSTOM', self.connection(80, P4)['reason'])
        # an address that is not on the list is not blocked by it
        self.assertTrue(client_tool(self.sb, 'tcp', PUB4, 80)['ok'])

    def test_country_rule_and_connection_country(self):
        r = client_tool(self.sb, 'tcp', PUB4, 8080)
        self.assertFalse(r['ok'], r)
        c = self.connection(8080, PUB4)
        self.assertEqual(c['country'], 'AT')
        self.assertIn("'- AT tcp/8080'", c['reason'])
        self.assertTrue(client_tool(self.sb, 'tcp', PUB4, 80)['ok'])
        self.assertEqual(self.connection(80, PUB4)['country'], 'AT')


if __name__ == '__main__':
    pcsandbox.unittest_main()
