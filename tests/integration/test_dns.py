#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The local resolver inside portcullisd: a real unbound in the peer namespace serves the zone
test. over plain DNS, DoT and DoH with a certtool-made CA; portcullisd in the client namespace
resolves through it, redirects astray port-53 queries to itself (nat chain PORTCULLIS-DNS, its own
upstream traffic exempt by mark), strips rebinding answers, and removes its chain on exit."""
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from pctest import BUILD_DIR, pcsandbox, require_root

P4 = pcsandbox.PEER_V4
LISTEN = '127.0.0.17'

ZONE = [
    'local-zone: "test." static',
    'local-data: "test. 3600 IN SOA ns.test. host.test. 1 3600 600 86400 60"',
    'local-data: "www.test. 300 IN A 203.0.113.5"',
    'local-data: "web.test. 300 IN A 203.0.113.10"',
    'local-data: "ads.test. 300 IN A 203.0.113.7"',
    'local-data: "cdn.test. 300 IN CNAME x.ads.test."',
    'local-data: "x.ads.test. 300 IN A 203.0.113.8"',
    'local-data: "pixel.tracker.test. 300 IN A 203.0.113.6"',
    'local-data: "news.test. 300 IN CNAME pixel.tracker.test."',
    'local-data: "evil.test. 300 IN A 192.168.7.7"',
    'local-data: "mixed.test. 300 IN A 10.9.9.9"',
    'local-data: "mixed.test. 300 IN A 203.0.113.9"',
]


def pcsandbox_read(path):
    with open(path) as f:
        return f.read()


def make_certs(d):
    def run(*argv):
        subprocess.run(['certtool', *argv], cwd=d, check=True, capture_output=True)
    with open(os.path.join(d, 'ca.tmpl'), 'w') as f:
        f.write('cn = "Portcullis Test CA"\nca\ncert_signing_key\nexpiration_days = 2\n')
    with open(os.path.join(d, 'srv.tmpl'), 'w') as f:
        f.write(f'cn = "dns.test"\ndns_name = "dns.test"\nip_address = "{P4}"\n'
                'tls_www_server\nsigning_key\nencryption_key\nexpiration_days = 2\n')
    run('--generate-privkey', '--key-type=ecdsa', '--outfile', 'ca.key')
    run('--generate-self-signed', '--load-privkey', 'ca.key', '--template', 'ca.tmpl',
        '--outfile', 'ca.pem')
    run('--generate-privkey', '--key-type=ecdsa', '--outfile', 'srv.key')
    run('--generate-certificate', '--load-privkey', 'srv.key', '--load-ca-certificate', 'ca.pem',
        '--load-ca-privkey', 'ca.key', '--template', 'srv.tmpl', '--outfile', 'srv.pem')


def unbound_conf(d):
    lines = ['server:',
             f'  interface: {P4}@53', f'  interface: {P4}@853', f'  interface: {P4}@443',
             '  tls-port: 853', '  https-port: 443',
             f'  tls-service-key: {d}/srv.key', f'  tls-service-pem: {d}/srv.pem',
             '  username: ""', '  chroot: ""', f'  directory: {d}', '  pidfile: ""',
             '  do-daemonize: no', '  use-syslog: no', f'  logfile: {d}/unbound.log',
             '  log-queries: yes', '  verbosity: 1', '  do-ip6: no',
             '  access-control: 0.0.0.0/0 allow', '  num-threads: 1']
    lines += ['  ' + z for z in ZONE]
    path = os.path.join(d, 'unbound.conf')
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return path


class DnsTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        require_root()
        cls.dir = tempfile.mkdtemp(prefix='pc-dns-it-')
        os.chmod(cls.dir, 0o755)
        make_certs(cls.dir)
        # the user's own filter list, enabled through filter-lists
        custom = os.path.join(cls.dir, 'custom.txt')
        with open(custom, 'w') as f:
            f.write('0.0.0.0 tracker.test\n')
        conf = unbound_conf(cls.dir)
        cls.sb = pcsandbox.Sandbox(BUILD_DIR, helper=False,
                                   settings={'default-action': 'allow',
                                             'block-localhost': True,
                                             'custom-list': custom,
                                             'filter-lists': ['CUSTOM'],
                                             'endpoints': ['- web.test tcp/8080',
                                                           '- .ads.test']})
        cls.sb.start()
        cls.unbound = cls.sb.peer(['unbound', '-d', '-c', conf], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        log = os.path.join(cls.dir, 'unbound.log')
        deadline = time.monotonic() + 10
        while not (os.path.exists(log) and 'start of service' in pcsandbox_read(log)):
            if time.monotonic() > deadline or cls.unbound.poll() is not None:
                raise RuntimeError('unbound did not start in the peer namespace')
            time.sleep(0.05)
        ca = os.path.join(cls.dir, 'ca.pem')
        # the first upstream is down (nothing on 10.77.0.1:8853): failover to DoT, then DoH
        servers = (f'dot://dns.test:8853?ip={P4}&ca={ca},'
                   f'dot://dns.test?ip={P4}&ca={ca}&name=peer-dot,'
                   f'doh://dns.test/dns-query?ip={P4}&ca={ca}')
        cls.sb.start_helper(['--dns-servers', servers, '--dns-listen', f'{LISTEN}:53'])

    @classmethod
    def tearDownClass(cls):
        sb = getattr(cls, 'sb', None)
        if sb is not None:
            if getattr(cls, 'unbound', None) is not None:
                cls.unbound.terminate()
                cls.unbound.wait(10)
            sb.close()
        if getattr(cls, 'dir', None):
            shutil.rmtree(cls.dir, ignore_errors=True)

    def kdig(self, *args):
        res = self.sb.client_run(['kdig', '+short', '+time=5', '+retry=0', *args], timeout=20)
        return res.stdout.split()

    def unbound_count(self, name):
        with open(os.path.join(self.dir, 'unbound.log')) as f:
            return f.read().count(f' {name}. A IN')

    def test_resolves_through_dot_after_failover(self):
        self.assertEqual(self.kdig(f'@{LISTEN}', 'www.test', 'A'), ['203.0.113.5'])
        log = self.sb.helper_log(since_start=True)
        self.assertIn('dns resolver started', log)
        self.assertIn('peer-dot', log)

    def test_astray_queries_are_redirected(self):
        # straight to the peer's port 53, UDP and TCP: answered by portcullis (the rebinding
        # guard strips the private address unbound gives out), not by unbound itself
        before = self.unbound_count('evil.test')
        self.assertEqual(self.kdig(f'@{P4}', 'evil.test', 'A'), [])
        self.assertEqual(self.kdig(f'@{P4}', '+tcp', 'evil.test', 'A'), [])
        # asked upstream once over TLS (then cached), never by the client itself over plain DNS
        self.assertLessEqual(self.unbound_count('evil.test') - before, 1)
        self.assertIn('rebinding guard: removed 192.168.7.7', self.sb.helper_log(since_start=True))

    def test_connections_named_and_judged_by_domain(self):
        # curl resolves through the machine's resolv.conf: the query goes astray, is redirected
        # to portcullis (allowed even with block-localhost on), and the connection that follows
        # carries the name, so a domain rule judges it
        ok = self.sb.client_run(['curl', '-sS', '-o', '/dev/null', '-w', '%{http_code}',
                                 '--max-time', '10', 'http://web.test/'], timeout=30)
        self.assertEqual(ok.stdout, '200', ok.stderr)
        blocked = self.sb.client_run(['curl', '-sS', '-o', '/dev/null', '--max-time', '10',
                                      'http://web.test:8080/'], timeout=30)
        self.assertNotEqual(blocked.returncode, 0)
        log = self.sb.helper_log(since_start=True)
        self.assertIn("reason=global endpoints rule 1 '- web.test tcp/8080'", log)
        self.assertRegex(log, r'reason=DNS query to Portcullis\' resolver')

    def test_blocked_names_refused_by_the_resolver(self):
        # a domain rule refuses the name itself and a CNAME that leads into it; other names and
        # names blocked only for connections to a port are answered
        for name in ('ads.test', 'x.ads.test', 'cdn.test'):
            res = self.sb.client_run(['kdig', '+time=5', '+retry=0', f'@{LISTEN}', name, 'A'],
                                     timeout=20)
            self.assertIn('NXDOMAIN', res.stdout, (name, res.stdout))
        self.assertEqual(self.kdig(f'@{LISTEN}', 'web.test', 'A'), ['203.0.113.10'])
        self.assertIn("- .ads.test", self.sb.helper_log(since_start=True))

    def test_filter_list_names_subdomains_and_cnames_refused(self):
        for name in ('pixel.tracker.test', 'news.test'):
            res = self.sb.client_run(['kdig', '+time=5', '+retry=0', f'@{LISTEN}', name, 'A'],
                                     timeout=20)
            self.assertIn('NXDOMAIN', res.stdout, (name, res.stdout))
        self.assertIn('filter list CUSTOM', self.sb.helper_log(since_start=True))

    def test_rebinding_keeps_public_addresses(self):
        self.assertEqual(self.kdig(f'@{LISTEN}', 'mixed.test', 'A'), ['203.0.113.9'])

    def test_canary_and_malformed(self):
        res = self.sb.client_run(['kdig', '+time=5', '+retry=0', f'@{LISTEN}',
                                  'use-application-dns.net'], timeout=20)
        self.assertIn('NXDOMAIN', res.stdout)
        # garbage to the resolver: FORMERR back, and it keeps answering
        script = ('import socket\n'
                  's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n'
                  's.settimeout(5)\n'
                  f's.sendto(bytes.fromhex("abcd01000001000000000000c00c00010001"), ("{LISTEN}", 53))\n'
                  'r = s.recv(512)\n'
                  'print(r[:2].hex(), r[3] & 15)\n')
        res = self.sb.client_run(['/usr/bin/python3', '-c', script], timeout=20)
        self.assertEqual(res.stdout.split(), ['abcd', '1'])
        self.assertEqual(self.kdig(f'@{LISTEN}', 'www.test', 'A'), ['203.0.113.5'])

    def test_zz_chain_removed_on_exit(self):
        nat = self.sb.client_run(['iptables-save', '-t', 'nat'], timeout=20).stdout
        self.assertIn('PORTCULLIS-DNS', nat)
        self.assertIn('--to-destination 127.0.0.17:53', nat)
        self.sb.stop_helper()
        nat = self.sb.client_run(['iptables-save', '-t', 'nat'], timeout=20).stdout
        self.assertNotIn('PORTCULLIS-DNS', nat)


if __name__ == '__main__':
    pcsandbox.unittest_main()
