#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Filter lists enabled per profile, end to end: the same listed name is refused to one program
and answered to another, both at the helper's resolver (the DNS policy asks the asking
process's profile) and on the packet path (a connection named by an earlier answer), with
`filter-lists` set globally and overridden in a profile (portcullisctl app set/unset).

The upstream is a real unbound in the peer namespace; the programs are kdig and curl and copies
of them at other paths (a different executable is a different program, so another profile)."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from pctest import (BUILD_DIR, PYTHON, SOURCE_DIR, flows, pcsandbox, require_root,
                    start_unbound, stop_process, wait_until)

P4 = pcsandbox.PEER_V4  # where unbound listens
PUB4 = pcsandbox.PUBLIC_V4  # the peer's public address (the rebinding guard drops private ones)
LISTEN = '127.0.0.18'
NAME = 'org.portcullis.Portcullis1'
POLICY = os.path.join(SOURCE_DIR, 'data', 'org.portcullis.Portcullis1.policy')
CTL = os.path.join(BUILD_DIR, 'app', 'cli', 'portcullisctl')
PCDBUS = os.path.join(SOURCE_DIR, 'tests', 'integration', 'pcdbus.py')
SIGN = [PYTHON, os.path.join(SOURCE_DIR, 'build-aux', 'pc-sign-index')]

ZONE = [
    'local-zone: "test." static',
    'local-data: "test. 3600 IN SOA ns.test. host.test. 1 3600 600 86400 60"',
    # the peer's web server, under a name on the TRAC list
    f'local-data: "tracker.test. 1 IN A {PUB4}"',
    'local-data: "fine.test. 300 IN A 203.0.113.5"',
]


def start_zone_unbound(sb, d):
    conf = os.path.join(d, 'unbound.conf')
    log = os.path.join(d, 'unbound.log')
    with open(conf, 'w') as f:
        f.write('\n'.join(['server:', f'  interface: {P4}@53', '  username: ""', '  chroot: ""',
                           f'  directory: {d}', '  pidfile: ""', '  do-daemonize: no',
                           '  use-syslog: no', f'  logfile: {log}', '  verbosity: 1',
                           '  do-ip6: no', '  access-control: 0.0.0.0/0 allow',
                           '  num-threads: 1'] + ['  ' + z for z in ZONE]) + '\n')
    return start_unbound(sb, conf, log)


class ResolverCase(unittest.TestCase):
    """A helper whose resolver forwards to unbound in the peer, with the lists of lists_dir()
    and the settings file SETTINGS."""
    SETTINGS = ''

    @classmethod
    def lists_dir(cls):
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        require_root()
        cls.dir = tempfile.mkdtemp(prefix='pc-lists-profiles-')
        os.chmod(cls.dir, 0o755)
        cls.sb = pcsandbox.Sandbox(BUILD_DIR, helper=False, polkit_policies=[POLICY],
                                   settings=cls.SETTINGS)
        cls.sb.start()
        cls.unbound = start_zone_unbound(cls.sb, cls.dir)
        cls.sb.start_helper(['--lists-dir', cls.lists_dir(), '--dns-servers', f'dns://{P4}',
                             '--dns-listen', f'{LISTEN}:53'])
        cls.sb.wait_for_name(NAME, 10, cls.sb.helper_proc, cls.sb.helper_log_path)

    @classmethod
    def tearDownClass(cls):
        sb = getattr(cls, 'sb', None)
        if sb is not None:
            stop_process(getattr(cls, 'unbound', None))
            sb.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def kdig(self, name, exe='kdig'):
        """The resolver's answer for name: its A addresses, or the response code."""
        r = self.sb.client_run([shutil.which(exe) if '/' not in exe else exe, '+time=5',
                                '+retry=0', f'@{LISTEN}', name, 'A'], timeout=20)
        if 'NXDOMAIN' in r.stdout:
            return 'NXDOMAIN'
        self.assertIn('NOERROR', r.stdout, r.stdout + r.stderr)
        return [f[4] for f in map(str.split, r.stdout.splitlines())
                if len(f) == 5 and f[0] == name + '.' and f[3] == 'A']


