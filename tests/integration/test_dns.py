#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The local resolver inside portcullisd: a real unbound in the peer namespace serves the zone
test. over plain DNS, DoT and DoH with a certtool-made CA; portcullisd in the client namespace
resolves through it (configured by the dns-* settings), redirects astray port-53 queries to
itself (nat chain PORTCULLIS-DNS, its own upstream traffic exempt by mark), strips rebinding
answers, follows setting changes live, answers GetDnsStatus / QueryDns / FlushDnsCache on D-Bus
(authorized by the real polkitd) and `portcullisctl dns`, and removes its chain on exit."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from pctest import (BUILD_DIR, PYTHON, SOURCE_DIR, client_tool, pcsandbox, require_root,
                    start_unbound, stop_process, wait_for_flow, wait_until)

P4 = pcsandbox.PEER_V4
LISTEN = '127.0.0.17'
POLICY = os.path.join(SOURCE_DIR, 'data', 'org.portcullis.Portcullis1.policy')
PCDBUS = os.path.join(SOURCE_DIR, 'tests', 'integration', 'pcdbus.py')
CTL = os.path.join(BUILD_DIR, 'app', 'cli', 'portcullisctl')
NAME = 'org.portcullis.Portcullis1'
# a DNS question for www.test from python (another executable than kdig), printing the rcode and
# the first A record
PY_QUERY = (
    'import socket, struct, sys\n'
    'name = sys.argv[1]\n'
    'q = b"\\x12\\x34\\x01\\x00\\x00\\x01\\x00\\x00\\x00\\x00\\x00\\x00"\n'
    'q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\\x00\\x00\\x01\\x00\\x01"\n'
    's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n'
    's.settimeout(5)\n'
    f's.sendto(q, ("{LISTEN}", 53))\n'
    'r = s.recv(4096)\n'
    'rcode = r[3] & 15\n'
    'ancount = struct.unpack("!H", r[6:8])[0]\n'
    'addr = socket.inet_ntoa(r[-4:]) if ancount else ""\n'
    'print(rcode, addr)\n')

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
    'local-data: "alias.test. 300 IN CNAME www.test."',
    'local-data: "mail.test. 300 IN MX 10 mx.test."',
    "local-data: 'txt.test. 300 IN TXT \"hello world\"'",
]


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
        ca = os.path.join(cls.dir, 'ca.pem')
        # the first upstream is down (nothing on 10.77.0.1:8853): failover to DoT, then DoH
        cls.servers = [f'dot://dns.test:8853?ip={P4}&ca={ca}',
                       f'dot://dns.test?ip={P4}&ca={ca}&name=peer-dot',
                       f'doh://dns.test/dns-query?ip={P4}&ca={ca}&name=peer-doh']
        cls.sb = pcsandbox.Sandbox(BUILD_DIR, helper=False, polkit_policies=[POLICY],
                                   settings={'default-action': 'allow',
                                             'block-localhost': True,
                                             'custom-list': custom,
                                             'filter-lists': ['CUSTOM'],
                                             'endpoints': ['- web.test tcp/8080',
                                                           '- .ads.test'],
                                             'dns-servers': cls.servers,
                                             'dns-listen': [f'{LISTEN}:53']})
        cls.sb.start()
        cls.unbound = start_unbound(cls.sb, conf, os.path.join(cls.dir, 'unbound.log'))
        # the shipped lists: DNS-BYPASS names the public DoH servers
        cls.sb.start_helper(['--lists-dir', os.path.join(SOURCE_DIR, 'data', 'lists')])
        cls.sb.wait_for_name(NAME, 10, cls.sb.helper_proc, cls.sb.helper_log_path)

    @classmethod
    def tearDownClass(cls):
        sb = getattr(cls, 'sb', None)
        if sb is not None:
            stop_process(getattr(cls, 'unbound', None))
            sb.close()
        if getattr(cls, 'dir', None):
            shutil.rmtree(cls.dir, ignore_errors=True)

    def kdig(self, *args):
        res = self.sb.client_run(['kdig', '+short', '+time=5', '+retry=0', *args], timeout=20)
        return res.stdout.split()

    def call(self, method, args=None, ok=True):
        res = self.sb.client_run([PYTHON, PCDBUS, 'call', method, *([args] if args else [])],
                                 timeout=30)
        lines = [json.loads(l) for l in res.stdout.splitlines() if l.startswith('{')]
        self.assertTrue(lines, f'pcdbus {method} printed nothing: {res.stderr}')
        r = lines[-1]
        if ok:
            self.assertTrue(r.get('ok'), f'{method} {args}: {r}')
            return r['result'][0] if r['result'] else None
        return r

    def query(self, name, rtype='A'):
        return self.call('QueryDns', f"('{name}', '{rtype}')")

    def ctl(self, *args):
        return self.sb.client_run([CTL, *args], timeout=30)

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

    def test_dbus_status(self):
        self.kdig(f'@{LISTEN}', 'www.test', 'A')
        st = self.call('GetDnsStatus')
        self.assertTrue(st['enabled'])
        self.assertTrue(st['running'])
        self.assertEqual(st['listen'], [f'{LISTEN}:53'])
        self.assertEqual(st['listen-error'], '')
        self.assertTrue(st['intercepting'])
        self.assertTrue(st['block-rebinding'])
        self.assertEqual(st['block-reply'], 'nxdomain')
        self.assertTrue(st['bypass-prevention'])
        ups = st['upstreams']
        # the configured ones in order, then the resolv.conf servers (they answer local names)
        self.assertEqual([u['url'] for u in ups][:3], self.servers)
        self.assertEqual([u['name'] for u in ups][:3], [self.servers[0], 'peer-dot', 'peer-doh'])
        self.assertEqual([u['transport'] for u in ups], ['dot', 'dot', 'doh']
                         + ['system'] * (len(ups) - 3))
        # the first is down: tried and failed; the second answers
        self.assertFalse(ups[0]['reachable'])
        self.assertGreater(ups[0]['failures'], 0)
        self.assertNotEqual(ups[0]['last-error'], '')
        self.assertTrue(ups[1]['reachable'])
        self.assertGreater(ups[1]['queries'], 0)
        self.assertGreater(ups[1]['latency-us'], 0)
        self.assertEqual(ups[1]['last-error'], '')
        self.assertGreater(st['cache']['entries'], 0)
        self.assertGreater(st['cache']['memory'], 0)
        self.assertGreater(st['cache']['misses'], 0)
        status = self.call('Status')
        self.assertEqual(status['dns'], 'running, intercepting')
        # listening on IPv4 only: IPv6 queries to other servers are not redirected, and it says so
        self.assertTrue(any('IPv6 DNS queries' in d for d in status['degraded']), status)

    def test_dbus_query_cache_and_flush(self):
        self.call('FlushDnsCache')
        r = self.query('www.test', 'A')
        self.assertEqual(r['rcode'], 'NOERROR')
        self.assertRegex(r['answers'][0], r'^www\.test\. (300|29\d) A 203\.0\.113\.5$')
        self.assertEqual(r['upstream'], 'peer-dot')
        self.assertFalse(r['cached'])
        self.assertFalse(r['blocked'])
        self.assertEqual(r['reason'], '')
        self.assertGreater(r['elapsed-us'], 0)
        again = self.query('www.test.', 'a')
        self.assertTrue(again['cached'])
        self.assertEqual(again['upstream'], '')
        self.assertEqual(len(again['answers']), 1)
        cname = self.query('news.test', 'CNAME')
        self.assertTrue(cname['blocked'])  # the CNAME target is on the custom list
        flushed = self.call('FlushDnsCache')
        self.assertGreaterEqual(flushed, 1)
        self.assertEqual(self.call('GetDnsStatus')['cache']['entries'], 0)
        self.assertFalse(self.query('www.test')['cached'])
        nx = self.query('nothere.test', 'AAAA')
        self.assertEqual(nx['rcode'], 'NXDOMAIN')
        self.assertEqual(nx['answers'], [])
        # presentation forms
        # (unbound's static local zone does not follow the CNAME within itself)
        self.assertRegex(self.query('alias.test')['answers'][0],
                         r'^alias\.test\. \d+ CNAME www\.test\.$')
        self.assertRegex(self.query('mail.test', 'MX')['answers'][0],
                         r'^mail\.test\. \d+ MX 10 mx\.test\.$')
        self.assertRegex(self.query('txt.test', 'TXT')['answers'][0],
                         r'^txt\.test\. \d+ TXT "hello world"$')

    def test_dbus_query_blocked_and_errors(self):
        r = self.query('x.ads.test')
        self.assertTrue(r['blocked'])
        self.assertEqual(r['rcode'], 'NXDOMAIN')
        self.assertIn('- .ads.test', r['reason'])
        r = self.query('use-application-dns.net')
        self.assertTrue(r['blocked'])
        self.assertIn('canary', r['reason'])
        bad = self.call('QueryDns', "('www.test', 'BOGUS')", ok=False)
        self.assertEqual(bad['error'], 'org.portcullis.Portcullis1.Error.InvalidArgs', bad)
        self.assertIn("'BOGUS'", bad['message'])
        bad = self.call('QueryDns', "('a..b', 'A')", ok=False)
        self.assertEqual(bad['error'], 'org.portcullis.Portcullis1.Error.InvalidArgs', bad)

    def test_live_settings(self):
        # new upstreams without a restart: only DoH now
        pid = self.sb.helper_proc.pid
        try:
            self.call('SetSetting', f"('dns-servers', <['{self.servers[2]}']>)")
            st = self.call('GetDnsStatus')
            self.assertEqual([u['name'] for u in st['upstreams']
                              if u['transport'] != 'system'], ['peer-doh'])
            r = self.query('web.test')
            self.assertEqual(r['upstream'], 'peer-doh')
            self.assertEqual(r['answers'], ['web.test. 300 A 203.0.113.10'])
            self.assertEqual(self.kdig(f'@{LISTEN}', 'www.test', 'A'), ['203.0.113.5'])
            # blocked names get 0.0.0.0 instead of NXDOMAIN
            self.call('SetSetting', "('dns-block-reply', <'zero'>)")
            r = self.query('ads.test')
            self.assertTrue(r['blocked'])
            self.assertEqual((r['rcode'], r['answers']), ('NOERROR', ['ads.test. 60 A 0.0.0.0']))
            self.assertEqual(self.kdig(f'@{LISTEN}', 'ads.test', 'A'), ['0.0.0.0'])
            # a bad URL is refused and changes nothing
            bad = self.call('SetSetting', "('dns-servers', <['dot://dns.test?bogus=1']>)", ok=False)
            self.assertEqual(bad['error'], 'org.portcullis.Portcullis1.Error.InvalidSetting', bad)
            self.assertIn('unknown parameter bogus', bad['message'])
        finally:
            self.call('ResetSetting', "('dns-servers',)")
            self.call('ResetSetting', "('dns-block-reply',)")
        st = self.call('GetDnsStatus')
        self.assertEqual([u['name'] for u in st['upstreams']][1:3], ['peer-dot', 'peer-doh'])
        self.assertEqual(st['block-reply'], 'nxdomain')
        self.assertEqual(self.kdig(f'@{LISTEN}', 'ads.test', 'A'), [])
        self.assertEqual(self.sb.helper_proc.pid, pid)
        self.assertIsNone(self.sb.helper_proc.poll())

    def test_listen_address_taken(self):
        # another program holds 127.0.0.18:53: the resolver moves to both addresses, says which
        # one it could not take, and keeps answering on the other
        holder = self.sb.client([PYTHON, '-c', 'import socket, time\n'
                                 's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n'
                                 's.bind(("127.0.0.18", 53))\n'
                                 'print("bound", flush=True)\n'
                                 'time.sleep(60)\n'], stdout=subprocess.PIPE, text=True)
        try:
            self.assertEqual(holder.stdout.readline().strip(), 'bound')
            self.call('SetSetting', f"('dns-listen', <['{LISTEN}:53', '127.0.0.18:53']>)")
            st = self.call('GetDnsStatus')
            self.assertEqual(st['listen'], [f'{LISTEN}:53'])
            self.assertIn('127.0.0.18:53', st['listen-error'])
            self.assertIn('Address already in use', st['listen-error'])
            self.assertTrue(st['intercepting'])
            degraded = self.call('Status')['degraded']
            self.assertTrue(any('cannot listen on 127.0.0.18:53' in d for d in degraded), degraded)
            self.assertEqual(self.kdig(f'@{LISTEN}', 'www.test', 'A'), ['203.0.113.5'])
            # every address taken: the resolver cannot run; DNS is left alone (no redirect)
            self.call('SetSetting', "('dns-listen', <['127.0.0.18:53']>)")
            st = self.call('GetDnsStatus')
            self.assertEqual((st['running'], st['intercepting'], st['listen']), (False, False, []))
            self.assertIn('127.0.0.18:53', st['listen-error'])
            self.assertEqual(self.call('Status')['dns'], 'not running')
            nat = self.sb.client_run(['iptables-save', '-t', 'nat'], timeout=20).stdout
            self.assertNotIn('PORTCULLIS-DNS', nat)
        finally:
            holder.kill()
            holder.wait()
            holder.stdout.close()
            self.call('ResetSetting', "('dns-listen',)")
        st = self.call('GetDnsStatus')
        self.assertEqual((st['listen'], st['listen-error']), ([f'{LISTEN}:53'], ''))
        self.assertEqual(self.kdig(f'@{LISTEN}', 'www.test', 'A'), ['203.0.113.5'])
        # the redirect follows the resolver
        self.assertEqual(self.kdig(f'@{P4}', 'web.test', 'A'), ['203.0.113.10'])

    def test_per_app_dns_policy(self):
        # kdig's first query makes its profile; a rule of that profile refuses www.test for kdig
        # only: python asking the same resolver for the same name gets the address
        self.assertEqual(self.kdig(f'@{LISTEN}', 'www.test', 'A'), ['203.0.113.5'])
        kdig_exe = os.path.realpath(shutil.which('kdig'))

        def kdig_profile():
            for p in self.call('ListProfiles'):
                if f'path:{kdig_exe}' in p.get('fingerprints', []):
                    return p
            return None
        profile = wait_until(kdig_profile, what='a profile for kdig')
        self.call('AddRule', f"('{profile['id']}', false, '- www.test')")
        try:
            res = self.sb.client_run(['kdig', '+time=5', '+retry=0', f'@{LISTEN}', 'www.test',
                                      'A'], timeout=20)
            self.assertIn('NXDOMAIN', res.stdout)
            py = self.sb.client_run([PYTHON, '-c', PY_QUERY, 'www.test'], timeout=20)
            self.assertEqual(py.stdout.split(), ['0', '203.0.113.5'], py.stderr)
            self.assertRegex(self.sb.helper_log(since_start=True),
                             r"blocked www\.test for pid \d+: profile 'kdig' endpoints rule 1")
        finally:
            self.call('RemoveRule', f"('{profile['id']}', false, '- www.test')")
        self.assertEqual(self.kdig(f'@{LISTEN}', 'www.test', 'A'), ['203.0.113.5'])

    def test_bypass_prevention(self):
        # on by default: a known DoH server's name is refused by the resolver, DNS over TLS to any
        # server and DoH servers' addresses on 443 are blocked for apps, while the resolver's own
        # DoT to the peer's port 853 goes on
        res = self.sb.client_run(['kdig', '+time=5', '+retry=0', f'@{LISTEN}', 'dns.google', 'A'],
                                 timeout=20)
        self.assertIn('NXDOMAIN', res.stdout)
        r = self.query('mozilla.cloudflare-dns.com', 'AAAA')
        self.assertTrue(r['blocked'])
        self.assertIn('dns-bypass-prevention: a public DNS-over-HTTPS server', r['reason'])
        self.assertFalse(client_tool(self.sb, 'tcp', P4, 853, '--timeout', '3')['ok'])
        f = wait_for_flow(self.sb, lambda f: f['remote'] == f'{P4}:853' and f['comm'] != ''
                          and f['verdict'] == 'block')
        self.assertIn('dns-bypass-prevention: DNS over TLS/QUIC (port 853)', f['reason'])
        self.assertFalse(client_tool(self.sb, 'tcp', '1.1.1.1', 443, '--timeout', '3')['ok'])
        f = wait_for_flow(self.sb, lambda f: f['remote'] == '1.1.1.1:443')
        self.assertEqual(f['verdict'], 'block')
        self.assertIn('the address of a public DNS-over-HTTPS server', f['reason'])
        # the same address on another port is not DoH
        client_tool(self.sb, 'tcp', '1.1.1.1', 80, '--timeout', '1')
        f = wait_for_flow(self.sb, lambda f: f['remote'] == '1.1.1.1:80')
        self.assertNotIn('dns-bypass', f['reason'])
        self.call('FlushDnsCache')
        self.assertEqual(self.kdig(f'@{LISTEN}', 'www.test', 'A'), ['203.0.113.5'])
        # off: the same connection reaches unbound's DoT port, the names are not refused
        self.call('SetSetting', "('dns-bypass-prevention', <false>)")
        try:
            self.assertTrue(client_tool(self.sb, 'tcp', P4, 853, '--timeout', '3')['ok'])
            self.assertFalse(self.query('dns.google')['blocked'])
            self.assertFalse(self.call('GetDnsStatus')['bypass-prevention'])
            self.assertFalse(self.query('use-application-dns.net')['blocked'])
        finally:
            self.call('ResetSetting', "('dns-bypass-prevention',)")
        self.assertTrue(self.query('dns.google')['blocked'])

    def test_resolver_off_and_on(self):
        self.call('SetSetting', "('dns-resolver', <false>)")
        try:
            st = self.call('GetDnsStatus')
            self.assertEqual((st['enabled'], st['running'], st['listen']), (False, False, []))
            self.assertEqual(self.call('Status')['dns'], 'off')
            nat = self.sb.client_run(['iptables-save', '-t', 'nat'], timeout=20).stdout
            self.assertNotIn('PORTCULLIS-DNS', nat)
            res = self.sb.client_run(['kdig', '+time=1', '+retry=0', f'@{LISTEN}', 'www.test'],
                                     timeout=20)
            self.assertNotIn('NOERROR', res.stdout)
            r = self.call('QueryDns', "('www.test', 'A')", ok=False)
            self.assertEqual(r['error'], 'org.portcullis.Portcullis1.Error.Unavailable', r)
        finally:
            self.call('ResetSetting', "('dns-resolver',)")
        st = self.call('GetDnsStatus')
        self.assertEqual((st['running'], st['intercepting']), (True, True))
        self.assertEqual(self.kdig(f'@{LISTEN}', 'www.test', 'A'), ['203.0.113.5'])
        nat = self.sb.client_run(['iptables-save', '-t', 'nat'], timeout=20).stdout
        self.assertIn('PORTCULLIS-DNS', nat)

    def test_cli(self):
        r = self.ctl('dns', 'status')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, rf'Resolver +running on {LISTEN}:53; queries to other servers '
                                   'redirected to it')
        self.assertRegex(r.stdout, r'peer-dot +dot +reachable +\d+\.\d ms')
        self.assertRegex(r.stdout, r'Cache +\d+ entries')
        r = self.ctl('--json', 'dns', 'status')
        self.assertEqual(json.loads(r.stdout)['listen'], [f'{LISTEN}:53'])
        r = self.ctl('dns', 'query', 'mixed.test')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r'^mixed\.test\. \d+ A 203\.0\.113\.9\n;; NOERROR in ')
        r = self.ctl('dns', 'query', 'ads.test', 'AAAA')
        self.assertIn(';; NXDOMAIN', r.stdout)
        self.assertIn(";; blocked: global endpoints rule 2 '- .ads.test'", r.stdout)
        r = self.ctl('dns', 'query', 'www.test', 'NOPE')
        self.assertEqual(r.returncode, 1)
        self.assertIn("'NOPE' is not a DNS record type", r.stderr)
        r = self.ctl('dns', 'flush')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r'^flushed \d+ cache entries$')
        r = self.ctl('dns', 'query')
        self.assertEqual(r.returncode, 2)

    def test_zz_chain_removed_on_exit(self):
        nat = self.sb.client_run(['iptables-save', '-t', 'nat'], timeout=20).stdout
        self.assertIn('PORTCULLIS-DNS', nat)
        self.assertIn('--to-destination 127.0.0.17:53', nat)
        self.sb.stop_helper()
        nat = self.sb.client_run(['iptables-save', '-t', 'nat'], timeout=20).stdout
        self.assertNotIn('PORTCULLIS-DNS', nat)


if __name__ == '__main__':
    pcsandbox.unittest_main()
