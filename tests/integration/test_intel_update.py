#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Signed filter-list updates over HTTP from the sandbox's peer ("the internet").

The list server is the peer's HTTP server (build-aux/sandbox-servers.py --static-dir, at
http://203.0.113.10/static/), the lists are signed with build-aux/pc-sign-index, and the updater
(tests/test-intel-fetch, the helper's update code) runs in the client namespace. Each case checks
what a user would see: the new lists answer after a good update; after a bad signature, a wrong
sum, a truncated file or an unreachable server the last good lists still answer, and the reason
is reported.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.environ['PC_SOURCE_DIR'], 'build-aux'))
import pcsandbox  # noqa: E402

BUILD = os.environ['PC_BUILD_DIR']
SIGN = [sys.executable, os.path.join(os.environ['PC_SOURCE_DIR'], 'build-aux', 'pc-sign-index')]
FETCH = os.path.join(BUILD, 'tests', 'test-intel-fetch')


def sign_tool(*args):
    res = subprocess.run(SIGN + list(args), capture_output=True, text=True)
    if res.returncode != 0:
        raise AssertionError(f'pc-sign-index {args[0]} failed: {res.stdout}{res.stderr}')


class IntelUpdateTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='test-intel-update-')
        os.chmod(cls.tmp, 0o755)
        cls.served = os.path.join(cls.tmp, 'served')
        cls.keys = os.path.join(cls.tmp, 'keys')
        os.mkdir(cls.served)
        os.mkdir(cls.keys)
        sign_tool('keygen', os.path.join(cls.tmp, 'good'))
        sign_tool('keygen', os.path.join(cls.tmp, 'other'))
        shutil.copy(os.path.join(cls.tmp, 'good.pub'), cls.keys)
        cls.sb = pcsandbox.Sandbox(BUILD, helper=False, bus=False, cgroup=False,
                                   servers_args=['--static-dir', cls.served])
        cls.sb.start()

    @classmethod
    def tearDownClass(cls):
        cls.sb.close()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.state = tempfile.mkdtemp(prefix='state-', dir=self.tmp)
        for name in os.listdir(self.served):
            os.unlink(os.path.join(self.served, name))

    def publish(self, serial, domains, key='good'):
        with open(os.path.join(self.served, 'mal.txt'), 'w') as f:
            f.write(''.join(d + '\n' for d in domains))
        sign_tool('index', self.served, '--serial', str(serial))
        sign_tool('sign', self.served, os.path.join(self.tmp, key + '.key'))

    def fetch(self, *domains, url=f'http://{pcsandbox.PUBLIC_V4}/static/'):
        res = self.sb.client_run([FETCH, url, self.keys, self.state] + list(domains), timeout=60)
        lines = dict(line.split(': ', 1) if ': ' in line else (line.rstrip(':'), '-')
                     for line in res.stdout.splitlines())
        return res.returncode, lines, res.stdout + res.stderr

    def install_good(self):
        self.publish(5, ['old.example'])
        rc, out, log = self.fetch('old.example')
        self.assertEqual(rc, 0, log)
        self.assertEqual(out['result'], 'updated', log)
        self.assertEqual(out['old.example'], 'MAL', log)

    def assert_kept(self, rc, out, log, reason):
        self.assertEqual(rc, 1, log)
        self.assertEqual(out['installed'], 'yes', log)
        self.assertIn(reason, out['result'], log)
        self.assertEqual(out['old.example'], 'MAL', log)
        self.assertEqual(out['x.new.example'], '-', log)

    def test_good_update(self):
        self.install_good()
        rc, out, log = self.fetch('old.example')
        self.assertEqual((rc, out['installed'], out['result']), (0, 'yes', 'up-to-date'), log)
        self.publish(6, ['new.example'])
        rc, out, log = self.fetch('x.new.example', 'old.example')
        self.assertEqual(rc, 0, log)
        self.assertEqual(out['result'], 'updated', log)
        self.assertEqual(out['x.new.example'], 'MAL', log)
        self.assertEqual(out['old.example'], '-', log)

    def test_bad_signature(self):
        self.install_good()
        self.publish(6, ['new.example'], key='other')
        rc, out, log = self.fetch('old.example', 'x.new.example')
        self.assert_kept(rc, out, log, 'bad signature')

    def test_wrong_sum(self):
        self.install_good()
        self.publish(6, ['new.example'])
        with open(os.path.join(self.served, 'mal.txt'), 'w') as f:
            f.write('bad.example\n')  # same size as "new.example\n"
        rc, out, log = self.fetch('old.example', 'x.new.example')
        self.assert_kept(rc, out, log, 'sha256')

    def test_truncated_file(self):
        self.install_good()
        self.publish(6, ['new.example', 'more.example'])
        with open(os.path.join(self.served, 'mal.txt'), 'r+') as f:
            f.truncate(10)
        rc, out, log = self.fetch('old.example', 'x.new.example')
        self.assert_kept(rc, out, log, 'truncated')

    def test_server_down(self):
        self.install_good()
        self.publish(6, ['new.example'])
        # nothing listens on port 81 of the peer: connection refused
        rc, out, log = self.fetch('old.example', 'x.new.example',
                                  url=f'http://{pcsandbox.PUBLIC_V4}:81/static/')
        self.assert_kept(rc, out, log, 'index.json')


if __name__ == '__main__':
    pcsandbox.unittest_main()