class ShippedDefaultsTests(ResolverCase):
    """A fresh install: the shipped settings.conf (every line a comment) and the shipped lists
    (data/lists, as installed to $datadir/portcullis/lists) refuse well-known ad and tracking
    names, and the documented test names of the other categories, at the resolver."""
    with open(os.path.join(SOURCE_DIR, 'data', 'settings.conf')) as f:
        SETTINGS = f.read()

    @classmethod
    def lists_dir(cls):
        return os.path.join(SOURCE_DIR, 'data', 'lists')

    def test_blocks_ads_and_trackers(self):
        for name in ('doubleclick.net', 'stats.g.doubleclick.net', 'www.google-analytics.com',
                     'googletagmanager.com', 'malware.testing.google.test',
                     'phishing.portcullis.test', 'coinhive.com'):
            self.assertEqual(self.kdig(name), 'NXDOMAIN', name)
        log = self.sb.helper_log(since_start=True)
        for cat in ('ADS', 'TRAC', 'MAL', 'PHISH', 'CRYPTOMINING'):
            self.assertIn(f'filter list {cat} (global)', log)
        # names on no list are answered by the upstream
        self.assertEqual(self.kdig('fine.test'), ['203.0.113.5'])
        # what a user sees
        r = self.sb.client_run([CTL, 'lists'], cgroup=False, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        for row in (r'ads +ADS +16 ', r'trac +TRAC +18 ', r'mal +MAL +5 ', r'phish +PHISH +3 ',
                    r'p2p +P2P +8 '):
            self.assertRegex(r.stdout, row)
        r = self.sb.client_run([CTL, 'config', 'get', 'filter-lists'], cgroup=False, timeout=30)
        self.assertEqual(r.stdout, 'ADS; TRAC; MAL; PHISH; CRYPTOMINING; CUSTOM\n')


class PerProfileListsTests(ResolverCase):
    # no list globally: each test says where TRAC is on
    SETTINGS = '[global]\ndefault-action=allow\nfilter-lists=\n'

    @classmethod
    def lists_dir(cls):
        # a list directory as shipped: TRAC lists tracker.test
        lists = os.path.join(cls.dir, 'lists')
        os.mkdir(lists)
        with open(os.path.join(lists, 'trac.txt'), 'w') as f:
            f.write('# trackers\ntracker.test\n')
        subprocess.run(SIGN + ['index', lists, '--serial', '1'], check=True, capture_output=True)
        os.chmod(lists, 0o755)
        return lists

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the second program of each kind: the same binary at another path
        cls.exe = {'kdig': shutil.which('kdig'), 'curl': shutil.which('curl')}
        for name in ('kdig', 'curl'):
            copy = os.path.join(cls.dir, f'{name}-other')
            shutil.copy(cls.exe[name], copy)
            os.chmod(copy, 0o755)
            cls.exe[name + '-other'] = copy
        # profile 'strict' is kdig and curl, 'relaxed' their copies
        cls.profile = {}
        for pname, exes in (('strict', ['kdig', 'curl']),
                            ('relaxed', ['kdig-other', 'curl-other'])):
            fps = ', '.join(f"'path:{os.path.realpath(cls.exe[e])}'" for e in exes)
            cls.profile[pname] = cls.call('CreateProfile', f"({{'name': <'{pname}'>, "
                                                           f"'fingerprints': <[{fps}]>}},)")[0]

    @classmethod
    def call(cls, method, args):
        res = cls.sb.client_run([PYTHON, PCDBUS, 'call', method, args], timeout=30)
        r = json.loads(res.stdout.splitlines()[-1])
        if not r.get('ok'):
            raise AssertionError(f'{method} {args}: {r} {res.stderr}')
        return r['result']

    def ctl(self, *args):
        r = self.sb.client_run([CTL, *args], cgroup=False, timeout=30)
        self.assertEqual(r.returncode, 0, f'portcullisctl {args}: {r.stderr}')
        return r.stdout

    def resolve(self, kdig):
        return self.kdig('tracker.test', self.exe[kdig])

    def fetch(self, curl):
        """curl to http://tracker.test/ at the peer's address without asking DNS itself: the
        packet path names the connection by the resolver's earlier answer."""
        r = self.sb.client_run([self.exe[curl], '-sS', '-o', '/dev/null', '-w', '%{http_code}',
                                '--max-time', '4', '--resolve', f'tracker.test:80:{PUB4}',
                                'http://tracker.test/'], timeout=20)
        return r.stdout

    def new_flow(self, n_before, pred):
        """The first decision logged after the first n_before that matches pred."""
        return wait_until(lambda: next((f for f in flows(self.sb)[n_before:] if pred(f)), None),
                          timeout=5, what='a matching flow in the helper log:\n'
                          + '\n'.join(map(str, flows(self.sb)[n_before:])))

    def check(self, blocked, allowed, source):
        kdig = {'strict': 'kdig', 'relaxed': 'kdig-other'}
        curl = {'strict': 'curl', 'relaxed': 'curl-other'}
        n = len(flows(self.sb))
        # the resolver: refused to one profile, answered to the other
        self.assertEqual(self.resolve(kdig[blocked]), 'NXDOMAIN')
        self.assertEqual(self.resolve(kdig[allowed]), [PUB4])
        # the packet path: the connection carries the name (from the answer above) and is
        # judged by each program's own profile
        self.assertNotEqual(self.fetch(curl[blocked]), '200')
        self.assertEqual(self.fetch(curl[allowed]), '200')
        f = self.new_flow(n, lambda f: f['comm'] == curl[blocked] and f['rport'] == 80)
        self.assertEqual((f['verdict'], f['reason']), ('block', f'filter list TRAC ({source})'))
        f = self.new_flow(n, lambda f: f['comm'] == curl[allowed] and f['rport'] == 80)
        self.assertEqual(f['verdict'], 'allow', f)

    def test_1_enabled_in_one_profile(self):
        self.ctl('app', 'set', self.profile['strict'], 'filter-lists', 'TRAC')
        eff = self.call('GetEffectiveSettings', f"('{self.profile['strict']}',)")[0]
        self.assertEqual(eff['filter-lists'], [['TRAC'], 'profile'])
        self.check('strict', 'relaxed', "profile 'strict'")

    def test_2_enabled_globally_and_off_in_one_profile(self):
        self.ctl('app', 'unset', self.profile['strict'], 'filter-lists')
        self.ctl('config', 'set', 'filter-lists', 'TRAC')
        self.ctl('app', 'set', self.profile['relaxed'], 'filter-lists', '')
        try:
            self.check('strict', 'relaxed', 'global')
            # and the other way round: only the override decides
            self.ctl('app', 'set', self.profile['strict'], 'filter-lists', '')
            self.ctl('app', 'unset', self.profile['relaxed'], 'filter-lists')
            self.check('relaxed', 'strict', 'global')
        finally:
            self.ctl('config', 'reset', 'filter-lists')


if __name__ == '__main__':
    pcsandbox.unittest_main()
